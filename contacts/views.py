"""Dashboard pages of the contacts app: adding, editing, tagging, unsubscribing and deleting a contact,
a contact's personal data, and the forms pages. The Contacts tab and the contact page are audience's.

Every page runs inside the site's scope (creatorhub.tenancy.SitePageMixin): each id from the URL is
looked up there, so another site's contact or form is a 404. Writes go through contacts.services.
"""

from django.contrib import messages
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic import TemplateView

from contacts import services
from contacts.errors import ContactError, FormError
from contacts.forms import ContactForm, SignupFormForm, TagsForm
from contacts.models import (
    ConsentSource,
    Contact,
    Form,
    SubscriptionStatus,
    UnsubscribeReason,
)
from contacts.selectors import personal_data
from contacts.services import Consent
from creatorhub.forms import add_domain_error
from creatorhub.roles import Scope
from creatorhub.tenancy import SitePageMixin

# -- Contacts -----------------------------------------------------------------------------------------


class ContactCreateView(SitePageMixin, TemplateView):
    template_name = "app/contacts/new.html"
    scope_map = {"GET": Scope.CONTACTS_WRITE, "POST": Scope.CONTACTS_WRITE}

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", ContactForm())
        return super().get_context_data(**kwargs)

    def post(self, request, site):
        form = ContactForm(request.POST)
        if form.is_valid():
            try:
                contact = services.create_contact(request.site, **form.cleaned_data)
            except ContactError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, f"Added {contact.email}, not subscribed to marketing email.")
                return redirect("contact-detail", site=site, pk=contact.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ContactEditView(SitePageMixin, TemplateView):
    template_name = "app/contacts/edit.html"
    scope_map = {"GET": Scope.CONTACTS_WRITE, "POST": Scope.CONTACTS_WRITE}

    def get(self, request, site, pk):
        contact = get_object_or_404(Contact, pk=pk)
        form = ContactForm(initial={"email": contact.email, "name": contact.name})
        return self.render_to_response(self.get_context_data(contact=contact, form=form))

    def post(self, request, site, pk):
        contact = get_object_or_404(Contact, pk=pk)
        form = ContactForm(request.POST)
        if form.is_valid():
            try:
                services.update_contact(request.site, contact=contact, **form.cleaned_data)
            except ContactError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, f"Saved {contact.email}.")
                return redirect("contact-detail", site=site, pk=contact.pk)
        contact.refresh_from_db()
        return self.render_to_response(self.get_context_data(contact=contact, form=form), status=400)


class ContactTagsView(SitePageMixin, View):
    scope_map = {"POST": Scope.CONTACTS_TAG}

    def post(self, request, site, pk):
        contact = get_object_or_404(Contact, pk=pk)
        form = TagsForm(request.POST)
        if not form.is_valid():
            messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
            return redirect("contact-detail", site=site, pk=contact.pk)
        try:
            if form.cleaned_data["add"]:
                tags = services.add_tags(request.site, contact=contact, names=form.cleaned_data["add"])
                names = ", ".join(f"“{tag.name}”" for tag in tags)
                messages.success(request, f"Tagged {contact.email} {names}.")
            else:
                name = form.cleaned_data["remove"]
                if services.remove_tags(request.site, contact=contact, names=[name]):
                    messages.success(request, f"Removed the tag “{name}” from {contact.email}.")
                else:
                    messages.info(request, f"{contact.email} did not have the tag “{name}”.")
        except ContactError as error:
            messages.error(request, error.message)
        return redirect("contact-detail", site=site, pk=contact.pk)


