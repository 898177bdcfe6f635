from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from creatorhub.api import views
from creatorhub.api.schema import ServedSchemaGenerator

SITE = r"sites/(?P<site>[-a-zA-Z0-9_]+)"

swagger_ui = SpectacularSwaggerSplitView.as_view(url_name="api:schema")

router = SimpleRouter()
router.register(r"sites", views.SiteListView, basename="site")
router.register(rf"{SITE}/api-keys", views.ApiKeyViewSet, basename="api-key")
router.register(rf"{SITE}/members", views.MemberViewSet, basename="member")
router.register(rf"{SITE}/invitations", views.InvitationViewSet, basename="invitation")
router.register(rf"{SITE}/audit-log", views.AuditLogViewSet, basename="audit-log")

urlpatterns = [
    path("health/", views.HealthView.as_view(), name="health"),
    path("schema/", SpectacularAPIView.as_view(generator_class=ServedSchemaGenerator), name="schema"),
    # The split view serves its start-up script as a file (the CSP refuses inline scripts); Swagger UI
    # sets inline styles, which this page alone may.
    path("docs/", csp_update({"style-src": [UNSAFE_INLINE]})(swagger_ui), name="docs"),
    path("sites/<slug:site>/", views.SiteDetailView.as_view(), name="site-detail"),
    *router.urls,
]
