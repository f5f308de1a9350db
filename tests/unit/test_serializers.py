"""The API's serializers alone: output serializers render a selector's rows to
exactly the response body (keys, their order, int vs float, nulls); request
serializers enforce the order rules.  No stack, no database."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from typing import Any

import pytest
from django.http import QueryDict
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers as drf

from trading import fields, idempotency, serializers
from trading import schema as schema_module

LIMIT = {"symbol": "AAPL", "action": "BUY", "quantity": 10, "limit_price": 230.0}
BRACKET = {
    "symbol": "AAPL",
    "action": "BUY",
    "quantity": 10,
    "entry_price": 230.0,
    "stop_loss": 225.0,
    "take_profit": 240.0,
}
JOURNAL_EXECUTION = {
    "symbol": "AAPL",
    "side": "BUY",
    "qty": 10,
    "price": 230.5,
    "time": "20250115 14:30:25",
    "timestamp": "2025-01-15T14:30:25Z",
    "orderId": 3,
    "permId": 7,
    "orderRef": "my_trade_001",
    "execId": "0000e0d5.6578b1c2.01.01",
    "commission": None,
    "source": "reqExecutions",
}
COMPLETED_ORDER_EXECUTION = {
    "symbol": "MSFT",
    "side": "SELL",
    "qty": 5,
    "price": 350.2,
    "orderId": 12345,
    "permId": 8,
    "orderRef": "",
    "execId": None,
    "commission": None,
    "source": "reqCompletedOrders",
}
ORDER = {
    "orderId": 12345,
    "permId": 1788680597,
    "clientId": 0,
    "symbol": "AAPL",
    "action": "BUY",
    "quantity": 10,
    "type": "LMT",
    "trigger": 230.0,
    "status": "SUBMITTED",
    "filled": 0,
    "tif": "DAY",
    "orderRef": "my_trade_001",
    "parentPermId": None,
    "warnings": [{"code": 2109, "message": "Outside Regular Trading Hours ignored"}],
}


def as_json(value: Any) -> str:
    """JSON text: tells 10 from 10.0 and keeps the keys' order, as a client sees them."""
    return json.dumps(value, ensure_ascii=False)


def errors_of(serializer_class: type[drf.Serializer], data: Any) -> dict[str, Any]:  # type: ignore[type-arg]
    form = serializer_class(data=data)
    assert not form.is_valid()
    return dict(form.errors)


# --- output serializers ----------------------------------------------------------------


def test_the_account_renders_the_guides_names_first_and_keeps_unknown_values_null() -> None:
    summary = {
        "account": "DU1234567",
        "net_liquidation": 201879.04,
        "available_funds": 200000.0,
        "total_cash_value": 200000.0,
        "buying_power": 800000.0,
        "gross_position_value": 1879.04,
        "unrealized_pnl": None,
        "realized_pnl": 0.0,
        "currency": "USD",
    }
    account = {"balance": 201879.04, "cash": 200000.0, **summary}

    body = serializers.AccountOut(account).data

    assert as_json(body) == as_json(account)


def test_a_position_keeps_a_whole_quantity_an_int_and_its_prices_floats() -> None:
    row = {
        "symbol": "AAPL",
        "sec_type": "STK",
        "currency": "USD",
        "qty": 10,
        "avg_cost": 230.5,
        "market_price": 236.42,
        "market_value": 2364.2,
        "unrealized_pnl": 59.2,
        "realized_pnl": 0.0,
    }

    body = serializers.PositionsOut({"positions": [row]}).data

    assert as_json(body) == as_json({"positions": [row]})


def test_a_quantity_that_arrives_as_a_whole_float_is_written_as_an_int() -> None:
    row = {**ORDER, "quantity": 10.0, "filled": 0.0}

    body = serializers.OrderOut(row).data

    assert (body["quantity"], body["filled"]) == (10, 0)
    assert (type(body["quantity"]), type(body["filled"])) == (int, int)


