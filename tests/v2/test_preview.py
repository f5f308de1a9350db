"""POST /v2/orders/preview (IB's extra, what-if) over raw HTTP against the
real stack: the same body as an order, IB's commission, margins and equity
with loan before, change and after, and nothing placed."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest

from tests.stack import Stack
from tests.v2.conftest import Key

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("live_db")]

NUMBERS = [
    "commission",
    "min_commission",
    "max_commission",
    "init_margin_before",
    "init_margin_change",
    "init_margin_after",
    "maint_margin_before",
    "maint_margin_change",
    "maint_margin_after",
    "equity_with_loan_before",
    "equity_with_loan_change",
    "equity_with_loan_after",
]


def body(**change: Any) -> dict[str, Any]:
    return {
        "symbol": "AAPL",
        "qty": "100",
        "side": "buy",
        "type": "limit",
        "time_in_force": "day",
        "limit_price": "230",
        "client_order_id": f"v2-preview-{uuid.uuid4().hex[:8]}",
        **change,
    }


def test_a_preview_answers_ibs_what_if_and_places_nothing(api: Stack, trade_key: Key) -> None:
    request = body()
    orders_before = len(api.sim.call("orders"))

    response = api.post("/v2/orders/preview", request, headers=trade_key.headers)

    assert response.status_code == 200, response.text
    preview = response.json()
    assert set(preview) == {*NUMBERS, "commission_currency", "warning_text"}
    numbers = {name: Decimal(preview[name]) for name in NUMBERS}
    assert numbers["commission"] == Decimal("1")  # 100 shares at USD 0.005, the minimum 1
    assert numbers["min_commission"] == numbers["max_commission"] == numbers["commission"]
    assert numbers["init_margin_change"] > 0
    for kind in ("init_margin", "maint_margin", "equity_with_loan"):
        before, change, after = (
            numbers[f"{kind}_{part}"] for part in ("before", "change", "after")
        )
        assert abs(before + change - after) <= Decimal("0.02"), kind
    assert preview["commission_currency"] == "USD"
    assert preview["warning_text"] == ""
    assert len(api.sim.call("orders")) == orders_before
    assert [o for o in api.sim.call("orders") if o["order_ref"] == request["client_order_id"]] == []


def test_a_preview_of_a_bracket_is_its_entrys(api: Stack, trade_key: Key) -> None:
    request = body(
        order_class="bracket",
        take_profit={"limit_price": "260"},
        stop_loss={"stop_price": "200"},
    )

    response = api.post("/v2/orders/preview", request, headers=trade_key.headers)

    assert response.status_code == 200, response.text
    assert Decimal(response.json()["init_margin_change"]) > 0


def test_a_preview_takes_the_orders_validation(api: Stack, trade_key: Key) -> None:
    response = api.post("/v2/orders/preview", body(qty="1.5"), headers=trade_key.headers)

    assert response.status_code == 422, response.text
    assert response.json()["message"].startswith("qty: fractional qty is not supported")


def test_a_preview_the_account_could_not_take_is_ibs_refusal(api: Stack, trade_key: Key) -> None:
    response = api.post(
        "/v2/orders/preview", body(qty="1000000", limit_price="230"), headers=trade_key.headers
    )

    # IB's margin check: Alpaca's "insufficient buying power", 403.
    assert response.status_code == 403, response.text
    assert response.json()["message"].startswith("Failed to preview limit order:")
    assert "EQUITY WITH LOAN" in response.json()["message"]


def test_a_read_token_may_not_preview(api: Stack, read_key: Key) -> None:
    response = api.post("/v2/orders/preview", body(), headers=read_key.headers)

    assert response.status_code == 403, response.text
