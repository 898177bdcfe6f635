"""The contacts API, mounted under /api/v1/."""

from rest_framework.routers import SimpleRouter

from contacts import api
from creatorhub.api.urls import SITE

router = SimpleRouter()
router.register(rf"{SITE}/contacts", api.ContactViewSet, basename="contact")
router.register(rf"{SITE}/forms", api.FormViewSet, basename="form")

urlpatterns = router.urls