def test_a_fractional_quantity_stays_a_float() -> None:
    body = serializers.ExecutionOut({**JOURNAL_EXECUTION, "qty": 2.5}).data

    assert as_json(body["qty"]) == "2.5"


def test_a_working_order_renders_every_key_with_its_warnings() -> None:
    body = serializers.OrdersOut({"orders": [ORDER]}).data

    assert as_json(body) == as_json({"orders": [ORDER]})


def test_a_market_orders_trigger_is_the_dash_and_a_limit_price_stays_a_float() -> None:
    market = {**ORDER, "type": "MKT", "trigger": "—"}
    limit = {**ORDER, "trigger": 230}

    rendered = serializers.OrdersOut({"orders": [market, limit]}).data["orders"]

    assert [as_json(order["trigger"]) for order in rendered] == ['"—"', "230.0"]


def test_an_execution_from_the_journal_renders_every_key_in_the_guides_order() -> None:
    body = serializers.ExecutionsOut({"executions": [JOURNAL_EXECUTION]}).data

    assert as_json(body) == as_json({"executions": [JOURNAL_EXECUTION]})


def test_an_execution_known_only_from_a_completed_order_has_no_time_keys() -> None:
    body = serializers.ExecutionOut(COMPLETED_ORDER_EXECUTION).data

    assert as_json(body) == as_json(COMPLETED_ORDER_EXECUTION)


def test_health_renders_its_nested_parts() -> None:
    health = {
        "status": "unavailable",
        "gateway": {
            "connected": False,
            "server_version": None,
            "trading_mode": "unknown",
            "live_trading_enabled": False,
            "mode_mismatch": False,
            "last_error": "",
        },
        "worker": {"alive": False, "heartbeat_age_s": None},
        "journal": {"last_sync": "2025-01-15T14:30:25Z", "last_sync_ok": True},
        "redis": True,
        "database": True,
    }

    body = serializers.HealthOut(health).data

    assert as_json(body) == as_json(health)


@pytest.mark.parametrize(
    ("serializer_class", "answer"),
    [
        (serializers.OrderSentResponse, {"status": "✅ Limit order sent", "permId": 1788680597}),
        (
            serializers.BracketSentResponse,
            {"status": "✅ Bracket order sent", "permIds": [1788680600, 1788680601, 1788680602]},
        ),
        (serializers.StatusResponse, {"status": "✅ Order 1788680597 cancelled"}),
    ],
)
def test_an_order_answer_renders_exactly_its_status_and_perm_ids(
    serializer_class: type[serializers.OutSerializer], answer: dict[str, Any]
) -> None:
    body = serializer_class(answer).data

    assert as_json(body) == as_json(answer)


def test_a_key_the_serializer_does_not_declare_never_reaches_the_response() -> None:
    row = {**JOURNAL_EXECUTION, "account": "DU1234567", "_suffix": "01"}

    body = serializers.ExecutionsOut({"executions": [row], "total": 1}).data

    assert set(body) == {"executions"}
    assert list(body["executions"][0]) == list(JOURNAL_EXECUTION)


def test_a_row_missing_a_required_key_is_an_error_not_a_silent_gap() -> None:
    row = {k: v for k, v in JOURNAL_EXECUTION.items() if k != "permId"}

    with pytest.raises(KeyError, match="permId"):
        serializers.ExecutionOut(row).data  # noqa: B018


def test_a_missing_nullable_key_renders_as_null_as_drf_does() -> None:
    row = {k: v for k, v in JOURNAL_EXECUTION.items() if k != "commission"}

    body = serializers.ExecutionOut(row).data

    assert body["commission"] is None


