"""The contacts API, mounted under /api/v1/."""

urlpatterns = []
