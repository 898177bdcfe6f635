"""Site API keys in `Authorization: Bearer <key>`."""

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from creatorhub import selectors, services


class ApiKeyUser(AnonymousUser):
    """The caller behind an API key: authenticated, but no dashboard user."""

    def __init__(self, api_key):
        self.api_key = api_key

    @property
    def is_authenticated(self):
        return True

    @property
    def is_anonymous(self):
        return False

    def __str__(self):
        return f"API key {self.api_key.prefix}"


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request):
        words = get_authorization_header(request).split()
        if not words or words[0].lower() != b"bearer":
            return None
        if len(words) != 2:
            raise AuthenticationFailed("Send the key as 'Authorization: Bearer <key>'.")
        api_key = selectors.api_key_for_secret(words[1].decode("latin-1"))
        if api_key is None:
            raise AuthenticationFailed("This API key is not valid: it is unknown or revoked.")
        services.record_api_key_use(api_key=api_key)
        return ApiKeyUser(api_key), api_key

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A site API key, created by the site's owner.",
        }
