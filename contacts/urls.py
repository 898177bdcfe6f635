"""Dashboard pages of the contacts app, mounted under /app/<site>/."""

urlpatterns = []
