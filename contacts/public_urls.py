"""Public pages: sign-up forms, subscription confirmation and unsubscribe links."""

from django.urls import path

from contacts import public

urlpatterns = [
    path("f/<slug:site>/<slug:form>/", public.public_form, name="public-form"),
    path("c/<str:token>/", public.confirm_subscription, name="confirm-subscription"),
    path("u/<str:token>/", public.unsubscribe, name="unsubscribe"),
]
