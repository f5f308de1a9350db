"""Bad input gets a 400 with a clear {"detail": ...} and reaches no gateway."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.stack import Stack

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("live_db")]

LIMIT = {"symbol": "AAPL", "action": "BUY", "quantity": 10, "limit_price": 230.00}


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
