"""The emails API, mounted under /api/v1/."""

from rest_framework.routers import SimpleRouter

from creatorhub.api.urls import SITE
from emails import api

router = SimpleRouter()
router.register(rf"{SITE}/emails", api.OutboundEmailViewSet, basename="email")
router.register(rf"{SITE}/email-templates", api.EmailTemplateViewSet, basename="email-templates")

urlpatterns = router.urls
