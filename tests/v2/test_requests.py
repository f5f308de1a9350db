"""/v2's request serializers and error rendering alone (no stack): what an
order request must be, what is refused by name and why, and
the one table of Alpaca's statuses and codes."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework import exceptions

from trading.error_handler import ALPACA_STATUSES, alpaca_error
from trading.exceptions import (
    GatewayUnavailable,
    LimitExceeded,
    OrderNotFound,
    OrderRejected,
    TradingHalted,
)
from v2api import serializers
from v2api.exceptions import DuplicateClientOrderId

LIMIT = {
    "symbol": "aapl",
    "qty": 10,
    "side": "buy",
    "type": "limit",
    "time_in_force": "day",
    "limit_price": 230.0,
}


def errors_of(body: dict[str, Any]) -> dict[str, Any]:
    form = serializers.order_request(body)
    assert not form.is_valid()
    return {name: [str(m) for m in messages] for name, messages in form.errors.items()}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (LIMIT, {"symbol": "AAPL", "qty": 10.0, "limit_price": 230.0}),
        ({**LIMIT, "qty": "10", "limit_price": "230.50"}, {"qty": 10.0, "limit_price": 230.5}),
        ({**LIMIT, "limit_price": "0.0001"}, {"limit_price": 0.0001}),
        ({**LIMIT, "order_class": "simple", "extended_hours": False}, {"order_class": "simple"}),
        ({**LIMIT, "client_order_id": "mine-1"}, {"client_order_id": "mine-1"}),
    ],
)
def test_an_order_as_alpaca_py_or_curl_sends_it_is_accepted(
    body: dict[str, Any], expected: dict[str, Any]
) -> None:
    form = serializers.order_request(body)

    assert form.is_valid(), form.errors
    assert expected.items() <= dict(form.validated_data).items()


TAKE_PROFIT = {"take_profit": {"limit_price": 240}}
STOP_LOSS = {"stop_loss": {"stop_price": 220}}
EXITS = {**TAKE_PROFIT, **STOP_LOSS}


@pytest.mark.parametrize(
    "change",
    [
        {"type": "stop_limit", "stop_price": 231, "limit_price": 232},
        {"type": "trailing_stop", "trail_price": 1.5, "limit_price": None},
        {"type": "trailing_stop", "trail_percent": "0.5", "limit_price": None},
        *[{"time_in_force": tif} for tif in ("gtc", "opg", "cls", "ioc", "fok")],
        *[{"type": "market", "time_in_force": tif, "limit_price": None} for tif in ("opg", "cls")],
        {"extended_hours": True},
        {"order_class": "bracket", **EXITS},
        {"order_class": "bracket", **EXITS, "stop_loss": {"stop_price": 220, "limit_price": 219}},
        {"order_class": "oto", **STOP_LOSS},
        {"order_class": "oco", **EXITS, "limit_price": None},
        {"order_class": "oco", **EXITS, "limit_price": None, "time_in_force": "gtc"},
    ],
)
def test_every_order_type_time_in_force_and_class_is_accepted(change: dict[str, Any]) -> None:
    body = {k: v for k, v in {**LIMIT, **change}.items() if v is not None}
    form = serializers.order_request(body)

    assert form.is_valid(), form.errors


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"type": "stop", "stop_price": 1, "limit_price": None, "time_in_force": "opg"},
            "time_in_force",
            "time_in_force opg is not accepted for a stop order",
        ),
        (
            {"extended_hours": True, "time_in_force": "gtc"},
            "extended_hours",
            "true only with time_in_force day",
        ),
        (
            {"type": "market", "limit_price": None, "extended_hours": True},
            "extended_hours",
            "extended_hours true is only for limit orders",
        ),
        (
            {"order_class": "mleg"},
            "order_class",
            "order_class mleg is not accepted for a limit order",
        ),
        (
            {"type": "market", "limit_price": None, "order_class": "oco"},
            "order_class",
            "order_class oco is not accepted for a market order",
        ),
        ({"notional": 500}, "notional", "notional orders are not supported"),
        ({"qty": 1.5}, "qty", "fractional qty is not supported"),
        ({"qty": "1.5"}, "qty", "fractional qty is not supported"),
        ({"trail_price": 1}, "trail_price", "trail_price is not accepted for a limit order"),
        (TAKE_PROFIT, "take_profit", "Only for bracket, oco and oto orders"),
        (
            {"order_class": "oco", **EXITS, "limit_price": 241},
            "limit_price",
            "An oco order's limit price is take_profit.limit_price",
        ),
        (
            {"order_class": "oco", **TAKE_PROFIT, "limit_price": None},
            "stop_loss",
            "This field is required",
        ),
        (
            {"order_class": "bracket", **EXITS, "time_in_force": "ioc"},
            "time_in_force",
            "bracket orders take day or gtc",
        ),
        (
            {"order_class": "bracket", **TAKE_PROFIT},
            "non_field_errors",
            "bracket orders require take_profit.limit_price and stop_loss.stop_price",
        ),
        (
            {"order_class": "oto", **EXITS},
            "non_field_errors",
            "oto orders require either take_profit or stop_loss",
        ),
        (
            {"type": "trailing_stop", "limit_price": None, "trail_price": 1, "trail_percent": 1},
            "non_field_errors",
            "trailing_stop orders take either",
        ),
        (
            {"type": "trailing_stop", "limit_price": None},
            "non_field_errors",
            "trailing_stop orders take either",
        ),
        (
            {"type": "stop_limit", "stop_price": 231, "limit_price": None},
            "limit_price",
            "This field is required",
        ),
    ],
)
def test_what_alpaca_or_ib_does_not_take_is_refused_by_name(
    change: dict[str, Any], field: str, message: str
) -> None:
    errors = errors_of({k: v for k, v in {**LIMIT, **change}.items() if v is not None})

    assert field in errors, errors
    assert errors[field][0].startswith(message), errors


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"qty": None}, "qty"),
        ({"qty": 0}, "qty"),
        ({"qty": "ten"}, "qty"),
        ({"side": "BUY"}, "side"),
        ({"limit_price": 230.001}, "limit_price"),
        ({"limit_price": "230.001"}, "limit_price"),
        ({"stop_price": 220.0}, "stop_price"),  # a limit order takes no stop price
        ({"type": "market"}, "limit_price"),  # nor does a market order a limit price
        ({"type": None}, "type"),
        ({"client_order_id": "x" * 129}, "client_order_id"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_input_names_the_field(change: dict[str, Any], field: str) -> None:
    body = {k: v for k, v in {**LIMIT, **change}.items() if v is not None or k == "type"}

    assert field in errors_of(body)


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (exceptions.ValidationError({"qty": ["bad"]}), 422, 42210000),
        (OrderRejected("Failed to place limit order: no such symbol"), 422, 42210000),
        (DuplicateClientOrderId(), 422, 42210000),
        (LimitExceeded("Quantity 20000 exceeds the maximum"), 403, 40310000),
        (TradingHalted(), 403, 40310000),
        (OrderNotFound(), 404, 40410000),
        (exceptions.NotAuthenticated(), 401, 40110000),
        (exceptions.Throttled(), 429, 42910000),
        (GatewayUnavailable(), 503, 50310000),
    ],
)
def test_errors_in_alpacas_statuses_and_codes(
    error: exceptions.APIException, status: int, code: int
) -> None:
    answered, body = alpaca_error(error)

    assert (answered, body["code"]) == (status, code)
    assert set(body) == {"code", "message"}
    assert body["message"]


def test_the_status_table_differs_from_the_root_only_where_alpaca_does() -> None:
    assert {cls.__name__: status for cls, status in ALPACA_STATUSES.items()} == {
        "ValidationError": 422,
        "InvalidIdempotencyKey": 422,
        "InsufficientFunds": 403,
        "OrderRejected": 422,
        "LimitExceeded": 403,
    }
