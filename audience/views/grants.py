"""Granting an offer to one contact, a list of emails or a segment from the offer's page: a grant job,
whose progress page is offers'. The offer's page shows the form; when the form is refused, it is shown
again, with its errors, on a page of its own."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic.base import ContextMixin, TemplateResponseMixin

from audience.services.grant_jobs import start_grant_job
from contacts.models import Contact
from creatorhub.forms import add_domain_error
from creatorhub.roles import Scope
from creatorhub.tenancy import SitePageMixin
from offers.errors import GrantError
from offers.forms import GrantForm
from offers.models import Offer
from offers.selectors import describe_target, require_in_scope
from offers.services.access import Granter


class OfferGrantView(SitePageMixin, TemplateResponseMixin, ContextMixin, View):
    template_name = "app/offers/grant.html"
    scope_map = {"POST": Scope.OFFERS_GRANT}

    def post(self, request, site, pk):
        offer = get_object_or_404(Offer, pk=pk)
        require_in_scope(Contact.objects.all(), request.POST.getlist("contact_ids"))
        form = GrantForm(request.POST, contacts=Contact.objects.all())
        if form.is_valid():
            try:
                job = start_grant_job(
                    request.site,
                    offer=offer,
                    target=form.target(),
                    send_grant_email=form.cleaned_data["send_grant_email"],
                    by=Granter(user=request.user),
                )
            except GrantError as error:
                if error.field == "offer":  # archived: the page shows no form to carry the error
                    messages.error(request, error.message)
                else:
                    add_domain_error(form, error)
            else:
                messages.success(request, f"Granting “{offer.title}” to {describe_target(job.target)}.")
                return redirect("grant-job", site=site, pk=job.pk)
        return self.render_page(offer, form, status=400)

    def render_page(self, offer, form, *, status=200):
        return self.render_to_response(self.get_context_data(offer=offer, grant_form=form), status=status)
