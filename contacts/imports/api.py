"""The imports API under /api/v1/sites/<site>/imports/, all of it behind `imports:run`."""

from django.db import transaction
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from contacts.imports import services
from contacts.imports.serializers import ImportDetailSerializer, ImportInput, ImportSerializer
from contacts.imports.views import report_response
from contacts.models import Import
from creatorhub.api.base import SiteViewSet
from creatorhub.roles import Scope


class ImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, SiteViewSet):
    """Contact imports, newest first. POST a CSV (multipart): 202 with the import's URL, which shows its
    progress and, once done, how many contacts were created and updated and which rows were skipped."""

    model = Import
    serializer_class = ImportSerializer
    parser_classes = [MultiPartParser, FormParser]
    scope_map = {"GET": Scope.IMPORTS_RUN, "POST": Scope.IMPORTS_RUN}

    def safely_get_queryset(self, queryset):
        return queryset.select_related("created_by")

    def get_serializer_class(self):
        return ImportDetailSerializer if self.action == "retrieve" else ImportSerializer

    @extend_schema(request={"multipart/form-data": ImportInput}, responses={202: ImportDetailSerializer})
    def create(self, request, site):
        data = self.valid_input(ImportInput)
        with transaction.atomic():
            imp = services.upload_import(
                self.site,
                file=data["file"],
                subscribe=data["subscribe"],
                consent=data["consent"],
                everyone=data["everyone"],
                tags=data["tags"],
                mapping_given=data.get("mapping") or {},  # checked before the file is kept
                by=services.Importer(user=self.acting_user, api_key=self.access.api_key),
            )
            services.start_import(self.site, contact_import=imp)
        body = ImportDetailSerializer(
            self.get_queryset().get(pk=imp.pk), context=self.get_serializer_context()
        )
        location = request.build_absolute_uri(
            reverse("contacts-api:import-detail", args=[self.site.slug, imp.pk])
        )
        return Response(body.data, status=status.HTTP_202_ACCEPTED, headers={"Location": location})

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def report(self, request, site, pk):
        """The rows not imported, as CSV: row, column, message (the file's first row is row 1)."""
        return report_response(self.get_object())
