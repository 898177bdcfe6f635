"""Tiny helpers that read settings from the environment and refuse a bad value with a clear message."""

import os
import re

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def envbool(name: str, default: str) -> bool:
    value = os.environ.get(name, default).strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of true/false, yes/no, on/off, 1/0; got {value!r}.")


def envint(name: str, default: str) -> int:
    value = os.environ.get(name, default).strip()
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {value!r}.") from None


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def envstr(name: str, default: str) -> str:
    return os.environ.get(name, default)


_RATE = re.compile(r"[1-9][0-9]*/(?:[1-9][0-9]*)?[smhd]")


def envrate(name: str, default: str) -> str:
    """A rate limit, "N/period": at most N in each window of the period (s, m, h or d, with an optional
    multiple: "10/15m"), as django-ratelimit reads it."""
    value = os.environ.get(name, default).strip()
    if not _RATE.fullmatch(value):
        raise ImproperlyConfigured(f'{name} must look like "10/15m" (N per s, m, h or d); got {value!r}.')
    return value
