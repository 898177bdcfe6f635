"""DRF throttles of the API keys (README "Abuse limits and security headers").

Every request made with an API key counts against that key's rate (API_RATE_PER_KEY), and its writes
(POST, PUT, PATCH, DELETE: purchases, grants, events, imports) also against a stricter one
(API_WRITE_RATE_PER_KEY). Keyed on the key's id, so one integration over its rate slows no other key,
and the site's other keys keep their own budgets. Dashboard sessions using the API are not throttled here.

The counters are the pages' (creatorhub.ratelimits: fixed windows in the cache, let through when the
cache fails, so that a Redis outage never costs a purchase). Over a rate, DRF raises Throttled: a 429 in
the API's error format (`{"code": "throttled", "message": ...}`) with Retry-After, the seconds left in
the window.
"""

from rest_framework.throttling import BaseThrottle

from creatorhub.models import ApiKey
from creatorhub.ratelimits import Limit

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ApiKeyRateThrottle(BaseThrottle):
    limit = Limit("api-key", "API_RATE_PER_KEY")

    def applies(self, request) -> bool:
        return True

    def allow_request(self, request, view) -> bool:
        self.seconds = None
        api_key = request.auth
        if not isinstance(api_key, ApiKey) or not self.applies(request):
            return True
        self.seconds = self.limit.hit(request, str(api_key.pk))
        return self.seconds is None

    def wait(self) -> int | None:
        return self.seconds


class ApiKeyWriteRateThrottle(ApiKeyRateThrottle):
    limit = Limit("api-key-write", "API_WRITE_RATE_PER_KEY")

    def applies(self, request) -> bool:
        return request.method in WRITES
