from typing import ClassVar

from django.utils import translation
from drf_spectacular.generators import SchemaGenerator
from rest_framework.settings import api_settings

from creatorhub.tenancy import platform_wide

# The body of every error (creatorhub.api.errors): `fields` (by field name, or by index in a batch) comes
# with a 400 of field errors; `errors` when a 400 has more than one general error.
ERROR_SCHEMA = {
    "type": "object",
    "required": ["code", "message"],
    "properties": {
        "code": {"type": "string", "description": "invalid, not_found, permission_denied, …"},
        "message": {"type": "string", "description": "What went wrong, for people."},
        "fields": {
            "type": "object",
            "additionalProperties": {},
            "description": "Each field's errors (a batch's, by the item's index).",
        },
        "errors": {"type": "array", "items": {"type": "string"}},
    },
}

ERROR_DESCRIPTIONS = {
    "400": "The input is not valid: `fields` names each field that is wrong.",
    "401": "No credentials, or an API key that is unknown or revoked.",
    "403": "The caller's role lacks the scope this needs.",
    "404": "No such site for this caller, or no such object on the site.",
    "413": "The request body is too large.",
    "415": "The request body is not JSON, a form or multipart.",
    "429": "Over the API key's rate: Retry-After says in how many seconds to try again.",
}
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}


class PlatformSchemaGenerator(SchemaGenerator):
    """Audited platform-wide read: the generator reads every viewset's queryset to type path parameters,
    outside any site (the schema view, `manage.py spectacular` and drf-spectacular's deploy check).

    It also documents the errors each operation can answer, in the API's one error format, so that the
    schema tells clients (and the schema tests) every status they may get."""

    def get_schema(self, *args, **kwargs):
        with platform_wide("OpenAPI schema generation"):
            schema = super().get_schema(*args, **kwargs)
        return document_errors(schema)


class ServedSchemaGenerator(PlatformSchemaGenerator):
    """The schema that /api/v1/schema/ serves. It is the same for every caller until the code changes, so
    each process builds it once per version and language: built for every request, it let anyone load
    the server with a loop of anonymous requests. (`manage.py spectacular` builds it afresh.)"""

    built: ClassVar[dict] = {}

    def get_schema(self, request=None, public=False):
        key = (self.api_version, translation.get_language(), public)
        if key not in self.built:
            self.built[key] = super().get_schema(request=request, public=public)
        return self.built[key]


def document_errors(schema: dict) -> dict:
    """Adds the `Error` component and, to each operation, the error statuses it can answer: 400 where it
    takes input (a body or query parameters) or writes (a service may refuse it: removing the last
    owner, changing a default segment), 401 and 403 where it needs credentials, 404 where its path
    names a site or an object, 413 and 415 where it takes a body, 429 where API keys are throttled.
    A status an operation documents itself keeps its description; it gets the error body when it had
    none."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            locations = {parameter.get("in") for parameter in operation.get("parameters", [])}
            takes_body = "requestBody" in operation
            codes = []
            if takes_body or "query" in locations or method not in ("get", "head"):
                codes.append("400")
            secured = any(requirement for requirement in operation.get("security", []))
            if secured:
                codes += ["401", "403"]
            if "path" in locations:
                codes.append("404")
            if takes_body:
                codes += ["413", "415"]
            if secured and api_settings.DEFAULT_THROTTLE_CLASSES:
                codes.append("429")
            for code in codes:
                response = operation["responses"].setdefault(code, {"description": ERROR_DESCRIPTIONS[code]})
                response.setdefault("content", body)
                if code == "429":
                    response.setdefault("headers", RETRY_AFTER)
    return schema
