"""The contacts API, mounted under /api/v1/."""

from rest_framework.routers import SimpleRouter

from contacts.api import FormViewSet
from contacts.imports.api import ImportViewSet
from creatorhub.api.urls import SITE

router = SimpleRouter()
router.register(rf"{SITE}/forms", FormViewSet, basename="form")
router.register(rf"{SITE}/imports", ImportViewSet, basename="import")

urlpatterns = router.urls
