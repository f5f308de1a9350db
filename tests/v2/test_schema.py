"""/v2 in the OpenAPI schema (no stack): its own tag in /docs, Alpaca's key
headers, every error in Alpaca's shape with Alpaca's statuses, and the order
request's rules as the fields enforce them."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest
from drf_spectacular.generators import SchemaGenerator

from tests.v2.test_requests import LIMIT, STOP_LOSS, TAKE_PROFIT
from trading import idempotency
from trading.schema import ecma_pattern
from v2api import fields, serializers

ALPACA_ERROR = {"$ref": "#/components/schemas/AlpacaErrorOut"}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    result: dict[str, Any] = SchemaGenerator().get_schema(request=None, public=True)
    return result


def v2_operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, operations in schema["paths"].items()
        if path.startswith("/v2/")
        for method, operation in operations.items()
    ]


def test_v2_is_its_own_tag_in_the_docs(schema: dict[str, Any]) -> None:
    operations = v2_operations(schema)

    assert len(operations) == 22
    assert {tuple(op["tags"]) for _, _, op in operations} == {("v2",)}
    (tag,) = [t for t in schema["tags"] if t["name"] == "v2"]
    assert "alpaca-py" in tag["description"]


def test_every_v2_operation_takes_alpacas_keys_or_the_bearer_token(schema: dict[str, Any]) -> None:
    schemes = schema["components"]["securitySchemes"]

    assert schemes["AlpacaKeyId"] == {
        "type": "apiKey",
        "in": "header",
        "name": "APCA-API-KEY-ID",
        "description": schemes["AlpacaKeyId"]["description"],
    }
    assert schemes["AlpacaSecretKey"]["name"] == "APCA-API-SECRET-KEY"
    for path, method, operation in v2_operations(schema):
        assert {"AlpacaKeyId": [], "AlpacaSecretKey": []} in operation["security"], (path, method)
        assert {"ApiToken": []} in operation["security"], (path, method)


def test_every_v2_error_is_alpacas_shape_and_invalid_input_is_422(schema: dict[str, Any]) -> None:
    for path, method, operation in v2_operations(schema):
        responses = operation["responses"]
        errors = {s: r for s, r in responses.items() if int(s) >= 400}
        for status, response in errors.items():
            assert response["content"]["application/json"]["schema"] == ALPACA_ERROR, (
                method, path, status,
            )  # fmt: skip
        assert {"401", "403", "406"} <= set(errors), (method, path)
        takes_body = "requestBody" in operation
        takes_query = any(p["in"] != "path" for p in operation.get("parameters", []))
        assert ("422" in errors) == (takes_body or takes_query), (method, path)
        assert ("400" in errors) == takes_body, (method, path)  # a body that is not JSON


def test_placing_an_order_states_the_idempotency_key_and_what_it_answers(
    schema: dict[str, Any],
) -> None:
    post = schema["paths"]["/v2/orders"]["post"]

    (header,) = [p for p in post["parameters"] if p["in"] == "header"]
    assert header["name"] == idempotency.HEADER
    assert set(post["responses"]) == {
        "200", "400", "401", "403", "406", "409", "415", "422", "500", "503", "504",
    }  # fmt: skip
    assert schema["paths"]["/v2/orders"]["delete"]["responses"]["207"]
    assert set(schema["paths"]["/v2/orders/{order_id}"]["delete"]["responses"]) >= {"204", "404"}


def test_an_order_request_is_one_of_its_shapes_by_type_and_oco(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    variants = [ref["$ref"].rsplit("/", 1)[1] for ref in components["AlpacaOrderRequest"]["oneOf"]]

    def enum(component: dict[str, Any], name: str) -> list[str]:
        prop = component["properties"][name]
        refs = [prop] if "$ref" in prop else prop.get("allOf") or prop["oneOf"]
        names = [ref["$ref"].rsplit("/", 1)[1] for ref in refs]
        return [v for name in names for v in components[name]["enum"] if v]

    types = {}
    for name in variants:
        component = components[name]
        assert component["additionalProperties"] is False
        types[name] = (enum(component, "type"), enum(component, "order_class"))
    assert types == {
        "AlpacaMarketOrderRequest": (["market"], ["simple", "bracket", "oto"]),
        "AlpacaLimitOrderRequest": (["limit"], ["simple", "bracket", "oto"]),
        "AlpacaOcoOrderRequest": (["limit"], ["oco"]),
        "AlpacaStopOrderRequest": (["stop"], ["simple", "bracket", "oto"]),
        "AlpacaStopLimitOrderRequest": (["stop_limit"], ["simple", "bracket", "oto"]),
        "AlpacaTrailingStopOrderRequest": (["trailing_stop"], ["simple"]),
    }
    limit, oco = components["AlpacaLimitOrderRequest"], components["AlpacaOcoOrderRequest"]
    assert "limit_price" in limit["required"]
    assert {"order_class", "take_profit", "stop_loss"} <= set(oco["required"])
    assert "stop_price" not in limit["properties"]
    assert limit["properties"]["extended_hours"]["type"] == "boolean"
    extended_hours = components["AlpacaStopOrderRequest"]["properties"]["extended_hours"]
    (ref,) = extended_hours["allOf"]
    assert components[ref["$ref"].rsplit("/", 1)[1]] == {"type": "boolean", "enum": [False]}
    assert enum(components["AlpacaStopOrderRequest"], "time_in_force") == ["day", "gtc"]


@pytest.mark.parametrize(
    ("name", "pattern", "good", "bad"),
    [
        ("qty", fields.QTY_PATTERN, ["1", "10", "1000000"], ["0", "1.5", "01", "1000001"]),
        (
            "limit_price",
            fields.PRICE_PATTERN,
            ["230", "230.5", "230.50", "0.5", ".0001", "1000000.00"],
            ["0", "0.0", "230.501", "0.00001", "1000000.01", "-1"],
        ),
    ],
)
def test_quantities_and_prices_are_a_number_or_a_string_of_the_fields_pattern(
    schema: dict[str, Any], name: str, pattern: str, good: list[str], bad: list[str]
) -> None:
    limit = schema["components"]["schemas"]["AlpacaLimitOrderRequest"]["properties"][name]

    number, text = limit["oneOf"]
    assert number["type"] == "number"
    assert text == {"type": "string", "pattern": ecma_pattern(pattern)}
    assert all(re.fullmatch(text["pattern"].strip("^$"), value) for value in good)
    assert not any(re.fullmatch(text["pattern"].strip("^$"), value) for value in bad)


def _verdict(schema: dict[str, Any], body: dict[str, Any]) -> bool:
    """Whether the schema's order request takes ``body``."""

    root = {**schema, "$ref": "#/components/schemas/AlpacaOrderRequest"}
    validator = jsonschema.Draft4Validator(root)
    return validator.is_valid(body)


