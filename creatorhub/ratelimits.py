"""Rate limits (README "Abuse limits and security headers"): one mechanism for the pages strangers reach
(the dashboard and member-area logins, the member password reset, the public sign-up forms) and for the
API's keys (creatorhub.api.throttling).

A `Limit` names a counter (its group) and the setting that holds its rate ("10/15m": at most 10 in each
15-minute window). The counters are django-ratelimit's: fixed windows in the cache (Redis in production),
each key's window offset by a hash of the key, the key hashed into the cache key (no address or email is
stored in clear). `hit` counts a request and says how long to wait when it is over the rate; `reached`
only looks, for counters of failures that `count` adds to after a failure, and `clear` forgets them (a
password reset). A refusal is a 429 whose Retry-After is the time left in the window (`refuse`).

When the cache fails, a limit lets the request through and logs why: a login page that failed with the
cache would shut everyone out. The dashboard keeps django-axes' lockout, which lives in the database.
"""

import ipaddress
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django_ratelimit import ALL
from django_ratelimit.core import _get_window, _make_cache_key, _split_rate, get_usage

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    group: str  # the counter's name; keys of different groups never share a count
    setting: str  # the name of the setting that holds the rate

    @property
    def rate(self) -> str:
        return getattr(settings, self.setting)

    def hit(self, request: HttpRequest, key: str) -> int | None:
        """Counts this request under `key`; the seconds to wait when that puts it over the rate, else None."""
        usage = self._usage(request, key, increment=True)
        return _wait(usage) if usage and usage["count"] > usage["limit"] else None

    def reached(self, request: HttpRequest, key: str) -> int | None:
        """Without counting: the seconds to wait when `key` has used up the rate already, else None."""
        usage = self._usage(request, key, increment=False)
        return _wait(usage) if usage and usage["count"] >= usage["limit"] else None

    def count(self, request: HttpRequest, key: str) -> None:
        """Counts one more under `key` (a failure, after it happened)."""
        self._usage(request, key, increment=True)

    def clear(self, key: str) -> None:
        """Forgets the count under `key` in the current window. django-ratelimit has no call for it: this
        deletes the cache key `get_usage` counts in (tests/creatorhub/test_password_reset.py proves it)."""
        _, period = _split_rate(self.rate)
        try:
            cache.delete(_make_cache_key(self.group, _get_window(key, period), self.rate, key, ALL))
        except Exception as error:
            logger.warning("Rate limit %s not cleared: the cache failed (%s)", self.group, error)

    def _usage(self, request: HttpRequest, key: str, *, increment: bool) -> dict | None:
        try:
            return get_usage(
                request, group=self.group, key=lambda group, request: key, rate=self.rate, increment=increment
            )
        except Exception as error:  # the cache is down: let the request through rather than fail it
            logger.warning("Rate limit %s not checked: the cache failed (%s)", self.group, error)
            return None


def _wait(usage: dict) -> int:
    return max(1, usage["time_left"])


def client_address(request: HttpRequest) -> str:
    """The visitor's address as the web server saw it (REMOTE_ADDR), an IPv6 /64 counting as one address
    (one subscriber's network); "" when it is not an address.

    X-Forwarded-For is never read: anyone can send it. Behind a reverse proxy, the deployment must make
    REMOTE_ADDR the client's address (README "Deploying"), or every visitor shares the proxy's limits.
    """
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return ""
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return str(address)


def normalized_email(value) -> str:
    """An email address as a counter's key: trimmed and lower-cased, so that "Ana@X" counts as "ana@x"."""
    return str(value or "").strip().lower()[:254]


def refuse(response: HttpResponse, wait: int) -> HttpResponse:
    """Makes `response` the answer to a request over a limit: 429 Too Many Requests, with Retry-After."""
    response.status_code = 429
    response["Retry-After"] = str(wait)
    return response


def wait_words(seconds: int) -> str:
    """How long to wait, in words: "a minute", "12 minutes", "2 hours"."""
    minutes = -(-seconds // 60)  # rounded up
    if minutes <= 1:
        return "a minute"
    if minutes < 120:
        return f"{minutes} minutes"
    return f"{-(-minutes // 60)} hours"
