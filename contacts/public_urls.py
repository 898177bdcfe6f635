"""Public pages: sign-up forms, subscription confirmation and unsubscribe links."""

urlpatterns = []
