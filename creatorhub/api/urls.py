from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from creatorhub.api import views

SITE = r"sites/(?P<site>[-a-zA-Z0-9_]+)"

router = SimpleRouter()
router.register(r"sites", views.SiteListView, basename="site")
router.register(rf"{SITE}/api-keys", views.ApiKeyViewSet, basename="api-key")
router.register(rf"{SITE}/members", views.MemberViewSet, basename="member")
router.register(rf"{SITE}/invitations", views.InvitationViewSet, basename="invitation")

urlpatterns = [
    path("health/", views.HealthView.as_view(), name="health"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("sites/<slug:site>/", views.SiteDetailView.as_view(), name="site-detail"),
    *router.urls,
]