@pytest.mark.parametrize("row", [JOURNAL_EXECUTION, COMPLETED_ORDER_EXECUTION])
def test_the_fast_rendering_equals_drfs_own_serializer_over_the_same_fields(
    row: dict[str, Any],
) -> None:
    class PlainExecutionOut(drf.Serializer):  # type: ignore[type-arg]
        pass

    PlainExecutionOut._declared_fields = dict(serializers.ExecutionOut._declared_fields)

    assert as_json(serializers.ExecutionOut(row).data) == as_json(PlainExecutionOut(row).data)


def test_an_output_field_reading_another_key_is_refused() -> None:
    class RenamedOut(serializers.OutSerializer):
        balance = drf.FloatField(source="net_liquidation")

    with pytest.raises(TypeError, match=r"RenamedOut\.balance"):
        RenamedOut({"net_liquidation": 1.0}).data  # noqa: B018


# --- the schema says what the serializers render ---------------------------------------


@pytest.fixture(scope="module")
def components() -> dict[str, Any]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    result: dict[str, Any] = schema["components"]["schemas"]
    return result


def test_the_schema_marks_only_an_executions_time_keys_optional(
    components: dict[str, Any],
) -> None:
    execution = components["ExecutionOut"]

    optional = set(execution["properties"]) - set(execution["required"])

    assert optional == {"time", "timestamp"}


def test_the_schema_gives_quantities_as_numbers_and_the_trigger_as_number_or_dash(
    components: dict[str, Any],
) -> None:
    order = components["OrderOut"]["properties"]

    assert order["quantity"]["type"] == "number"
    assert order["trigger"]["oneOf"] == [
        {"type": "number", "format": "double"},
        {"type": "string", "enum": ["—"]},
    ]


# --- request serializers ---------------------------------------------------------------


def test_a_lower_case_symbol_is_accepted_and_upper_cased() -> None:
    form = serializers.LimitOrderRequest(data={**LIMIT, "symbol": "brk.b"})

    assert form.is_valid(), form.errors
    assert form.validated_data["symbol"] == "BRK.B"


@pytest.mark.parametrize(
    "symbol",
    ["1AAPL", "AA PL", "AAPL$", "ABCDEFGHIJKLM", "", 42, " AAPL", "AAPL\n", "ÄAPL", "ﬀ"],
)
def test_a_symbol_outside_the_pattern_is_refused(symbol: Any) -> None:
    assert "symbol" in errors_of(serializers.LimitOrderRequest, {**LIMIT, "symbol": symbol})


@pytest.mark.parametrize("price", [230.001, 1.005])
def test_a_price_of_a_dollar_or_more_off_the_cent_tick_is_refused(price: float) -> None:
    errors = errors_of(serializers.LimitOrderRequest, {**LIMIT, "limit_price": price})

    assert "minimum tick 0.01" in str(errors["limit_price"])


@pytest.mark.parametrize("price", [230.01, 0.5001])
def test_a_price_on_its_tick_is_accepted(price: float) -> None:
    form = serializers.LimitOrderRequest(data={**LIMIT, "limit_price": price})

    assert form.is_valid(), form.errors


def test_a_price_under_a_dollar_off_the_hundredth_of_a_cent_tick_is_refused() -> None:
    errors = errors_of(serializers.LimitOrderRequest, {**LIMIT, "limit_price": 0.50001})

    assert "minimum tick 0.0001" in str(errors["limit_price"])


def test_a_buy_bracket_needs_stop_below_entry_below_take_profit() -> None:
    data = {**BRACKET, "stop_loss": 235.0}

    errors = errors_of(serializers.BracketOrderRequest, data)

    assert "stop_loss < entry_price < take_profit" in str(errors["non_field_errors"])


def test_a_sell_bracket_needs_take_profit_below_entry_below_stop() -> None:
    data = {**BRACKET, "action": "SELL"}

    errors = errors_of(serializers.BracketOrderRequest, data)

    assert "take_profit < entry_price < stop_loss" in str(errors["non_field_errors"])


def test_a_sell_bracket_in_order_is_accepted() -> None:
    data = {**BRACKET, "action": "SELL", "stop_loss": 240.0, "take_profit": 225.0}
    form = serializers.BracketOrderRequest(data=data)

    assert form.is_valid(), form.errors


