"""Saving the Contacts tab's view as a segment, renaming one, changing its filters and deleting it."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.views import View
from django.views.generic.base import ContextMixin, TemplateResponseMixin

from audience import segments
from audience.forms import (
    FilterBuilder,
    SegmentForm,
)
from audience.services import saved_segments
from audience.views.tab import ContactTabPage, Shown, builder_context, pluralize, segment_url, shown_from
from contacts.errors import ContactError, SegmentError
from contacts.models import Segment
from creatorhub.roles import Scope
from creatorhub.tenancy import SitePageMixin

# -- Saved segments -----------------------------------------------------------------------------------


def saved_filters(shown: Shown) -> dict:
    """What "Save as segment" saves: the segment's filters, those on top, and the search as a filter."""
    filters = shown.filters["all"]
    if shown.q:
        filters = [*filters, {"field": "search", "op": "contains", "value": shown.q}]
    return {"all": filters}


class SegmentCreateView(ContactTabPage):
    scope_map = {"POST": Scope.CONTACTS_WRITE}

    def post(self, request, site):
        shown, problem = shown_from(request.site, request.POST)
        form = SegmentForm(request.POST)
        if problem:
            form.add_error(None, problem)
        elif form.is_valid():
            try:
                segment = saved_segments.create_segment(
                    request.site,
                    name=form.cleaned_data["name"],
                    filters=saved_filters(shown),
                    acting_user=request.user,
                )
            except (ContactError, SegmentError) as error:
                form.add_error("name" if error.field == "name" else None, error.message)
            else:
                n = segments.count(request.site, filters=segment.filters)
                messages.success(request, f"Saved the segment “{segment.name}”: {pluralize(n, 'contact')}.")
                return redirect(segment_url(request.site, segment))
        return self.render_tab(shown, save_form=form, status=400)


class SegmentEditView(SitePageMixin, TemplateResponseMixin, ContextMixin, View):
    """Rename a saved segment and edit its filters, with the same builder as the tab."""

    template_name = "app/contacts/segment_edit.html"
    scope_map = {"GET": Scope.CONTACTS_WRITE, "POST": Scope.CONTACTS_WRITE}

    def get(self, request, site, pk):
        segment = get_object_or_404(Segment, pk=pk)
        builder = FilterBuilder.from_filters(segment.filters)
        return self.render_page(segment, SegmentForm(initial={"name": segment.name}), builder)

    def post(self, request, site, pk):
        segment = get_object_or_404(Segment, pk=pk)
        form = SegmentForm(request.POST)
        builder = FilterBuilder.from_data(request.POST)
        command = request.POST.get("builder", "save")
        if command != "save":  # a button of the builder, without JavaScript
            builder.edit(command, request.POST)
            return self.render_page(segment, form, builder)
        if form.is_valid():
            try:
                saved_segments.update_segment(
                    request.site, segment=segment, name=form.cleaned_data["name"], filters=builder.filters()
                )
            except (ContactError, SegmentError) as error:
                form.add_error("name" if error.field == "name" else None, error.message)
            else:
                messages.success(request, f"Saved the segment “{segment.name}”.")
                return redirect(segment_url(request.site, segment))
        segment.refresh_from_db()
        return self.render_page(segment, form, builder, status=400)

    def render_page(self, segment, form, builder, *, status=200):
        context = builder_context(self.request.site, builder, shown=None, draft=True)
        return self.render_to_response(
            self.get_context_data(segment=segment, form=form, builder_for="segment", **context), status=status
        )


class SegmentDeleteView(SitePageMixin, View):
    scope_map = {"POST": Scope.CONTACTS_WRITE}

    def post(self, request, site, pk):
        segment = get_object_or_404(Segment, pk=pk)
        name = segment.name
        saved_segments.delete_segment(request.site, segment=segment)
        messages.success(request, f"Deleted the segment “{name}”. No contact was changed.")
        return redirect("contacts", site=site)
