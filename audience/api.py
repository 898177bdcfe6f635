"""The audience API under /api/v1/sites/<site>/: contacts (filtered by segment, with their consent
history and why), segments, bulk actions, exports, and grants of an offer to many contacts."""

import json

import django_filters
from django.db import connection
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response

from audience import segments, selectors
from audience.serializers import (
    BulkActionInput,
    BulkActionSerializer,
    ConsentEventSerializer,
    ContactCreateSerializer,
    ContactDetailSerializer,
    ContactSerializer,
    ContactUpdateSerializer,
    CountSerializer,
    ExportSerializer,
    SegmentInput,
    SegmentPreviewInput,
    SegmentSerializer,
    SegmentUpdateInput,
    SelectionInput,
    SubscribeSerializer,
    TagsSerializer,
    UnsubscribeSerializer,
)
from audience.services import bulk_actions, exports, saved_segments
from audience.services.grant_jobs import run_grant_job, start_grant_job
from contacts import selectors as contact_selectors
from contacts import services
from contacts.errors import SegmentError
from contacts.export_files import download_response
from contacts.models import (
    BulkAction,
    ConsentEvent,
    ConsentSource,
    Contact,
    ContactOrigin,
    Export,
    JobStatus,
    Segment,
    SubscriptionStatus,
    UnsubscribeReason,
)
from creatorhub.api.base import SiteAPIView, SiteViewSet
from creatorhub.api.pagination import SameShape
from creatorhub.roles import Scope
from offers.models import Offer
from offers.serializers import GrantInput, GrantJobSerializer
from offers.services import access as access_services


class ContactFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(field_name="subscription_status", choices=SubscriptionStatus.choices)
    reason = django_filters.ChoiceFilter(field_name="unsubscribe_reason", choices=UnsubscribeReason.choices)
    customer = django_filters.BooleanFilter(field_name="is_customer")
    tag = django_filters.CharFilter(method="filter_tag", help_text="A tag name, any case.")
    q = django_filters.CharFilter(method="filter_search", help_text="Text in the name or email.")

    class Meta:
        model = Contact
        fields = ["status", "reason", "customer", "tag", "q"]

    def filter_tag(self, queryset, name, value):
        return queryset.filter(contact_tags__tag__name__lower=value.strip().lower())

    def filter_search(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(email__icontains=value) | Q(name__icontains=value)) if value else queryset


def segment_filters(view) -> dict | None:
    """The cleaned filters of the `segment` and `filters` query parameters; None when neither is given."""
    params = view.request.query_params
    if "segment" not in params and "filters" not in params:
        return None
    filters = segments.resolve(params.get("segment", "all")).filters
    if "filters" in params:
        try:
            extra = json.loads(params["filters"])
        except (ValueError, RecursionError):  # RecursionError: JSON nested too deeply
            raise ValidationError({"filters": ["Give the filters as JSON."]}) from None
        filters = {"all": filters["all"] + segments.clean(view.site, extra)["all"]}
    return filters


def in_segment(view, queryset):
    """The contacts of the `segment` and `filters` query parameters (the segment engine's query)."""
    filters = segment_filters(view)
    return queryset if filters is None else queryset.filter(segments.condition(view.site, filters))


def consent_of(view, statement: str) -> services.Consent:
    """The consent evidence of an API call: its statement, who made it, and from where."""
    request = view.request
    return services.Consent(
        source=ConsentSource.API,
        note=statement,
        api_key=view.access.api_key,
        user=view.acting_user,
        ip=request.META.get("REMOTE_ADDR"),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )


class ContactViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, SiteViewSet):
    """A site's contacts, newest first. Filters: `status`, `reason`, `customer`, `tag`, `q`."""

    model = Contact
    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    scope_map = {
        "GET": Scope.CONTACTS_READ,
        "POST": Scope.CONTACTS_WRITE,
        "PATCH": Scope.CONTACTS_WRITE,
        "DELETE": Scope.CONTACTS_WRITE,
    }
    action_scopes = {"tags": {"POST": Scope.CONTACTS_TAG}, "personal_data": {"GET": Scope.EXPORTS_RUN}}

    def filter_queryset(self, queryset):
        """django-filter builds and validates a form of ContactFilter's fields: only when one is asked."""
        if self.request.query_params.keys() & ContactFilter.base_filters.keys():
            return super().filter_queryset(queryset)
        return queryset

    def safely_get_queryset(self, queryset):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no site
            return queryset
        if self.action == "list":
            return selectors.with_tags_and_offers(in_segment(self, queryset))  # flags: page_of
        queryset = selectors.with_active_customer_flag(self.site, queryset)
        return queryset.prefetch_related("accesses__offer")  # the explanation's

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "segment", str, description="all, customers, subscribed or a saved segment's id."
            ),
            OpenApiParameter("filters", str, description="Segment filters as JSON (see segments/)."),
        ]
    )
    def list(self, request, site):
        """A segment's contacts with `segment` and/or `filters` (JSON), newest first, cursor-paged."""
        if connection.vendor != "postgresql":
            return super().list(request, site)
        # The page's SQL depends on the site, the request's filters and (for day filters) the site's day
        # only: on PostgreSQL, the ORM builds it once for each (SameShape; the contacts benchmark's API
        # pages need it). Values that do not clean never get built: they are refused each time.
        params = request.query_params
        fields = sorted((name, params.getlist(name)) for name in params if name in ContactFilter.base_filters)
        filters = json.dumps([segment_filters(self), fields])
        key = (self.site.pk, self.site.time_zone, self.site.today(), filters)
        page = self.paginate_queryset(SameShape(key, lambda: self.filter_queryset(self.get_queryset())))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def get_serializer_class(self):
        return ContactDetailSerializer if self.action == "retrieve" else ContactSerializer

    @extend_schema(request=ContactCreateSerializer, responses={201: ContactDetailSerializer})
    def create(self, request, site):
        data = self.valid_input(ContactCreateSerializer)
        contact = services.create_contact(
            self.site,
            email=data["email"],
            name=data["name"],
            fields=data["fields"],
            tags=data["tags"],
            origin=ContactOrigin.API,
            consent=consent_of(self, data["consent"]) if data.get("consent") else None,
        )
        return Response(self._detail(contact), status=status.HTTP_201_CREATED)

    @extend_schema(request=ContactUpdateSerializer, responses=ContactDetailSerializer)
    def partial_update(self, request, site, pk):
        data = self.valid_input(ContactUpdateSerializer, partial=True)
        contact = services.update_contact(self.site, contact=self.get_object(), **data)
        return Response(self._detail(contact))

    @extend_schema(responses={204: None})
    def destroy(self, request, site, pk):
        services.delete_contact(self.site, contact=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=SubscribeSerializer, responses=ContactDetailSerializer)
    @action(detail=True, methods=["post"])
    def subscribe(self, request, site, pk):
        """Records the contact's consent, stated in `consent`. Refused for someone who unsubscribed."""
        data = self.valid_input(SubscribeSerializer)
        contact = self.get_object()
        services.subscribe(self.site, contact=contact, by=consent_of(self, data["consent"]))
        return Response(self._detail(contact))

    @extend_schema(request=UnsubscribeSerializer, responses=ContactDetailSerializer)
    @action(detail=True, methods=["post"])
    def unsubscribe(self, request, site, pk):
        data = self.valid_input(UnsubscribeSerializer)
        contact = self.get_object()
        services.unsubscribe(
            self.site,
            contact=contact,
            reason=data["reason"],
            by=consent_of(self, "Unsubscribed through the API"),
        )
        return Response(self._detail(contact))

    @extend_schema(request=TagsSerializer, responses=ContactDetailSerializer)
    @action(detail=True, methods=["post"])
    def tags(self, request, site, pk):
        """Adds the tags of `add` and removes those of `remove` (names, any case)."""
        data = self.valid_input(TagsSerializer)
        contact = self.get_object()
        services.change_tags(self.site, contact=contact, add=data["add"], remove=data["remove"])
        return Response(self._detail(contact))

    @extend_schema(responses=ConsentEventSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="consent-events")
    def consent_events(self, request, site, pk):
        """The contact's consent history, newest first."""
        contact = self.get_object()
        events = ConsentEvent.objects.filter(contact=contact).select_related(
            "actor_user", "actor_api_key", "form"
        )
        self.keyset_field = "occurred_at"
        page = self.paginate_queryset(events)
        return self.get_paginated_response(ConsentEventSerializer(page, many=True).data)

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"], url_path="personal-data")
    def personal_data(self, request, site, pk):
        """Everything the site holds about the contact (for an access request), as JSON."""
        return Response(contact_selectors.personal_data(self.get_object()))

    def _detail(self, contact):
        fresh = self.get_queryset().get(pk=contact.pk)
        return ContactDetailSerializer(fresh, context=self.get_serializer_context()).data


