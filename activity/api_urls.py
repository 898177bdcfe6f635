"""The activity API, mounted under /api/v1/."""

from rest_framework.routers import SimpleRouter

from activity import api
from creatorhub.api.urls import SITE

router = SimpleRouter()
router.register(rf"{SITE}/events", api.EventViewSet, basename="event")

urlpatterns = router.urls