class ContactUnsubscribeView(SitePageMixin, View):
    scope_map = {"POST": Scope.CONTACTS_WRITE}

    def post(self, request, site, pk):
        contact = get_object_or_404(Contact, pk=pk)
        if contact.subscription_status == SubscriptionStatus.UNSUBSCRIBED:
            messages.info(request, f"{contact.email} is unsubscribed already.")
            return redirect("contact-detail", site=site, pk=contact.pk)
        consent = Consent(
            source=ConsentSource.TEAM,
            note=f"Unsubscribed by {request.user.email}",
            user=request.user,
            ip=request.META.get("REMOTE_ADDR") or None,
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
        services.unsubscribe(request.site, contact=contact, reason=UnsubscribeReason.MANUAL, by=consent)
        messages.success(request, f"{contact.email} is unsubscribed: they get no more marketing email.")
        return redirect("contact-detail", site=site, pk=contact.pk)


class ContactDeleteView(SitePageMixin, TemplateView):
    template_name = "app/contacts/delete.html"
    scope_map = {"GET": Scope.CONTACTS_WRITE, "POST": Scope.CONTACTS_WRITE}

    def get(self, request, site, pk):
        return self.render_to_response(self.get_context_data(contact=get_object_or_404(Contact, pk=pk)))

    def post(self, request, site, pk):
        contact = get_object_or_404(Contact, pk=pk)
        email = contact.email
        services.delete_contact(request.site, contact=contact)
        messages.success(request, f"Deleted {email} and their consent history.")
        return redirect("contacts", site=site)


# -- Forms --------------------------------------------------------------------------------------------


class FormListView(SitePageMixin, TemplateView):
    template_name = "app/forms/list.html"
    scope_map = {"GET": Scope.FORMS_READ}

    def get_context_data(self, **kwargs):
        forms = Form.objects.annotate(submissions=Count("form_submissions")).order_by("-created_at", "-id")
        return super().get_context_data(forms=forms, **kwargs)


class FormCreateView(SitePageMixin, TemplateView):
    template_name = "app/forms/edit.html"
    scope_map = {"GET": Scope.FORMS_EDIT, "POST": Scope.FORMS_EDIT}

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", SignupFormForm())
        return super().get_context_data(**kwargs)

    def post(self, request, site):
        form = SignupFormForm(request.POST)
        if form.is_valid():
            try:
                signup_form = services.create_form(request.site, **form.cleaned_data)
            except FormError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, f"Created the form “{signup_form.name}”.")
                return redirect("forms", site=site)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class FormEditView(SitePageMixin, TemplateView):
    template_name = "app/forms/edit.html"
    scope_map = {"GET": Scope.FORMS_READ, "POST": Scope.FORMS_EDIT}

    def get(self, request, site, pk):
        signup_form = get_object_or_404(Form, pk=pk)
        form = SignupFormForm(initial=SignupFormForm.initial_from(signup_form))
        return self.render_to_response(self.get_context_data(signup_form=signup_form, form=form))

    def post(self, request, site, pk):
        signup_form = get_object_or_404(Form, pk=pk)
        form = SignupFormForm(request.POST)
        if form.is_valid():
            try:
                services.update_form(request.site, form=signup_form, **form.cleaned_data)
            except FormError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, f"Saved the form “{signup_form.name}”.")
                return redirect("forms", site=site)
        signup_form.refresh_from_db()
        return self.render_to_response(self.get_context_data(signup_form=signup_form, form=form), status=400)


class FormArchiveView(SitePageMixin, View):
    scope_map = {"POST": Scope.FORMS_EDIT}

    def post(self, request, site, pk):
        signup_form = get_object_or_404(Form, pk=pk)
        services.archive_form(request.site, form=signup_form)
        messages.success(request, f"Archived the form “{signup_form.name}”: it takes no more sign-ups.")
        return redirect("forms", site=site)


# -- A contact's personal data -------------------------------------------------------------------


class PersonalDataView(SitePageMixin, View):
    """A contact's data export for an access request: everything the site holds about them, as a JSON
    file to hand over."""

    scope_map = {"GET": Scope.EXPORTS_RUN}

    def get(self, request, site, pk):
        contact = get_object_or_404(Contact, pk=pk)
        response = JsonResponse(personal_data(contact), json_dumps_params={"indent": 2})
        response["Content-Disposition"] = f'attachment; filename="{site}-contact-{contact.pk}.json"'
        return response