def test_an_unknown_field_is_refused_by_name() -> None:
    data = {"symbol": "AAPL", "action": "BUY", "quantity": 10, "limit_prise": 230.0}

    errors = errors_of(serializers.LimitOrderRequest, data)

    assert errors["limit_prise"] == ["Unknown field."]


@pytest.mark.parametrize("field", ["quantity", "limit_price"])
def test_a_boolean_is_refused_where_a_number_is_expected(field: str) -> None:
    assert field in errors_of(serializers.LimitOrderRequest, {**LIMIT, field: True})


@pytest.mark.parametrize("perm_id", [True, 1.0, "1", 0, 2**63, None])
def test_a_perm_id_must_be_a_json_integer_within_its_bounds(perm_id: Any) -> None:
    assert "perm_id" in errors_of(serializers.CancelOrderRequest, {"perm_id": perm_id})


def test_the_largest_perm_id_is_accepted() -> None:
    form = serializers.CancelOrderRequest(data={"perm_id": 2**63 - 1})

    assert form.is_valid(), form.errors


def test_a_fractional_quantity_is_refused() -> None:
    data = {"symbol": "AAPL", "action": "BUY", "quantity": 1.5}

    errors = errors_of(serializers.MarketOrderRequest, data)

    assert "whole number" in str(errors["quantity"])


@pytest.mark.parametrize("quantity", [0, -10])
def test_a_quantity_of_zero_or_less_is_refused(quantity: int) -> None:
    data = {"symbol": "AAPL", "action": "BUY", "quantity": quantity}

    assert "quantity" in errors_of(serializers.MarketOrderRequest, data)


# --- issue 11: every number bounded, strict types, the exact rules the schema states ---


EXTREMES = [1e308, 1.7976931348623157e308, -1.7976931348623157e308, 10**400, 1e27, -(10**30)]


@pytest.mark.parametrize(
    ("serializer_class", "body", "field"),
    [
        (serializers.LimitOrderRequest, LIMIT, "limit_price"),
        (serializers.StopOrderRequest, {**LIMIT, "stop_price": 1.0}, "stop_price"),
        (serializers.BracketOrderRequest, BRACKET, "entry_price"),
        (serializers.BracketOrderRequest, BRACKET, "stop_loss"),
        (serializers.BracketOrderRequest, BRACKET, "take_profit"),
        (serializers.LimitOrderRequest, LIMIT, "quantity"),
    ],
)
@pytest.mark.parametrize(
    "value",
    [*EXTREMES, math.inf, -math.inf, math.nan],
    ids=["1e308", "max", "-max", "10**400", "1e27", "-10**30", "inf", "-inf", "nan"],
)
def test_an_extreme_number_is_refused_as_out_of_bounds_without_an_exception(
    serializer_class: type[drf.Serializer],
    body: dict[str, Any],
    field: str,
    value: Any,  # type: ignore[type-arg]
) -> None:
    """Regression (issue 11): a price of 1e308 reached the tick check, whose
    Decimal arithmetic raised InvalidOperation (a 500)."""
    if serializer_class is serializers.StopOrderRequest:
        body = {k: v for k, v in body.items() if k != "limit_price"}

    errors = errors_of(serializer_class, {**body, field: value})

    assert list(errors) == [field]


@pytest.mark.parametrize("value", ["230", "1e308", "NaN", [230.0], {"price": 230.0}, None])
def test_a_number_sent_as_anything_but_a_json_number_is_refused(value: Any) -> None:
    errors = errors_of(serializers.LimitOrderRequest, {**LIMIT, "limit_price": value})

    assert list(errors) == ["limit_price"]


@pytest.mark.parametrize(("price", "accepted"), [(1_000_000, True), (1_000_000.01, False)])
def test_a_price_is_bounded_by_max_price(price: float, accepted: bool) -> None:
    form = serializers.LimitOrderRequest(data={**LIMIT, "limit_price": price})

    assert form.is_valid() is accepted