SEGMENT_KEY = OpenApiParameter(
    "id", str, OpenApiParameter.PATH, description="all, customers, subscribed or a saved segment's id."
)


@extend_schema_view(
    retrieve=extend_schema(parameters=[SEGMENT_KEY]),
    partial_update=extend_schema(parameters=[SEGMENT_KEY]),
    destroy=extend_schema(parameters=[SEGMENT_KEY]),
)
class SegmentViewSet(SiteViewSet):
    """The default segments (`all`, `customers`, `subscribed`) and the saved ones, each with its `count`.
    A segment's contacts: `contacts/?segment=<id>`. `preview/` counts filters before they are saved."""

    model = Segment
    serializer_class = SegmentSerializer
    lookup_value_regex = "[^/]+"
    scope_map = {
        "GET": Scope.CONTACTS_READ,
        "POST": Scope.CONTACTS_WRITE,
        "PATCH": Scope.CONTACTS_WRITE,
        "DELETE": Scope.CONTACTS_WRITE,
    }
    action_scopes = {"preview": {"POST": Scope.CONTACTS_READ}}

    def list(self, request, site):
        found = [segments.resolve(key) for key in segments.DEFAULT_SEGMENTS]
        found += [segments.ResolvedSegment.of(s) for s in self.get_queryset()]
        data = SegmentSerializer(found, many=True, context=self.get_serializer_context()).data
        return Response({"results": data, "next": None, "previous": None})

    def retrieve(self, request, site, pk):
        return Response(self._out(self._segment(pk)))

    @extend_schema(request=SegmentInput, responses={201: SegmentSerializer})
    def create(self, request, site):
        data = self.valid_input(SegmentInput)
        saved = saved_segments.create_segment(self.site, **data, acting_user=self.acting_user)
        return Response(self._out(segments.resolve(str(saved.pk))), status=status.HTTP_201_CREATED)

    @extend_schema(request=SegmentUpdateInput, responses=SegmentSerializer)
    def partial_update(self, request, site, pk):
        data = self.valid_input(SegmentUpdateInput)
        saved = saved_segments.update_segment(self.site, segment=self._saved(pk), **data)
        return Response(self._out(segments.resolve(str(saved.pk))))

    @extend_schema(responses={204: None})
    def destroy(self, request, site, pk):
        saved_segments.delete_segment(self.site, segment=self._saved(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=SegmentPreviewInput, responses=CountSerializer)
    @action(detail=False, methods=["post"])
    def preview(self, request, site):
        """How many contacts `filters` (and `search`) match, before saving them."""
        data = self.valid_input(SegmentPreviewInput)
        filters = segments.clean(self.site, data["filters"])
        return Response({"count": segments.count(self.site, filters=filters, search=data["search"])})

    def _segment(self, pk) -> segments.ResolvedSegment:
        try:
            return segments.resolve(pk)
        except SegmentError:
            raise NotFound("No such segment.") from None

    def _saved(self, pk) -> Segment:
        segment = self._segment(pk)
        if segment.saved is None:
            raise ValidationError({"segment": ["The default segments cannot be changed."]})
        return segment.saved

    def _out(self, segment) -> dict:
        return SegmentSerializer(segment, context=self.get_serializer_context()).data


class BulkActionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, SiteViewSet):
    """Actions on many contacts at once: chosen ones or all that a segment matches. Small selections
    are done before the answer (201); larger ones run as a job (202): follow its URL for progress."""

    model = BulkAction
    serializer_class = BulkActionSerializer
    scope_map = {"GET": Scope.CONTACTS_READ, "POST": Scope.CONTACTS_TAG}

    @extend_schema(request=BulkActionInput, responses={201: BulkActionSerializer, 202: BulkActionSerializer})
    def create(self, request, site):
        data = self.valid_input(BulkActionInput)
        kind = data.pop("kind")
        if bulk_actions.SCOPE_OF[kind] not in self.access.scopes:
            raise PermissionDenied(
                f"The {self.access.role} role may not do this (it needs {bulk_actions.SCOPE_OF[kind]})."
            )
        params = {key: data.pop(key) for key in ("tag", "consent", "offer") if key in data}
        started = bulk_actions.start_bulk_action(
            self.site, kind=kind, selection=data, params=params, acting_user=self.acting_user
        )
        done = self.get_queryset().get(pk=started.pk)
        code = status.HTTP_201_CREATED if done.status == JobStatus.DONE else status.HTTP_202_ACCEPTED
        body = BulkActionSerializer(done).data
        return Response(body, status=code, headers={"Location": self._url(done)})

    def _url(self, action) -> str:
        return self.request.build_absolute_uri(
            reverse("audience-api:bulk-action-detail", args=[self.site.slug, action.pk])
        )


class ExportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, SiteViewSet):
    """CSV exports of a segment (or of chosen contacts), written by a job: POST answers 202 with the
    export's URL; once `status` is done, `download_url` gives the file."""

    model = Export
    serializer_class = ExportSerializer
    scope_map = {"GET": Scope.EXPORTS_RUN, "POST": Scope.EXPORTS_RUN}

    @extend_schema(request=SelectionInput, responses={202: ExportSerializer})
    def create(self, request, site):
        data = self.valid_input(SelectionInput)
        started = exports.start_export(self.site, selection=data, acting_user=self.acting_user)
        export = self.get_queryset().get(pk=started.pk)
        url = self.request.build_absolute_uri(
            reverse("audience-api:export-detail", args=[self.site.slug, export.pk])
        )
        body = ExportSerializer(export, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": url})

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def download(self, request, site, pk):
        """The CSV file (404 until the export is done)."""
        return download_response(self.get_object())


RUN_NOW_UP_TO = 100  # grants to this many listed contacts are answered at once; larger ones become jobs


class OfferGrantsView(SiteAPIView):
    """POST /offers/<id>/grants/: grants an offer to contacts, a list of emails or a segment."""

    scope_map = {"POST": Scope.OFFERS_GRANT}

    @extend_schema(request=GrantInput, responses={201: GrantJobSerializer, 202: GrantJobSerializer})
    def post(self, request, site, pk):
        """Grants the offer to `contact_ids`, `emails` (creating contacts) or a `segment` (and/or
        `filters`, with `search`: everyone they match when the job runs). Up to 100
        listed contacts are granted at once (201, with the accesses created and the skips); more, or a
        segment, run as a job (202): follow its URL for progress."""
        data = self.valid_input(GrantInput)
        keys = ("contact_ids", "emails", "segment", "filters", "search")
        target = {key: data[key] for key in keys if data.get(key)}
        listed = not {"segment", "filters"} & set(target)
        run_now = listed and len(next(iter(target.values()))) <= RUN_NOW_UP_TO
        job = start_grant_job(
            self.site,
            offer=get_object_or_404(Offer, pk=pk),
            target=target,
            send_grant_email=data["send_grant_email"],
            by=access_services.Granter(user=self.acting_user, api_key=self.access.api_key),
            queue=not run_now,
        )
        if run_now:
            job = run_grant_job(self.site, job=job)
        body = GrantJobSerializer(job).data
        body["url"] = request.build_absolute_uri(f"/api/v1/sites/{self.site.slug}/grants/{job.pk}/")
        return Response(body, status=status.HTTP_201_CREATED if run_now else status.HTTP_202_ACCEPTED)
