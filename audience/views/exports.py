"""Dashboard pages of exports: start one from the Contacts tab's selection, follow its progress, list
the site's exports and download a finished file — never a public URL: the file is read inside the
site's scope, so another site's export is a 404."""

import json

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.cache import patch_vary_headers
from django.views import View
from django.views.generic import TemplateView

from audience.services import exports
from contacts.errors import ExportError
from contacts.export_files import download_response
from contacts.models import Export, JobStatus
from creatorhub.paging import BadCursor, keyset_page
from creatorhub.roles import Scope
from creatorhub.tenancy import SitePageMixin


def selection_from(post) -> dict:
    """The selection the Contacts tab posts: chosen `contact_ids`, or `segment`, `filters` (JSON) and
    `search` for all that match."""
    ids = post.getlist("contact_ids")
    if ids:
        try:
            return {"contact_ids": [int(pk) for pk in ids]}
        except ValueError:
            raise ExportError("The chosen contacts are not valid.", field="contact_ids") from None
    selection = {"segment": post.get("segment") or "all", "search": post.get("q", post.get("search", ""))}
    if post.get("filters"):
        try:
            selection["filters"] = json.loads(post["filters"])
        except ValueError:
            raise ExportError("The filters are not valid.", field="filters") from None
    return selection


class ExportCreateView(SitePageMixin, View):
    scope_map = {"POST": Scope.EXPORTS_RUN}

    def post(self, request, site):
        try:
            export = exports.start_export(
                request.site, selection=selection_from(request.POST), acting_user=request.user
            )
        except ExportError as error:
            messages.error(request, f"The export could not start: {error.message}")
            return redirect("contacts", site=site)
        messages.success(
            request, f"Exporting {export.segment_name}: the file is ready below when it is written."
        )
        return redirect("export-detail", site=site, pk=export.pk)


class ExportListView(SitePageMixin, TemplateView):
    template_name = "app/exports/list.html"
    scope_map = {"GET": Scope.EXPORTS_RUN}

    def get(self, request, site):
        try:
            page, next_cursor = keyset_page(
                Export.objects.select_related("created_by"), cursor=request.GET.get("before", "")
            )
        except BadCursor:
            raise Http404("This page link is not valid.") from None
        next_url = f"{request.path}?before={next_cursor}" if next_cursor else None
        return self.render_to_response(
            self.get_context_data(exports=page, next_url=next_url, kept_days=settings.EXPORT_FILES_KEPT_DAYS)
        )


class ExportDetailView(SitePageMixin, TemplateView):
    """An export's progress and its download link. While it runs, htmx asks for the progress part
    every two seconds and gets the partial alone."""

    template_name = "app/exports/detail.html"
    scope_map = {"GET": Scope.EXPORTS_RUN}

    def get(self, request, site, pk):
        export = get_object_or_404(Export.objects.select_related("created_by"), pk=pk)
        context = self.get_context_data(
            export=export,
            polling=export.status in (JobStatus.QUEUED, JobStatus.RUNNING),
            kept_days=settings.EXPORT_FILES_KEPT_DAYS,
        )
        if request.htmx:
            self.template_name = "app/exports/_progress.html"
        response = self.render_to_response(context)
        patch_vary_headers(response, ["HX-Request"])
        return response


class ExportDownloadView(SitePageMixin, View):
    scope_map = {"GET": Scope.EXPORTS_RUN}

    def get(self, request, site, pk):
        return download_response(get_object_or_404(Export, pk=pk))
