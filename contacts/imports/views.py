"""Dashboard pages of contact imports, under /app/<site>/imports/: the list, a new import (upload or
paste), the check of a draft's columns with a preview of its first rows, the progress and result of a
running or finished one, and its error report. All of them need `imports:run`.

Every page runs inside the site's scope (creatorhub.tenancy.SitePageMixin): an import of another site is
a 404. Writes go through contacts.imports.services.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.cache import patch_vary_headers
from django.views import View
from django.views.generic import TemplateView

from contacts.imports import mapping, reading, selectors, services
from contacts.imports.errors import ContactImportError
from contacts.imports.forms import ImportForm, MappingForm
from contacts.models import Import, ImportStatus
from creatorhub.forms import add_domain_error
from creatorhub.paging import BadCursor, keyset_page
from creatorhub.roles import Scope
from creatorhub.tenancy import SitePageMixin

ERRORS_SHOWN = 20


def report_response(imp: Import) -> StreamingHttpResponse:
    """The rows an import skipped, as a CSV attachment (row, column, message)."""
    response = StreamingHttpResponse(selectors.error_report(imp), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{imp.pk}-errors.csv"'
    return response


class ImportListView(SitePageMixin, TemplateView):
    template_name = "app/imports/list.html"
    scope_map = {"GET": Scope.IMPORTS_RUN}

    def get(self, request, site):
        imports = Import.objects.select_related("created_by", "created_by_api_key")
        before = request.GET.get("before", "")
        status = 200
        try:
            page, next_cursor = keyset_page(imports, cursor=before)
        except BadCursor:
            messages.error(request, "This page link is not valid: here are the newest imports.")
            page, next_cursor, before, status = *keyset_page(imports), "", 400
        context = self.get_context_data(
            imports=page,
            first_url=request.path if before else None,
            next_url=f"{request.path}?{urlencode({'before': next_cursor})}" if next_cursor else None,
        )
        return self.render_to_response(context, status=status)


class ImportCreateView(SitePageMixin, TemplateView):
    template_name = "app/imports/new.html"
    scope_map = {"GET": Scope.IMPORTS_RUN, "POST": Scope.IMPORTS_RUN}

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", ImportForm())
        return super().get_context_data(**kwargs)

    def post(self, request, site):
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                imp = services.upload_import(
                    request.site,
                    file=data["file"],
                    text=data["text"] if not data["file"] else "",
                    subscribe=data["subscribe"],
                    consent=data["consent"],
                    everyone=data["everyone"],
                    tags=data["tags"],
                    by=services.Importer(user=request.user),
                )
            except ContactImportError as error:
                add_domain_error(form, error)
            else:
                return redirect("import-detail", site=site, pk=imp.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ImportPage(SitePageMixin, TemplateView):
    """An import: while a draft, the check of its columns with a preview of its first rows; once
    started, its progress and result. While it runs, htmx asks for the page every two seconds (the
    request carries HX-Request) and gets the progress part alone."""

    scope_map = {"GET": Scope.IMPORTS_RUN}

    def get(self, request, site, pk):
        imp = get_object_or_404(Import.objects.select_related("created_by", "created_by_api_key"), pk=pk)
        if imp.status == ImportStatus.DRAFT:
            form = MappingForm(headers=imp.headers, targets=imp.mapping, everyone=imp.everyone)
            targets = imp.mapping
            try:
                mapping.clean(imp.headers, targets)
            except ContactImportError as error:  # no column recognised as the email: the page asks for one
                posted = {f"column_{n}": target for n, target in enumerate(targets)} | {
                    "everyone": imp.everyone
                }
                form, targets = MappingForm(posted, headers=imp.headers, targets=targets), None
                form.is_valid()
                form.add_error(None, error.message)
            return self.render_check(imp, form, targets)
        self.template_name = "app/imports/_progress.html" if request.htmx else "app/imports/detail.html"
        context = self.get_context_data(
            imp=imp,
            polling=imp.status in (ImportStatus.QUEUED, ImportStatus.RUNNING),
            errors=list(imp.row_errors.order_by("row", "id")[:ERRORS_SHOWN]),
            outcome_lines=[line for line in imp.outcome if line["created"] or line["updated"]],
            **_describe(imp),
        )
        response = self.render_to_response(context)
        patch_vary_headers(response, ["HX-Request"])
        return response

    def render_check(self, imp, form, targets, *, status=200):
        """The draft's page; `targets` is the mapping to preview (None when the form's is not valid)."""
        self.template_name = "app/imports/_check.html" if self.request.htmx else "app/imports/check.html"
        context = self.get_context_data(
            imp=imp,
            form=form,
            preview=selectors.preview(imp, targets=targets) if targets else None,
            forecast=selectors.forecast(imp, targets=targets) if targets else None,
            **_describe(imp),
        )
        return self.render_to_response(context, status=status)

    def checked_form(self, imp) -> tuple[MappingForm, list[str] | None]:
        """The posted mapping, and its targets when they make a mapping (else the form has the error);
        the draft (unsaved) takes what the form says of everyone in the file."""
        form = MappingForm(self.request.POST, headers=imp.headers, targets=imp.mapping, everyone=imp.everyone)
        if not form.is_valid():
            return form, None
        imp.everyone = form.cleaned_data["everyone"]
        try:
            return form, mapping.clean(imp.headers, form.targets())
        except ContactImportError as error:
            form.add_error(None, error.message)
            return form, None


def _describe(imp: Import) -> dict:
    return {
        "encoding_label": reading.ENCODINGS.get(imp.encoding, imp.encoding),
        "delimiter_label": reading.DELIMITERS.get(imp.delimiter, imp.delimiter),
        "columns": [
            {"header": header, "label": mapping.describe(target)}
            for header, target in zip(imp.headers, imp.mapping, strict=True)
        ],
    }


def _draft(pk) -> Import:
    return get_object_or_404(Import, pk=pk, status=ImportStatus.DRAFT)


class ImportPreviewView(ImportPage):
    """The preview with the mapping as posted (htmx posts it on each change)."""

    scope_map = {"POST": Scope.IMPORTS_RUN}

    def post(self, request, site, pk):
        imp = _draft(pk)
        form, targets = self.checked_form(imp)
        return self.render_check(imp, form, targets, status=200 if targets else 400)


class ImportStartView(ImportPage):
    scope_map = {"POST": Scope.IMPORTS_RUN}

    def post(self, request, site, pk):
        imp = _draft(pk)
        form, targets = self.checked_form(imp)
        if targets is None:
            return self.render_check(imp, form, None, status=400)
        services.start_import(request.site, contact_import=imp, mapping_given=targets, everyone=imp.everyone)
        messages.success(request, f"Importing {imp.filename}.")
        return redirect("import-detail", site=site, pk=imp.pk)


class ImportDiscardView(SitePageMixin, View):
    scope_map = {"POST": Scope.IMPORTS_RUN}

    def post(self, request, site, pk):
        imp = _draft(pk)
        services.discard_import(request.site, contact_import=imp)
        messages.success(request, f"Discarded {imp.filename}: nothing was imported.")
        return redirect("imports", site=site)


class ImportReportView(SitePageMixin, View):
    scope_map = {"GET": Scope.IMPORTS_RUN}

    def get(self, request, site, pk):
        return report_response(get_object_or_404(Import, pk=pk))