@pytest.mark.parametrize("order_ref", [0, 1.5, True, ["ref"], {"ref": 1}])
def test_an_order_ref_must_be_a_string(order_ref: Any) -> None:
    """Regression (issue 11): order_ref 0 was accepted (as "0") though the
    schema says string."""
    errors = errors_of(serializers.LimitOrderRequest, {**LIMIT, "order_ref": order_ref})

    assert errors["order_ref"] == ["Must be a string."]


def test_an_order_ref_is_kept_as_sent_and_counted_untrimmed() -> None:
    padded = " ref " + " " * 60

    assert serializers.LimitOrderRequest(data={**LIMIT, "order_ref": " ref "}).is_valid()
    assert "order_ref" in errors_of(serializers.LimitOrderRequest, {**LIMIT, "order_ref": padded})


def test_an_order_ref_with_nul_is_refused_once() -> None:
    errors = errors_of(serializers.LimitOrderRequest, {**LIMIT, "order_ref": "a\x00b"})

    assert errors["order_ref"] == ["Must not contain NUL."]


@pytest.mark.parametrize("action", ["buy", " BUY", "Sell", 1, None])
def test_the_action_is_exactly_buy_or_sell(action: Any) -> None:
    assert "action" in errors_of(serializers.LimitOrderRequest, {**LIMIT, "action": action})


def query(text: str) -> serializers.ExecutionsQuery:
    return serializers.ExecutionsQuery(data=QueryDict(text))


@pytest.mark.parametrize(
    "text",
    [
        "limit=010",
        "limit=1.0",
        "limit=%2B5",
        "limit=",
        "limit=1&limit=2",
        "symbol=",
        "offset=1000001",
        "since=2024-01-15",
        "since=2024-01-15T14:30:00",
        "since=2024-01-15 14:30:00Z",
        "since=2023-02-29T00:00:00Z",
        "since=2024-01-15T12:59:60Z",
        "since=2024-01-15T14:30:00%2B24:00",
    ],
)
def test_a_query_value_outside_its_stated_rule_is_refused(text: str) -> None:
    form = query(text)

    assert not form.is_valid()
    assert set(form.errors) <= {"limit", "offset", "symbol", "since"}


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("2024-01-15T14:30:00Z", dt.datetime(2024, 1, 15, 14, 30, tzinfo=dt.UTC)),
        ("2024-01-15t15:30:00.1234567+01:00", dt.datetime(2024, 1, 15, 14, 30, 0, 123456, dt.UTC)),
        ("1990-12-31T15:59:60-08:00", dt.datetime(1991, 1, 1, tzinfo=dt.UTC)),
        ("2024-02-29T00:00:00z", dt.datetime(2024, 2, 29, tzinfo=dt.UTC)),
        ("0000-01-01T00:00:00Z", dt.datetime.min.replace(tzinfo=dt.UTC)),
        ("9999-12-31T23:59:59-23:59", dt.datetime.max.replace(tzinfo=dt.UTC)),
    ],
)
def test_an_rfc_3339_date_time_names_its_utc_instant(text: str, instant: dt.datetime) -> None:
    """Exactly what OpenAPI's date-time admits (year 0000, leap seconds and
    offsets up to 23:59 included); instants beyond Python's years clamp."""
    assert fields.rfc3339_instant(text) == instant


def test_a_query_parameter_given_twice_is_named_in_the_errors() -> None:
    form = query("limit=1&limit=2")

    assert not form.is_valid()
    assert form.errors == {"limit": ["Given more than once."]}


def test_an_empty_query_value_is_a_value_not_an_absent_parameter() -> None:
    """DRF's form handling would drop ``symbol=`` and list every symbol."""
    form = query("symbol=")

    assert not form.is_valid()
    assert form.errors == {"symbol": ["This field may not be blank."]}


