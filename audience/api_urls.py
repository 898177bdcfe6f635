"""The audience API, mounted under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from audience import api
from creatorhub.api.urls import SITE

router = SimpleRouter()
router.register(rf"{SITE}/contacts", api.ContactViewSet, basename="contact")
router.register(rf"{SITE}/segments", api.SegmentViewSet, basename="segment")
router.register(rf"{SITE}/bulk-actions", api.BulkActionViewSet, basename="bulk-action")
router.register(rf"{SITE}/exports", api.ExportViewSet, basename="export")

urlpatterns = [
    path("sites/<slug:site>/offers/<int:pk>/grants/", api.OfferGrantsView.as_view(), name="offer-grants"),
    *router.urls,
]
