"""The emails API under /api/v1/sites/<site>/: the email log and the automated emails' templates."""

import django_filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from contacts.models import Contact
from creatorhub.api.base import SiteViewSet
from creatorhub.roles import Scope
from emails import services
from emails.models import EmailKind, EmailStatus, EmailTemplate, OutboundEmail
from emails.rendering import VARIABLES, TemplateParts, default_parts
from emails.serializers import (
    EmailTemplateInputSerializer,
    EmailTemplateListSerializer,
    EmailTemplateSerializer,
    OutboundEmailSerializer,
    PreviewInputSerializer,
    PreviewSerializer,
)


class OutboundEmailFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=EmailStatus.choices)
    kind = django_filters.ChoiceFilter(choices=EmailKind.choices)

    class Meta:
        model = OutboundEmail
        fields = ["status", "kind"]


class OutboundEmailViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, SiteViewSet):
    """The email log: every automated email of the site, newest first, with its status — queued, sent,
    failed (`error` says why) or suppressed (`error` gives the reason: a hard bounce or a complaint).
    Filters: `status`, `kind`."""

    model = OutboundEmail
    serializer_class = OutboundEmailSerializer
    filterset_class = OutboundEmailFilter
    scope_map = {"GET": Scope.EMAILS_READ}


class EmailTemplateViewSet(SiteViewSet):
    """The site's automated emails by kind: each one's template (its own, or the shipped default, then
    `is_default` is true). PUT saves the site's own (refused with the field and the error when it does not
    compile or uses a variable the kind lacks); DELETE restores the default."""

    model = EmailTemplate
    serializer_class = EmailTemplateSerializer
    pagination_class = None
    lookup_field = "kind"
    lookup_value_regex = "[a-z_]+"
    scope_map = {
        "GET": Scope.EMAILS_READ,
        "PUT": Scope.EMAILS_EDIT,
        "DELETE": Scope.EMAILS_EDIT,
        "POST": Scope.EMAILS_EDIT,
    }

    @extend_schema(responses=EmailTemplateListSerializer)
    def list(self, request, site):
        rows = [self._represent(row) for row in services.site_templates(self.site)]
        return Response({"results": rows, "next": None, "previous": None})

    def retrieve(self, request, site, kind):
        return Response(self._represent(self._template(kind)))

    @extend_schema(request=EmailTemplateInputSerializer, responses=EmailTemplateSerializer)
    def update(self, request, site, kind):
        current = self._template(kind)
        form = EmailTemplateInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        services.save_template(
            self.site,
            kind=current.kind,
            acting_user=None if self.access.api_key else request.user,
            **form.validated_data,
        )
        return Response(self._represent(self._template(kind)))

    @extend_schema(responses={204: None})
    def destroy(self, request, site, kind):
        """Restores the shipped default: the site's own template is deleted."""
        services.restore_default(self.site, kind=self._template(kind).kind)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=PreviewInputSerializer, responses=PreviewSerializer)
    @action(detail=True, methods=["post"])
    def preview(self, request, site, kind):
        """The email rendered for `contact` (one of the site's contacts) or the sample contact."""
        current = self._template(kind)
        form = PreviewInputSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        contact = None
        if form.validated_data.get("contact") is not None:
            contact = Contact.objects.filter(pk=form.validated_data["contact"]).first()  # in the scope
            if contact is None:
                raise NotFound("No such contact.")
        rendered = services.preview(self.site, kind=current.kind, contact=contact)
        return Response(rendered._asdict())

    def _template(self, kind: str) -> services.SiteTemplate:
        if kind not in EmailKind.values:
            raise NotFound("No such email.")
        custom = self.get_queryset().filter(kind=kind).first()
        parts = (
            TemplateParts(custom.subject, custom.body_text, custom.body_html)
            if custom is not None
            else default_parts(kind)
        )
        return services.SiteTemplate(kind, EmailKind(kind).label, parts, custom)

    @staticmethod
    def _represent(row: services.SiteTemplate) -> dict:
        return EmailTemplateSerializer(
            {
                "kind": row.kind,
                "name": row.label,
                **row.parts._asdict(),
                "is_default": row.is_default,
                "updated_at": row.custom.updated_at if row.custom else None,
                "variables": [variable.name for variable in VARIABLES[row.kind]],
            }
        ).data