# --- the schema states the rules the fields enforce --------------------------------------


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    result: dict[str, Any] = SchemaGenerator().get_schema(request=None, public=True)
    return result


def test_a_price_states_its_bounds_and_tick_grid(components: dict[str, Any]) -> None:
    price = components["LimitOrderRequestRequest"]["properties"]["limit_price"]

    assert (price["minimum"], price["exclusiveMinimum"]) == (0, True)
    assert price["maximum"] == fields.MAX_PRICE
    assert price["anyOf"] == [
        {"multipleOf": 0.01, "minimum": 1},
        {"multipleOf": 0.0001, "maximum": 1, "exclusiveMaximum": True},
    ]


def test_a_quantity_states_a_whole_positive_number_up_to_max_quantity(
    components: dict[str, Any],
) -> None:
    quantity = components["MarketOrderRequestRequest"]["properties"]["quantity"]

    assert (quantity["minimum"], quantity["exclusiveMinimum"]) == (0, True)
    assert (quantity["multipleOf"], quantity["maximum"]) == (1, fields.MAX_QUANTITY)


def test_request_and_response_objects_allow_no_other_properties(
    components: dict[str, Any],
) -> None:
    objects = {name: c for name, c in components.items() if c.get("type") == "object"}

    assert {
        name for name, c in objects.items() if c.get("additionalProperties") is not False
    } == set()
    assert {"LimitOrderRequestRequest", "ErrorOut"} <= set(objects)


def test_a_symbol_states_the_pattern_it_is_checked_with(components: dict[str, Any]) -> None:
    symbol = components["LimitOrderRequestRequest"]["properties"]["symbol"]

    assert symbol["pattern"] == schema_module.ecma_pattern(fields.SYMBOL_PATTERN)
    assert symbol["maxLength"] == fields.SYMBOL_MAX_LENGTH
    assert re.fullmatch(symbol["pattern"].rstrip("$"), "BRK.B")


def test_every_order_operation_states_the_idempotency_key_rule(schema: dict[str, Any]) -> None:
    """The root's; /v2's in tests/v2/test_schema.py."""
    posts = {
        path: ops["post"]
        for path, ops in schema["paths"].items()
        if "post" in ops and not path.startswith("/v2/")
    }

    for path, operation in posts.items():
        (header,) = [p for p in operation["parameters"] if p["in"] == "header"]
        assert header["name"] == "Idempotency-Key", path
        assert header["schema"]["pattern"] == schema_module.ecma_pattern(idempotency.KEY_PATTERN)
        assert header["schema"]["maxLength"] == idempotency.KEY_MAX_LENGTH
        assert {"400", "401", "403", "409", "415"} <= set(operation["responses"]), path
    assert set(posts) == {
        f"/order/{kind}" for kind in ("limit", "market", "stop", "bracket", "cancel")
    }


def test_every_error_status_is_documented_with_the_detail_body(schema: dict[str, Any]) -> None:
    """At the root; /v2's errors are Alpaca's (tests/v2/test_schema.py)."""
    error = {"$ref": "#/components/schemas/ErrorOut"}
    for path, operations in schema["paths"].items():
        if path.startswith("/v2/"):
            continue
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400 and path != "/health":
                    assert response["content"]["application/json"]["schema"] == error, (
                        method, path, status,
                    )  # fmt: skip
    executions = schema["paths"]["/executions"]["get"]["responses"]
    assert {"400", "401", "403", "406", "503"} <= set(executions)
    assert schema["paths"]["/health"]["get"].get("security") is None


def test_an_orders_answer_links_to_its_cancel(schema: dict[str, Any]) -> None:
    links = schema["paths"]["/order/limit"]["post"]["responses"]["200"]["links"]

    assert links["CancelOrder"] == {
        "operationId": schema["paths"]["/order/cancel"]["post"]["operationId"],
        "requestBody": {"perm_id": "$response.body#/permId"},
    }
