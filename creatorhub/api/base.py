"""The base classes of every site endpoint under /api/v1/sites/<site>/ (see creatorhub.tenancy)."""

from contextlib import ExitStack

from rest_framework import generics, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.views import APIView

from creatorhub import audit
from creatorhub.models import ApiKey, Site
from creatorhub.tenancy import access_for, required_scope, site_scope


class SiteEndpointMixin:
    """Resolves the site from the URL, checks the caller's access and the scope the HTTP method needs
    (`scope_map`, or `action_scopes[action]` for a viewset action), and runs the whole handler inside
    the site's scope.

    Subclasses set `model` and may narrow the scoped queryset in `safely_get_queryset`; they may not
    override `get_queryset` or `get_object`, which is where the scope is applied.
    """

    scope_map: dict[str, str] = {}
    action_scopes: dict[str, dict[str, str]] = {}  # a viewset action that needs other scopes than scope_map
    model = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in ("get_queryset", "get_object"):
            if name in cls.__dict__:
                raise TypeError(f"{cls.__name__} overrides {name}; write safely_get_queryset instead.")

    def dispatch(self, request, *args, **kwargs):
        self.site = None
        # The site's scope is entered in initial(), once the caller is known; who acts is named there too.
        with ExitStack() as self._scopes, audit.acting(request):
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)  # authentication first: no site is told to strangers
        self.site = self._site_named(kwargs.get("site", ""), api_key=self._api_key(request))
        if self.site is None:
            raise NotFound("No such site.")
        self._scopes.enter_context(site_scope(self.site))
        self.access = access_for(self.site, user=request.user, api_key=self._api_key(request))
        if self.access is None:
            raise NotFound("No such site.")
        audit.identify(user=request.user, api_key=self.access.api_key)
        if not hasattr(self, request.method.lower()):
            return  # the handler answers 405
        needed = required_scope(
            self.action_scopes.get(getattr(self, "action", None), self.scope_map), request.method
        )
        if needed is not None and needed not in self.access.scopes:
            raise PermissionDenied(f"The {self.access.role} role may not do this (it needs {needed}).")

    def get_queryset(self):
        return self.safely_get_queryset(self.model.objects.all())

    @property
    def acting_user(self):
        """The dashboard user behind the request; None when an API key acts."""
        return None if self.access.api_key is not None else self.request.user

    def valid_input(self, serializer_class, **kwargs) -> dict:
        """The request's body, validated by `serializer_class` (a 400 with field errors otherwise)."""
        form = serializer_class(data=self.request.data, **kwargs)
        form.is_valid(raise_exception=True)
        return form.validated_data

    def safely_get_queryset(self, queryset):
        return queryset

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["site"] = self.site
        return context

    @staticmethod
    def _site_named(slug: str, *, api_key: ApiKey | None) -> Site | None:
        """The site of the URL: an API key's own, read with it (a query fewer for every call an
        integration makes), else looked up."""
        if api_key is not None and api_key.site.slug == slug:
            return api_key.site
        return Site.objects.select_related("plan").filter(slug=slug).first()

    @staticmethod
    def _api_key(request):
        return request.auth if isinstance(request.auth, ApiKey) else None


class SiteAPIView(SiteEndpointMixin, APIView):
    pass


class SiteGenericAPIView(SiteEndpointMixin, generics.GenericAPIView):
    pass


class SiteViewSet(SiteEndpointMixin, viewsets.GenericViewSet):
    pass
