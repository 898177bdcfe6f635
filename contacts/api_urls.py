"""The contacts API, mounted under /api/v1/."""

from rest_framework.routers import SimpleRouter

from contacts import api
from contacts.imports.api import ImportViewSet
from creatorhub.api.urls import SITE

router = SimpleRouter()
router.register(rf"{SITE}/contacts", api.ContactViewSet, basename="contact")
router.register(rf"{SITE}/forms", api.FormViewSet, basename="form")
router.register(rf"{SITE}/segments", api.SegmentViewSet, basename="segment")
router.register(rf"{SITE}/bulk-actions", api.BulkActionViewSet, basename="bulk-action")
router.register(rf"{SITE}/exports", api.ExportViewSet, basename="export")
router.register(rf"{SITE}/imports", ImportViewSet, basename="import")

urlpatterns = router.urls
