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


def envfilestorage(name: str, *, link_seconds: int) -> dict:
    """The STORAGES entry of uploaded and written files: "filesystem" (MEDIA_ROOT) or "s3" (django-storages,
    configured by S3_BUCKET, S3_ENDPOINT_URL, S3_REGION, S3_PREFIX and S3_ADDRESSING_STYLE; boto3 finds the
    credentials). Private objects, downloaded through links signed for `link_seconds`."""
    kind = os.environ.get(name, "filesystem").strip().lower()
    if kind == "filesystem":
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    if kind != "s3":
        raise ImproperlyConfigured(f"{name} must be filesystem or s3; got {kind!r}.")
    bucket = os.environ.get("S3_BUCKET", "").strip()
    if not bucket:
        raise ImproperlyConfigured(f"S3_BUCKET must be set when {name} is s3.")
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": os.environ.get("S3_ENDPOINT_URL") or None,  # another provider than AWS
            "region_name": os.environ.get("S3_REGION") or None,
            "location": os.environ.get("S3_PREFIX", ""),  # a folder of a shared bucket
            "addressing_style": os.environ.get("S3_ADDRESSING_STYLE") or None,  # "path" for most clones
            "default_acl": None,  # the bucket's own: private
            "querystring_auth": True,
            "querystring_expire": link_seconds,
            "file_overwrite": False,
        },
    }


_RATE = re.compile(r"[1-9][0-9]*/(?:[1-9][0-9]*)?[smhd]")


def envrate(name: str, default: str) -> str:
    """A rate limit, "N/period": at most N in each window of the period (s, m, h or d, with an optional
    multiple: "10/15m"), as django-ratelimit reads it."""
    value = os.environ.get(name, default).strip()
    if not _RATE.fullmatch(value):
        raise ImproperlyConfigured(f'{name} must look like "10/15m" (N per s, m, h or d); got {value!r}.')
    return value
