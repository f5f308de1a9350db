"""/v2 in the OpenAPI schema: its own tag, Alpaca's key headers as a
security scheme, quantities and prices as "a number or a decimal string"
(each form with its rules), the order request as one of its shapes by
``type`` (and ``order_class`` oco), and every error in Alpaca's shape.

``postprocess`` (after trading.schema.postprocess, SPECTACULAR_SETTINGS)
turns the statuses every operation answers by its shape into /v2's: the
body ``AlpacaErrorOut``, invalid input 422 (400 stays for a body that is
not JSON), as trading.error_handler answers them."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, PolymorphicProxySerializer

from trading.error_handler import ALPACA_PREFIX
from trading.schema import NumberFieldScheme, ecma_pattern
from v2api import serializers

TAG = "v2"
TAG_DESCRIPTION = (
    "Alpaca's Trading API v2 on the IB account: alpaca-py's TradingClient works against "
    "it (url_override = this server). Authenticate with APCA-API-KEY-ID and "
    "APCA-API-SECRET-KEY (manage.py create_api_token prints both) or the bearer token. "
    "Errors are {code, message}. Not supported: notional and fractional orders (IB's API "
    "takes whole shares here), multi-leg (mleg) orders."
)


class AlpacaKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "v2api.auth.AlpacaKeyAuthentication"
    name = ["AlpacaKeyId", "AlpacaSecretKey"]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, str]]:
        return [
            {
                "type": "apiKey",
                "in": "header",
                "name": "APCA-API-KEY-ID",
                "description": "The token's key id (manage.py create_api_token prints it)",
            },
            {
                "type": "apiKey",
                "in": "header",
                "name": "APCA-API-SECRET-KEY",
                "description": "The token itself",
            },
        ]


class NumberOrTextScheme(OpenApiSerializerFieldExtension):  # type: ignore[no-untyped-call]
    """v2api.fields' quantities and prices: the number with trading.fields'
    bounds and grid, or a string of the field's pattern."""

    target_class = "v2api.fields.AlpacaQuantityField"
    match_subclasses = True
    priority = 1  # over trading.schema.NumberFieldScheme

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        number = NumberFieldScheme(self.target).map_serializer_field(auto_schema, direction)
        number["maximum"] = self.target.max_value
        text = {"type": "string", "pattern": ecma_pattern(self.target.string_pattern)}
        return {"oneOf": [number, text]}


class PriceOrTextScheme(NumberOrTextScheme):
    target_class = "v2api.fields.AlpacaPriceField"


ORDER_REQUEST = PolymorphicProxySerializer(
    component_name="AlpacaOrder",
    serializers=[
        serializers.AlpacaMarketOrder,
        serializers.AlpacaLimitOrder,
        serializers.AlpacaOcoOrder,
        serializers.AlpacaStopOrder,
        serializers.AlpacaStopLimitOrder,
        serializers.AlpacaTrailingStopOrder,
    ],
    resource_type_field_name=None,
)

ORDER_EXAMPLE = OpenApiExample(
    "Limit order",
    {
        "symbol": "AAPL",
        "qty": "10",
        "side": "buy",
        "type": "limit",
        "time_in_force": "day",
        "limit_price": "230.00",
        "client_order_id": "my-order-1",
    },
    request_only=True,
)

ERRORS = {
    403: "Forbidden: trading halted (kill switch), a pre-trade limit, IB's margin check "
    "(insufficient buying power), a live account while live trading is off, or a token "
    "that may only read",
    404: "Not found",
    422: "Invalid input (the message names each field), a field Alpaca has that is not "
    "supported yet, a duplicate client_order_id, or the order refused by IB",
    500: "The gateway worker failed: check GET /v2/orders before retrying",
    503: "IB Gateway unreachable or not answering, or the service's Redis or database "
    "down: nothing was sent",
    504: "IB did not acknowledge in time (what was sent is cancelled), or the order could "
    "not be sent before its deadline (never sent)",
}


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    return {
        status: OpenApiResponse(serializers.AlpacaErrorOut, description=ERRORS[status])
        for status in statuses
    }


INVALID_INPUT = "Invalid input: the message names each field and what is wrong with it"
NOT_JSON = "The body is not JSON"
ALPACA_ERROR_REF = "#/components/schemas/AlpacaErrorOut"


def _alpaca_error(response: dict[str, Any], description: str | None = None) -> dict[str, Any]:
    """An error response in Alpaca's shape, keeping the examples the view gave."""
    media: dict[str, Any] = {"schema": {"$ref": ALPACA_ERROR_REF}}
    examples = response.get("content", {}).get("application/json", {}).get("examples")
    if examples:
        media["examples"] = examples
    return {
        "description": description or response.get("description", ""),
        "content": {"application/json": media},
    }


