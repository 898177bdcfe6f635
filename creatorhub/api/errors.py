"""The API's error format: `{"code", "message", "fields"}`, JSON, never HTML."""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import InterfaceError, OperationalError, connection
from django.http import Http404, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler

from creatorhub.errors import DomainError


class PayloadTooLarge(exceptions.APIException):
    status_code = 413
    default_detail = "The request body is too large."
    default_code = "too_large"


def exception_handler(exc, context):
    if isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, TooManyFieldsSent | TooManyFilesSent):  # Django's limits on a form body
        exc = exceptions.ParseError(f"The request body is not valid: {exc}")
    elif isinstance(exc, DomainError):
        exc = exceptions.ValidationError({exc.field or "non_field_errors": [exc.message]})
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = drf_exception_handler(exc, context)
    if response is not None:
        response.data = error_body(exc)
    return response


def error_body(exc: exceptions.APIException) -> dict:
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        if isinstance(detail, dict):
            general = detail.pop("non_field_errors", None)
            message = str(general[0]) if general else "Some fields are not valid."
            body = {"code": "invalid", "message": message, "fields": detail}
            if general and len(general) > 1:
                body["errors"] = general
            return body
        messages = detail if isinstance(detail, list) else [detail]
        return {"code": "invalid", "message": " ".join(str(m) for m in messages), "fields": {}}
    detail = exc.detail
    code = getattr(detail, "code", None) or exc.default_code
    return {"code": code, "message": str(detail)}


# Django's own error pages (creatorhub.urls: handler400 and the others) answer the API's format under
# /api/: a URL that names no endpoint (`contacts/0.5/`), a request Django refuses before any view runs,
# or a crash, so that API clients never get an HTML page.

API_PREFIX = "/api/"


def _api_error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status=status)


def bad_request(request, exception=None):
    if request.path.startswith(API_PREFIX):
        return _api_error(400, "bad_request", "The request is not valid.")
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if request.path.startswith(API_PREFIX):
        return _api_error(403, "permission_denied", "You may not do this.")
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception=None):
    if request.path.startswith(API_PREFIX):
        return _api_error(404, "not_found", "Not found: no endpoint or object at this URL.")
    return defaults.page_not_found(request, exception)


def server_error(request):
    if request.path.startswith(API_PREFIX):
        return _api_error(500, "error", "The server failed to answer; the error is logged.")
    return defaults.server_error(request)


# A database that does not answer (restarting, failing over, a lock or statement timeout) is not a bug in
# the request: it is a 503 with Retry-After, in the API's format under /api/, else a short page of its
# own (the site's layout would need the database for the user). The next request checks its connection
# before using it (CONN_HEALTH_CHECKS in settings) and connects again.

RETRY_AFTER_SECONDS = 5
DATABASE_UNAVAILABLE = "The database is not answering for a moment; try again in a few seconds."
UNAVAILABLE_PAGE = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>Back in a moment</title>"
    f"<h1>Back in a moment</h1><p>{DATABASE_UNAVAILABLE}</p></html>"
)
logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        driver = connection.Database  # its errors too: what uses psycopg directly (COPY) is not wrapped
        unavailable = (OperationalError, InterfaceError, driver.OperationalError, driver.InterfaceError)
        if not isinstance(exception, unavailable):
            return None
        logger.warning("Database unavailable (%s %s): %s", request.method, request.path, exception)
        if request.path.startswith(API_PREFIX):
            response = _api_error(503, "unavailable", DATABASE_UNAVAILABLE)
        else:
            response = HttpResponse(UNAVAILABLE_PAGE, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
