"""The offers API, mounted under /api/v1/."""

from rest_framework.routers import SimpleRouter

from creatorhub.api.urls import SITE
from offers import api

router = SimpleRouter()
router.register(rf"{SITE}/offers", api.OfferViewSet, basename="offer")
router.register(rf"{SITE}/grants", api.GrantJobViewSet, basename="grant")
router.register(rf"{SITE}/accesses", api.AccessViewSet, basename="access")
router.register(rf"{SITE}/products", api.ProductViewSet, basename="product")
router.register(rf"{SITE}/purchases", api.PurchaseViewSet, basename="purchase")

urlpatterns = router.urls