# The order request's rules across fields, as v2api.serializers enforces them
# (AlpacaOrder.validate and its subclasses'), stated on each shape.
_EXITS = ("take_profit", "stop_loss")
_SIMPLE = {
    "properties": {"order_class": {"enum": ["simple", ""]}},
    "not": {"anyOf": [{"required": [name]} for name in _EXITS]},
}
_WITH_LEGS_TIF = {"time_in_force": {"enum": list(serializers.CLASS_TIME_IN_FORCE)}}
_BRACKET = {
    "properties": {"order_class": {"enum": ["bracket"]}, **_WITH_LEGS_TIF},
    "required": ["order_class", *_EXITS],
}
_OTO = {
    "properties": {"order_class": {"enum": ["oto"]}, **_WITH_LEGS_TIF},
    "required": ["order_class"],
    "oneOf": [{"required": [name]} for name in _EXITS],
}
ORDER_BODY_PATHS = (ALPACA_PREFIX + "/orders", ALPACA_PREFIX + "/orders/preview")
ORDER_RULES: dict[str, dict[str, Any]] = {
    "AlpacaMarketOrderRequest": {"oneOf": [_SIMPLE, _BRACKET, _OTO]},
    "AlpacaStopOrderRequest": {"oneOf": [_SIMPLE, _BRACKET, _OTO]},
    "AlpacaStopLimitOrderRequest": {"oneOf": [_SIMPLE, _BRACKET, _OTO]},
    "AlpacaLimitOrderRequest": {
        "oneOf": [_SIMPLE, _BRACKET, _OTO],
        # extended_hours true: time_in_force day and order_class simple only.
        "anyOf": [
            {"not": {"required": ["extended_hours"]}},
            {"properties": {"extended_hours": {"enum": [False]}}},
            {
                "properties": {
                    "time_in_force": {"enum": ["day"]},
                    "order_class": {"enum": ["simple", ""]},
                }
            },
        ],
    },
    # Either trail_price or trail_percent.
    "AlpacaTrailingStopOrderRequest": {
        "oneOf": [{"required": ["trail_price"]}, {"required": ["trail_percent"]}]
    },
}


# PATCH's body: drf-spectacular names it Patched<serializer>Request.
REPLACE_COMPONENTS = ("PatchedAlpacaReplaceOrderRequest", "PatchedAlpacaReplaceOrder")


def postprocess(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular POSTPROCESSING_HOOKS: /v2's errors in Alpaca's shape,
    the order request's rules across fields."""
    components = result.get("components", {}).get("schemas", {})
    for name, rules in ORDER_RULES.items():
        if name in components:
            components[name].update(rules)
    for name in REPLACE_COMPONENTS:
        if name in components:  # a replacement names what changes (its validate)
            components[name]["anyOf"] = [{"required": [f]} for f in serializers.REPLACEABLE]
    for path in ORDER_BODY_PATHS:
        body = result.get("paths", {}).get(path, {}).get("post", {}).get("requestBody")
        if body is not None:
            body["required"] = True  # the order (a polymorphic body is optional by default)
    replace = result.get("paths", {}).get(ALPACA_PREFIX + "/orders/{order_id}", {}).get("patch")
    if replace is not None and "requestBody" in replace:
        replace["requestBody"]["required"] = True  # what changes (PATCH's is optional by default)
    for path, operations in result.get("paths", {}).items():
        if not (path == ALPACA_PREFIX or path.startswith(ALPACA_PREFIX + "/")):
            continue
        for operation in operations.values():
            responses = operation["responses"]
            for status, response in list(responses.items()):
                if status.startswith(("4", "5")):
                    responses[status] = _alpaca_error(response)
            if "400" in responses:
                # Invalid input is 422 here; 400 only a body that is not JSON.
                del responses["400"]
                parameters = operation.get("parameters") or []
                if "requestBody" in operation or any(p["in"] != "path" for p in parameters):
                    responses.setdefault("422", _alpaca_error({}, INVALID_INPUT))
                if "requestBody" in operation:
                    responses["400"] = _alpaca_error({}, NOT_JSON)
            operation["responses"] = dict(sorted(responses.items()))
    tags = [t for t in result.get("tags", []) if t.get("name") != TAG]
    result["tags"] = [*tags, {"name": TAG, "description": TAG_DESCRIPTION}]
    return result
