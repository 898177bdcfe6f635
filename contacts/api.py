"""The contacts app's own API under /api/v1/sites/<site>/: sign-up forms."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.response import Response

from contacts import services
from contacts.models import Form
from contacts.serializers import FormSerializer
from creatorhub.api.base import SiteViewSet
from creatorhub.roles import Scope


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
