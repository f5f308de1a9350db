"""/v2's examples in /docs (no stack): every operation shows its request and
its answer, every example is valid against its operation's own schema, order
requests are taken by the server's own serializers, answers parse in
alpaca-py's models, and the ids are the ones v2api.ids derives."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from alpaca.trading import models as alpaca
from drf_spectacular.generators import SchemaGenerator

from ibsim.universe import CONTRACTS
from v2api import ids, serializers

# Operations without examples (none).
PENDING: set[str] = set()
# alpaca-py's model of each success answer (TradingClient parses it so).
ALPACA_MODELS: dict[str, Any] = {
    "GET /v2/account": alpaca.TradeAccount,
    "GET /v2/account/configurations": alpaca.AccountConfiguration,
    "GET /v2/positions": alpaca.Position,
    "GET /v2/positions/{symbol_or_asset_id}": alpaca.Position,
    "DELETE /v2/positions/{symbol_or_asset_id}": alpaca.Order,
    "GET /v2/orders": alpaca.Order,
    "POST /v2/orders": alpaca.Order,
    "GET /v2/orders/{order_id}": alpaca.Order,
    "PATCH /v2/orders/{order_id}": alpaca.Order,
    "GET /v2/orders:by_client_order_id": alpaca.Order,
    "GET /v2/account/activities": alpaca.TradeActivity,
    "GET /v2/account/activities/{activity_type}": alpaca.TradeActivity,
    "GET /v2/clock": alpaca.Clock,
    "GET /v2/calendar": alpaca.Calendar,
    "GET /v2/assets": alpaca.Asset,
    "GET /v2/assets/{symbol_or_asset_id}": alpaca.Asset,
}
FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    """RFC 3339 with an offset (jsonschema checks it only with a package not installed)."""
    if not isinstance(value, str):
        return True
    return dt.datetime.fromisoformat(value).tzinfo is not None


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    result: dict[str, Any] = SchemaGenerator().get_schema(request=None, public=True)
    return result


def v2_operations(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, operations in schema["paths"].items():
        if path.startswith("/v2/"):
            for method, operation in operations.items():
                yield f"{method.upper()} {path}", operation


def _json(media: dict[str, Any]) -> dict[str, Any]:
    content: dict[str, Any] = media.get("content", {}).get("application/json", {})
    return content


def examples_of(operation: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], Any]]:
    """(where, schema, value) of every example of ``operation``."""
    for parameter in operation.get("parameters", []):
        for name, example in parameter.get("examples", {}).items():
            yield f"parameter {parameter['name']} {name}", parameter["schema"], example["value"]
    body = _json(operation.get("requestBody", {}))
    for name, example in body.get("examples", {}).items():
        yield f"request {name}", body["schema"], example["value"]
    for status, response in operation["responses"].items():
        content = _json(response)
        for name, example in content.get("examples", {}).items():
            yield f"{status} {name}", content["schema"], example["value"]


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0's ``nullable`` as JSON Schema says it: null or the rest."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _json_schema(value) for key, value in node.items()}
    if converted.pop("nullable", False):
        return {"anyOf": [{"type": "null"}, converted]}
    return converted


def _errors(schema: dict[str, Any], subschema: dict[str, Any], value: Any) -> list[str]:
    root = {"components": _json_schema(schema["components"]), **_json_schema(subschema)}
    validator = jsonschema.Draft4Validator(root, format_checker=FORMATS)
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(value)
    ]


def test_every_v2_operation_shows_its_request_and_its_answer(schema: dict[str, Any]) -> None:
    missing = set()
    for name, operation in v2_operations(schema):
        body = _json(operation.get("requestBody", {}))
        answers = [
            _json(response)
            for status, response in operation["responses"].items()
            if status.startswith("2") and _json(response)
        ]
        if not list(examples_of(operation)):
            missing.add(name)
        if body and not body.get("examples"):
            missing.add(name)
        if any(not answer.get("examples") for answer in answers):
            missing.add(name)

    assert missing == PENDING


def test_every_v2_example_is_valid_against_its_schema(schema: dict[str, Any]) -> None:
    invalid = {}
    count = 0
    for name, operation in v2_operations(schema):
        for where, subschema, value in examples_of(operation):
            count += 1
            errors = _errors(schema, subschema, value)
            if errors:
                invalid[f"{name} {where}"] = errors

    assert invalid == {}
    assert count >= 40  # the test must not pass on a handful


def test_the_validation_refuses_what_the_schema_refuses(schema: dict[str, Any]) -> None:
    """The check above can fail: a decimal as a number, an unknown status, a
    null where none is allowed, a time without an offset."""
    order = schema["paths"]["/v2/orders/{order_id}"]["get"]["responses"]["200"]
    subschema = _json(order)["schema"]
    good = _json(order)["examples"]["ALimitOrder"]["value"]

    assert _errors(schema, subschema, good) == []
    for bad in (
        {"qty": 10},
        {"status": "open"},
        {"symbol": None},
        {"created_at": "2026-01-05T15:34:06"},
        {"id": "not-a-uuid"},
    ):
        assert _errors(schema, subschema, {**good, **bad}), bad


def test_the_order_examples_are_taken_by_the_servers_serializer(schema: dict[str, Any]) -> None:
    for path in ("/v2/orders", "/v2/orders/preview"):
        body = _json(schema["paths"][path]["post"]["requestBody"])
        assert len(body["examples"]) >= 4
        for name, example in body["examples"].items():
            form = serializers.order_request(example["value"])
            assert form.is_valid(), (path, name, form.errors)


def test_the_answers_parse_in_alpaca_pys_models(schema: dict[str, Any]) -> None:
    operations = dict(v2_operations(schema))
    for name, model in ALPACA_MODELS.items():
        examples = _json(operations[name]["responses"]["200"])["examples"]
        for example in examples.values():
            value = example["value"]
            for item in value if isinstance(value, list) else [value]:
                model(**item)


def _objects(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _objects(item)
    elif isinstance(value, list):
        for item in value:
            yield from _objects(item)


def test_the_examples_ids_are_the_ones_the_server_derives(schema: dict[str, Any]) -> None:
    account = _json(schema["paths"]["/v2/account"]["get"]["responses"]["200"])["examples"]
    (account_example,) = account.values()
    account_id = str(ids.account_uuid(account_example["value"]["account_number"]))
    assert account_example["value"]["id"] == account_id
    checked = 0
    for _, operation in v2_operations(schema):
        for _, _, value in examples_of(operation):
            for item in _objects(value):
                if "asset_id" in item:  # from the symbol's conId, the simulator's too
                    con_id = CONTRACTS[item["symbol"]].con_id
                    assert item["asset_id"] == str(ids.asset_uuid(con_id)), item
                    checked += 1
                if "order_class" in item and "asset_id" in item:  # an order: id has its permId
                    assert ids.parse_order(item["id"]) is not None, item
                for key in ("order_id", "replaces", "replaced_by"):
                    if item.get(key):
                        assert ids.parse_order(item[key]) is not None, (key, item)
                if "account_id" in item:
                    assert item["account_id"] == account_id, item
                if item.get("class") == "us_equity":  # an asset
                    con_id = CONTRACTS[item["symbol"]].con_id
                    assert uuid.UUID(item["id"]) == ids.asset_uuid(con_id), item
    assert checked >= 10


def test_every_v2_operation_shows_its_main_errors(schema: dict[str, Any]) -> None:
    without = {
        name
        for name, operation in v2_operations(schema)
        if not any(
            _json(response).get("examples")
            for status, response in operation["responses"].items()
            if int(status) >= 400
        )
    }

    assert without == PENDING