def test_the_schema_states_the_order_requests_rules_across_fields(
    schema: dict[str, Any],
) -> None:
    """Regression (schemathesis, no_stated_rule_refuses_valid_input): a market
    order with a take_profit was schema-valid, and refused."""
    exits = {**TAKE_PROFIT, **STOP_LOSS}
    market = {**LIMIT, "type": "market", "limit_price": None}
    trailing = {**LIMIT, "type": "trailing_stop", "limit_price": None}
    bodies = [
        LIMIT,
        {**market, **TAKE_PROFIT},
        {**market, "order_class": "bracket", **exits},
        {**market, "order_class": "bracket", **exits, "time_in_force": "ioc"},
        {**market, "order_class": "bracket", **TAKE_PROFIT},
        {**market, "order_class": "oto", **TAKE_PROFIT},
        {**market, "order_class": "oto", **exits},
        {**LIMIT, "extended_hours": True},
        {**LIMIT, "extended_hours": True, "time_in_force": "gtc"},
        {**LIMIT, "extended_hours": True, "order_class": "oto", **STOP_LOSS},
        {**LIMIT, "extended_hours": False, "order_class": "oto", **STOP_LOSS},
        {**LIMIT, "limit_price": None, "order_class": "oco", **exits},
        {**LIMIT, "order_class": "oco", **exits},
        {**trailing, "trail_price": 1},
        {**trailing, "trail_price": 1, "trail_percent": 1},
        {**trailing},
    ]
    for body in bodies:
        body = {k: v for k, v in body.items() if v is not None}
        form = serializers.order_request(body)
        assert form.is_valid() == _verdict(schema, body), (body, form.errors)
