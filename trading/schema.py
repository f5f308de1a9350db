"""OpenAPI: the schema states exactly the rules the server enforces, read from
the classes, fields and constants that enforce them (a client generated from
it gets the server's rules, and tests/contract fuzzes the server against it).

- The bearer token (Swagger UI's Authorize button): none for a public view,
  optional in the local demo (which serves anonymous requests on loopback).
- Request fields: a NumberField's bounds and grid (``multipleOf``); strict
  serializers refuse unknown fields and output serializers render only their
  own, so both say ``additionalProperties: false``.  String patterns and
  lengths come from the fields' validators (drf-spectacular reads them).
- The Idempotency-Key header, from trading.idempotency's rule.
- ``postprocess`` (a drf-spectacular hook): the statuses every operation can
  answer by its shape (401/403 where a token is needed, 400 where it takes
  input, 409 where it takes an Idempotency-Key, 406, 415), each with the
  ``{"detail"}`` body; and the links from an order's permIds to
  ``GET /orders`` and to its cancel."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.utils import OpenApiParameter

from trading import idempotency


def ecma_pattern(pattern: str) -> str:
    r"""A Python pattern anchored with ``\Z`` as JSON Schema spells it (``$``
    means the end of the string there), as drf-spectacular does for validators."""
    return pattern.replace(r"\Z", "$").replace(r"\A", "^")


class ApiTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "trading.auth.ApiTokenAuthentication"
    name = "ApiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "Authorization: Bearer <token> (manage.py create_api_token). "
            "Not needed in the local demo.",
        }

    # None (no requirement) for a public view: the base class does not foresee it.
    def get_security_requirement(  # type: ignore[override]
        self, auto_schema: Any
    ) -> list[dict[str, list[Any]]] | None:
        if getattr(auto_schema.view, "public", False):
            return None  # e.g. /health: no token
        requirement: list[dict[str, list[Any]]] = [{self.name: []}]
        if settings.LOCAL_DEMO:
            requirement.append({})  # anonymous requests too (trading.auth.demo_refusal)
        return requirement


def _json_number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def grid_schema(ticks: tuple[tuple[Decimal, Decimal], ...]) -> dict[str, Any]:
    """``multipleOf`` for a NumberField's ticks: one step, or one per range
    (ticks run from the highest start price down)."""
    if not ticks:
        return {}
    if len(ticks) == 1 and ticks[0][0] == 0:
        return {"multipleOf": _json_number(ticks[0][1])}
    branches = []
    for i, (start, tick) in enumerate(ticks):
        branch: dict[str, Any] = {"multipleOf": _json_number(tick)}
        if start > 0:
            branch["minimum"] = _json_number(start)
        if i > 0:
            branch.update(maximum=_json_number(ticks[i - 1][0]), exclusiveMaximum=True)
        branches.append(branch)
    return {"anyOf": branches}


class NumberFieldScheme(OpenApiSerializerFieldExtension):  # type: ignore[no-untyped-call]
    """trading.fields.NumberField and its kinds (prices, quantities);
    ``max_value`` is added by drf-spectacular from the field's validator."""

    target_class = "trading.fields.NumberField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        field = self.target
        schema: dict[str, Any] = {"type": "number", "format": "double"}
        if field.greater_than is not None:
            schema.update(minimum=field.greater_than, exclusiveMinimum=True)
        schema.update(grid_schema(field.ticks))
        return schema


class _ClosedObjectScheme(OpenApiSerializerExtension):  # type: ignore[no-untyped-call]
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_basic_serializer(self.target, direction)
        schema["additionalProperties"] = False
        return schema


class StrictSerializerScheme(_ClosedObjectScheme):
    target_class = "trading.serializers.StrictSerializer"  # refuses unknown fields


class OutSerializerScheme(_ClosedObjectScheme):
    target_class = "trading.serializers.OutSerializer"  # renders its declared fields only


IDEMPOTENCY_KEY = OpenApiParameter(
    name=idempotency.HEADER,
    location=OpenApiParameter.HEADER,
    required=False,
    type={
        "type": "string",
        "minLength": 1,
        "maxLength": idempotency.KEY_MAX_LENGTH,
        "pattern": ecma_pattern(idempotency.KEY_PATTERN),
    },
    description=(
        "Makes a retry safe: the same key with the same body answers the first "
        "answer again and sends nothing; with another body, 409. "
        f"{idempotency.KEY_RULE}."
    ),
)

# What the statuses that follow from an operation's shape mean.
GENERIC_ERRORS = {
    400: (
        "Invalid input: `errors` names each field and what is wrong with it "
        "(`non_field_errors`: a rule across fields)"
    ),
    401: "No token, or an invalid or revoked one (the local demo needs none on loopback)",
    403: (
        "Refused: the token's scope does not allow it, or anonymous access is refused "
        "(local demo: not on loopback, or a live account)"
    ),
    406: "The Accept header does not allow application/json",
    409: (
        "The Idempotency-Key was used with another body, or its first request is "
        "still running (retry shortly)"
    ),
    415: "The body is not application/json",
}


def _generic_statuses(operation: dict[str, Any]) -> list[int]:
    statuses = [406]
    if any(operation.get("security") or []):
        statuses += [401, 403]
    parameters = operation.get("parameters") or []
    if parameters or "requestBody" in operation:
        statuses.append(400)
    if "requestBody" in operation:
        statuses.append(415)
    if any(p["in"] == "header" and p["name"] == idempotency.HEADER for p in parameters):
        statuses.append(409)
    return statuses


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}},
    }


# OpenAPI links: where an order's answer leads (place -> list -> cancel), for
# clients and for stateful tests.  (path, method) -> name -> target and the
# request body built from the answer.
_LIST = ("/orders", "get", None)


def _cancel(pointer: str) -> tuple[str, str, dict[str, str]]:
    return ("/order/cancel", "post", {"perm_id": f"$response.body#{pointer}"})


LINKS: dict[tuple[str, str], dict[str, tuple[str, str, dict[str, str] | None]]] = {
    **{
        (path, "post"): {"ListOrders": _LIST, "CancelOrder": _cancel("/permId")}
        for path in ("/order/limit", "/order/market", "/order/stop")
    },
    ("/order/bracket", "post"): {
        "ListOrders": _LIST,
        "CancelEntry": _cancel("/permIds/0"),
        "CancelStopLoss": _cancel("/permIds/1"),
        "CancelTakeProfit": _cancel("/permIds/2"),
    },
    ("/orders", "get"): {"CancelFirstOrder": _cancel("/orders/0/permId")},
}


def postprocess(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular POSTPROCESSING_HOOKS: generic statuses and links."""
    paths: dict[str, dict[str, Any]] = result.get("paths", {})
    for operations in paths.values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status in _generic_statuses(operation):
                responses.setdefault(str(status), _error_response(GENERIC_ERRORS[status]))
            operation["responses"] = dict(sorted(responses.items()))
    for (path, method), links in LINKS.items():
        operation = paths.get(path, {}).get(method)
        if operation is None:
            continue
        built = {}
        for name, (target_path, target_method, body) in links.items():
            target = paths.get(target_path, {}).get(target_method)
            if target is None:
                continue
            link: dict[str, Any] = {"operationId": target["operationId"]}
            if body is not None:
                link["requestBody"] = body
            built[name] = link
        operation["responses"]["200"]["links"] = built
    return result
