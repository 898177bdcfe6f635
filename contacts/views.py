"""Dashboard pages of the contacts app: the contact list and page, their actions, and the forms pages.

Every page runs inside the site's scope (creatorhub.tenancy.SitePageMixin): each id from the URL is
looked up there, so another site's contact or form is a 404. Writes go through contacts.services.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic import TemplateView
from django.views.generic.base import ContextMixin, TemplateResponseMixin

from contacts import services
from contacts.errors import ConsentError, ContactError, FormError
from contacts.forms import ContactForm, SignupFormForm, SubscribeForm, TagsForm
from contacts.models import (
    ConsentEvent,
    ConsentSource,
    Contact,
    ContactOrigin,
    Form,
    SubscriptionStatus,
    UnsubscribeReason,
)
from contacts.selectors import explain
from contacts.services import Consent
from contacts.tab_views import ContactListView  # noqa: F401 - mounted by contacts.urls as the tab
from creatorhub.explanations import timeline_of
from creatorhub.roles import Scope
from creatorhub.tenancy import SitePageMixin

# "Never subscribed — added by hand": how a contact came to be, when no consent event says more.
ORIGIN_PHRASES = {
    ContactOrigin.MANUAL: "added by hand",
    ContactOrigin.FORM: "added by a form",
    ContactOrigin.IMPORT: "added by import",
    ContactOrigin.PURCHASE: "added by a purchase",
    ContactOrigin.GRANT: "added by a grant",
    ContactOrigin.API: "added through the API",
}


# -- Contacts -----------------------------------------------------------------------------------------
# The Contacts tab — the list with its segments, filters and actions — is contacts.tab_views.


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
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, f"Added {contact.email}, not subscribed to marketing email.")
                return redirect("contact-detail", site=site, pk=contact.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ContactPage(SitePageMixin, TemplateResponseMixin, ContextMixin, View):
    """The contact page: profile, status with its cause, consent history, tags. Its actions subclass it
    to render it again, with status 400, when their input is refused."""

    template_name = "app/contacts/detail.html"

    def get_context_data(self, *, contact, **kwargs):
        history = list(
            ConsentEvent.objects.filter(contact=contact).select_related("actor_user", "actor_api_key", "form")
        )
        current = (contact.subscription_status, contact.unsubscribe_reason)
        # The latest event that set the current status; none when it is the status the contact was added
        # with (or the data was written by hand).
        cause = next((e for e in history if (e.to_status, e.to_reason) == current), None)
        kwargs.setdefault("subscribe_form", SubscribeForm())
        kwargs.update(self.timeline_context(contact))
        return super().get_context_data(
            contact=contact,
            history=history,
            cause=cause,
            origin_phrase=ORIGIN_PHRASES.get(contact.origin, "added"),
            # Why they are or are not a customer and an active customer, with what decided it.
            explanation=explain(contact),
            tags=list(contact.tags.all()),
            # The team may (re)subscribe a contact who never subscribed, is pending, or whom the
            # team itself unsubscribed; contacts.services.subscribe enforces it, this only hides the form.
            team_may_subscribe=contact.subscription_status != SubscriptionStatus.SUBSCRIBED
            and contact.unsubscribe_reason in (None, UnsubscribeReason.MANUAL),
            **kwargs,
        )

    def timeline_context(self, contact) -> dict:
        """The Activity section: what the contact did, newest first, 20 at a time (`?activity_before=`),
        from the activity app through creatorhub.explanations (None when it is not installed)."""
        before = self.request.GET.get("activity_before", "")
        found = timeline_of(contact, before=before)
        if found is None:
            return {"timeline": None}
        rows, next_cursor = found
        path = self.request.path
        next_url = f"{path}?{urlencode({'activity_before': next_cursor})}" if next_cursor else None
        return {
            "timeline": rows,
            "timeline_first_url": path if before else None,
            "timeline_next_url": next_url,
        }

    def render_contact(self, contact, *, status=200, **kwargs):
        return self.render_to_response(self.get_context_data(contact=contact, **kwargs), status=status)


class ContactDetailView(ContactPage):
    scope_map = {"GET": Scope.CONTACTS_READ}

    def get(self, request, site, pk):
        return self.render_contact(get_object_or_404(Contact, pk=pk))


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
                form.add_error(error.field if error.field in form.fields else None, error.message)
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


class ContactSubscribeView(ContactPage):
    scope_map = {"POST": Scope.CONTACTS_WRITE}

    def post(self, request, site, pk):
        contact = get_object_or_404(Contact, pk=pk)
        form = SubscribeForm(request.POST)
        if form.is_valid():
            consent = Consent(
                source=ConsentSource.TEAM,
                note=form.cleaned_data["statement"],
                user=request.user,
                ip=request.META.get("REMOTE_ADDR") or None,
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
            )
            try:
                services.subscribe(request.site, contact=contact, by=consent)
            except ConsentError as error:
                if error.field == "consent":
                    form.add_error("statement", error.message)
                else:
                    messages.error(request, error.message)
            else:
                messages.success(request, f"{contact.email} is subscribed to marketing email.")
                return redirect("contact-detail", site=site, pk=contact.pk)
        return self.render_contact(contact, subscribe_form=form, status=400)


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
                form.add_error(error.field if error.field in form.fields else None, error.message)
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
                form.add_error(error.field if error.field in form.fields else None, error.message)
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
