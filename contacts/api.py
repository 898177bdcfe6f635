"""The contacts API under /api/v1/sites/<site>/: contacts, their consent history, and forms."""

import django_filters
from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from contacts import services
from contacts.models import (
    ConsentEvent,
    ConsentSource,
    Contact,
    ContactOrigin,
    Form,
    SubscriptionStatus,
    UnsubscribeReason,
)
from contacts.serializers import (
    ConsentEventSerializer,
    ContactCreateSerializer,
    ContactDetailSerializer,
    ContactSerializer,
    ContactUpdateSerializer,
    FormSerializer,
    SubscribeSerializer,
    TagsSerializer,
    UnsubscribeSerializer,
)
from creatorhub.api.base import SiteViewSet
from creatorhub.roles import Scope


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
    action_scopes = {"tags": {"POST": Scope.CONTACTS_TAG}}

    def safely_get_queryset(self, queryset):
        return queryset.prefetch_related("tags", "accesses__offer")

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

    def _detail(self, contact):
        fresh = self.get_queryset().get(pk=contact.pk)
        return ContactDetailSerializer(fresh, context=self.get_serializer_context()).data


class FormViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, SiteViewSet):
    """A site's sign-up forms. Deleting a form archives it: it stops taking sign-ups, its history stays."""

    model = Form
    serializer_class = FormSerializer
    scope_map = {
        "GET": Scope.FORMS_READ,
        "POST": Scope.FORMS_EDIT,
        "PATCH": Scope.FORMS_EDIT,
        "DELETE": Scope.FORMS_EDIT,
    }

    def create(self, request, site):
        form = FormSerializer(data=request.data, context=self.get_serializer_context())
        form.is_valid(raise_exception=True)
        created = services.create_form(self.site, **form.validated_data)
        return Response(
            FormSerializer(created, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    def partial_update(self, request, site, pk):
        instance = self.get_object()
        form = FormSerializer(
            instance, data=request.data, partial=True, context=self.get_serializer_context()
        )
        form.is_valid(raise_exception=True)
        updated = services.update_form(self.site, form=instance, **form.validated_data)
        return Response(FormSerializer(updated, context=self.get_serializer_context()).data)

    @extend_schema(responses={204: None})
    def destroy(self, request, site, pk):
        services.archive_form(self.site, form=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
