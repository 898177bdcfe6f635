"""Security headers and the login lockout's helpers (README "Abuse limits and security headers").

Django's SecurityMiddleware sends Referrer-Policy, X-Content-Type-Options, Cross-Origin-Opener-Policy
and, in production, Strict-Transport-Security; XFrameOptionsMiddleware sends X-Frame-Options;
django-csp's middleware sends Content-Security-Policy. This adds Permissions-Policy, which Django lacks.
"""

from django.conf import settings

from creatorhub.ratelimits import normalized_email


class PermissionsPolicyMiddleware:
    """Sends settings.PERMISSIONS_POLICY as the Permissions-Policy header of every response that has none."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.PERMISSIONS_POLICY:
            response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


def axes_username(request, credentials) -> str:
    """The account django-axes counts failures for (settings.AXES_USERNAME_CALLABLE): the email as
    typed in the login form's `username` field, trimmed and lower-cased (logins ignore its case, so the
    failures must too)."""
    raw = (credentials or {}).get("username")
    if raw is None:
        raw = request.POST.get("username")
    return normalized_email(raw)
