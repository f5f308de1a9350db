"""Bad input gets a 400 with a clear {"detail": ...} and reaches no gateway."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.stack import Stack

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("live_db")]

LIMIT = {"symbol": "AAPL", "action": "BUY", "quantity": 10, "limit_price": 230.00}
STOP = {"symbol": "AAPL", "action": "SELL", "quantity": 10, "stop_price": 225.00}
BRACKET = {
    "symbol": "AAPL",
    "action": "BUY",
    "quantity": 10,
    "entry_price": 230.00,
    "stop_loss": 225.00,
    "take_profit": 240.00,
}
TOO_LARGE = "Ensure this value is less than or equal to 1000000.0."


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/order/limit", {**LIMIT, "quantity": -1}, "quantity: Must be greater than 0."),
        ("/order/limit", {**LIMIT, "quantity": 0}, "quantity: Must be greater than 0."),
        ("/order/limit", {**LIMIT, "quantity": 1.5}, "quantity: Must be a whole number of shares."),
        ("/order/limit", {**LIMIT, "quantity": True}, "quantity: A valid number is required."),
        ("/order/limit", {**LIMIT, "limit_price": 0}, "limit_price: Must be greater than 0."),
        ("/order/limit", {**LIMIT, "limit_price": 230.001}, "limit_price: Must be a multiple"),
        ("/order/limit", {**LIMIT, "limit_price": "abc"}, "limit_price: A valid number"),
        ("/order/limit", {**LIMIT, "action": "HOLD"}, 'action: "HOLD" is not a valid choice.'),
        ("/order/limit", {**LIMIT, "symbol": "AA PL"}, "symbol: Must be a stock symbol"),
        ("/order/limit", {**LIMIT, "symbol": 123}, "symbol: Must be a string."),
        ("/order/limit", {**LIMIT, "limit_prize": 1}, "limit_prize: Unknown field."),
        ("/order/limit", {k: v for k, v in LIMIT.items() if k != "limit_price"}, "limit_price:"),
        ("/order/market", {"symbol": "AAPL", "action": "BUY"}, "quantity: This field is required."),
        ("/order/stop", {**LIMIT}, "limit_price: Unknown field."),
        ("/order/limit", {**LIMIT, "quantity": "10"}, "quantity: A valid number is required."),
        ("/order/limit", {**LIMIT, "order_ref": 0}, "order_ref: Must be a string."),
        ("/order/limit", {**LIMIT, "action": "buy"}, 'action: "buy" is not a valid choice.'),
        ("/order/cancel", {"perm_id": 1.0}, "perm_id: A valid integer is required."),
        ("/order/cancel", {"perm_id": "x"}, "perm_id: A valid integer is required."),
        ("/order/cancel", {"perm_id": True}, "perm_id: A valid integer is required."),
        ("/order/cancel", {}, "perm_id: This field is required."),
        ("/order/limit", ["AAPL"], "Invalid data. Expected a dictionary, but got list."),
        (
            "/order/bracket",
            {**LIMIT, "entry_price": 230, "stop_loss": 235, "take_profit": 240},
            "stop_loss < entry_price < take_profit",
        ),
        (
            "/order/bracket",
            {
                "symbol": "AAPL",
                "action": "SELL",
                "quantity": 1,
                "entry_price": 230,
                "stop_loss": 225,
                "take_profit": 220,
            },
            "take_profit < entry_price < stop_loss",
        ),
    ],
)
def test_invalid_bodies_are_400_with_a_detail(
    api: Stack, path: str, body: Any, message: str
) -> None:
    if path == "/order/bracket":
        body = {k: v for k, v in body.items() if k != "limit_price"}
    placed_before = api.sim.call("counters")["place_messages"]

    response = api.post(path, body)

    assert response.status_code == 400, response.text
    assert message in response.json()["detail"]
    assert api.sim.call("counters")["place_messages"] == placed_before


@pytest.mark.parametrize(
    ("data", "content_type", "status", "detail"),
    [
        ("{bad", "application/json", 400, "JSON parse error"),
        ('{"symbol": "AAPL", "quantity": NaN}', "application/json", 400, "JSON parse error"),
        ("symbol=AAPL", "application/x-www-form-urlencoded", 415, "Unsupported media type"),
    ],
)
def test_malformed_requests(
    api: Stack, data: str, content_type: str, status: int, detail: str
) -> None:
    response = requests.post(
        api.url("/order/limit"), data=data, headers={"Content-Type": content_type}, timeout=10
    )
    assert response.status_code == status
    assert detail in response.json()["detail"]


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/order/limit", {**LIMIT, "limit_price": 1e308}, f"limit_price: {TOO_LARGE}"),
        ("/order/stop", {**STOP, "stop_price": 1.7976931348623157e308}, f"stop_price: {TOO_LARGE}"),
        ("/order/bracket", {**BRACKET, "take_profit": 1e308}, f"take_profit: {TOO_LARGE}"),
        ("/order/bracket", {**BRACKET, "stop_loss": -1e308}, "stop_loss: Must be greater than 0."),
        ("/order/limit", {**LIMIT, "quantity": 1e308}, f"quantity: {TOO_LARGE}"),
    ],
)
def test_a_price_or_quantity_at_the_end_of_a_double_is_400_not_500(
    api: Stack, path: str, body: dict[str, Any], message: str
) -> None:
    """Regression (issue 11): 1e308 reached the tick check, whose Decimal
    arithmetic raised InvalidOperation: a 500."""
    placed_before = api.sim.call("counters")["place_messages"]

    response = api.post(path, body)

    assert response.status_code == 400, response.text
    assert response.json()["detail"] == message
    assert api.sim.call("counters")["place_messages"] == placed_before


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("1e999", "quantity: A valid number is required."),  # Python reads it as inf
        ("1" + "0" * 400, f"quantity: {TOO_LARGE}"),  # an int no float holds
    ],
)
def test_a_number_json_reads_but_no_double_holds_is_400(
    api: Stack, number: str, message: str
) -> None:
    data = f'{{"symbol": "AAPL", "action": "BUY", "quantity": {number}, "limit_price": 1}}'

    response = requests.post(
        api.url("/order/limit"),
        data=data,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )

    assert response.status_code == 400, response.text
    assert response.json()["detail"] == message


@pytest.mark.parametrize("key", ["", "a" * 256, "tab\there", "ключ".encode().decode("latin-1")])
def test_an_idempotency_key_outside_its_rule_is_400_and_nothing_is_sent(
    api: Stack, key: str
) -> None:
    placed_before = api.sim.call("counters")["place_messages"]

    response = api.post("/order/limit", LIMIT, headers={"Idempotency-Key": key})

    assert response.status_code == 400, response.text
    assert response.json() == {
        "detail": "Idempotency-Key must be 1 to 255 visible ASCII characters (spaces only inside)"
    }
    assert api.sim.call("counters")["place_messages"] == placed_before
