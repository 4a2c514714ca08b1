"""What the OpenAPI schema says beyond what drf-spectacular reads from the views.

- the registry's own authentication (a token in the Authorization header);
- the errors an operation can answer whatever its view says: 400, 401, 403 for writes and
  role-limited reads, 404 for paths with an identifier and paginated lists, 415 for bodies, 429
  under the rate limit and 503 while the database is unreachable, each with its body (and
  Retry-After where the client is asked to wait);
- request bodies as JSON only.

A view declares the errors only it raises (409, 412, 423, 428) with `extend_schema`; a declared
status without a body gets the common one, so the schema never promises an empty error.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent, force_instance, is_list_serializer
from rest_framework.permissions import SAFE_METHODS, AllowAny, IsAuthenticated

ERROR_MEDIA_TYPE = "application/json"

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "What went wrong, in a sentence that says what to do about it.",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}

# DRF's field errors: field -> messages; a nested field or a list's item -> the same again
# (`{"data": {"mm_age_months": ["..."]}}`, `{"status": {"0": ["..."]}}`); a request that could
# not be read at all -> `{"detail": "JSON parse error ..."}`.
VALIDATION_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Each wrong parameter or field with what was wrong and what would be right, "
    'e.g. {"page_size": ["page_size must be a whole number from 1 to 1000; '
    "you sent 'all'.\"]}. Batches: item position -> field -> messages.",
    "additionalProperties": {
        "anyOf": [
            {"type": "array", "items": {"type": "string"}},
            {"type": "string"},
            {"$ref": "#/components/schemas/ValidationError"},
        ]
    },
}

# For a view whose other errors have the same shape as a 400 (a batch's 409 and 423).
VALIDATION_ERROR_REF = {"$ref": "#/components/schemas/ValidationError"}

RETRY_AFTER = {
    "Retry-After": {
        "schema": {"type": "integer", "minimum": 0},
        "required": True,
        "description": "Seconds to wait before trying again.",
    },
}


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "registry.people.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <32 letters and digits>`, from `manage.py create_api_token`.",
        }


class RegistryAutoSchema(AutoSchema):
    """drf-spectacular's schema of a view, with the error answers every view can give."""

    def get_operation(
        self, path: str, path_regex: str, path_prefix: str, method: str, registry: Any
    ) -> dict[str, Any] | None:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        for status, common in self._error_responses(operation).items():
            declared = responses.setdefault(status, common)
            declared.setdefault("content", common["content"])
            if "headers" in common:
                declared.setdefault("headers", {}).update(common["headers"])
            if not declared.get("description"):
                declared["description"] = common["description"]
        for status, declared in responses.items():
            # Errors a view declared that this module has no rule for (409, 412, 423, 428).
            if status >= "400" and "content" not in declared:
                declared["content"] = self._body("Error", ERROR_SCHEMA)
        return operation

    def _get_request_for_media_type(
        self, serializer: Any, direction: str = "request"
    ) -> tuple[Any, bool]:
        schema, required = super()._get_request_for_media_type(serializer, direction)
        serializer = force_instance(serializer)
        if is_list_serializer(serializer) and schema:
            # drf-spectacular leaves a list's bounds (a batch's size) out of the schema.
            if serializer.min_length is not None:
                schema["minItems"] = serializer.min_length
            if serializer.max_length is not None:
                schema["maxItems"] = serializer.max_length
        return schema, required

    def map_parsers(self) -> list[str]:
        # Bodies are JSON. DRF also reads forms (the browsable API's), but a form cannot carry
        # what the schema states: a number, a list, a missing value.
        return [
            media_type for media_type in super().map_parsers() if media_type == "application/json"
        ]

    def _error_responses(self, operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
        view = self.view
        permissions = list(getattr(view, "permission_classes", ()))
        takes_body = "requestBody" in operation
        errors: dict[str, dict[str, Any]] = {}

        # Any request can be refused before its view (a NUL character anywhere), and one with
        # parameters or a body for what they hold.
        errors["400"] = self._response(
            "A parameter or field is wrong; nothing was changed.",
            "ValidationError",
            VALIDATION_ERROR_SCHEMA,
        )
        if not any(issubclass(permission, AllowAny) for permission in permissions):
            errors["401"] = self._error(
                "No token, or an unknown, expired or revoked one (`Authorization: Token <token>`)."
            )
        # Writes may be refused by role or for a missing CSRF token; reads only by a
        # permission that says it limits them.
        limits_reads = any(
            getattr(permission, "limits_reads", True)
            for permission in permissions
            if not issubclass(permission, (IsAuthenticated, AllowAny))
        )
        if self.method not in SAFE_METHODS or limits_reads:
            reasons = [
                reason
                for permission in permissions
                if (reason := getattr(permission, "refusal", None))
            ]
            errors["403"] = self._error(
                " ".join(
                    [
                        "Your role may not do this (or, in a browser session, the CSRF token is "
                        "missing).",
                        *reasons,
                    ]
                )
            )
        if "{" in self.path or (self._is_list_view() and self._get_paginator()):
            errors["404"] = self._error(
                "Not found, or outside the records you may see (lists: a page past the last one)."
            )
        if takes_body:
            errors["413"] = self._error(
                "The body is larger than 16 MB (DATA_UPLOAD_MAX_MEMORY_SIZE); send less at a time."
            )
            errors["415"] = self._error(
                "The body is not in a media type this operation reads (send JSON)."
            )
        if view.get_throttles():
            errors["429"] = self._error(
                "Over the rate limit for your token: wait Retry-After seconds.", headers=RETRY_AFTER
            )
        errors["503"] = self._error(
            "The registry cannot reach its database for a moment: "
            "wait Retry-After seconds and send the same request "
            "again.",
            headers=RETRY_AFTER,
        )
        return errors

    def _error(self, description: str, *, headers: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._response(description, "Error", ERROR_SCHEMA, headers=headers)

    def _response(
        self,
        description: str,
        name: str,
        schema: dict[str, Any],
        *,
        headers: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        response: dict[str, Any] = {"description": description, "content": self._body(name, schema)}
        if headers:
            response["headers"] = dict(headers)
        return response

    def _body(self, name: str, schema: dict[str, Any]) -> dict[str, Any]:
        component = ResolvedComponent(
            name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema
        )
        self.registry.register_on_missing(component)
        return {ERROR_MEDIA_TYPE: {"schema": component.ref}}
