"""Partial fills through the service: an order larger than the liquidity at
its price fills in several executions, and /orders and /executions show them
as IB reports them (issue 12: the service shows partial fills correctly)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.api.test_orders import executions_for, pending
from tests.stack import Stack, eventually

pytestmark = pytest.mark.stack

SYMBOL = "XOM"  # no other test of the shared stack trades it


@pytest.fixture
def thin_book(api: Stack) -> Iterator[dict[str, float]]:
    """100 shares on each price level of XOM's book, one cent apart."""
    api.sim.call("set_quote", symbol=SYMBOL, bid=117.59, ask=117.61, last=117.60)
    api.sim.call("set_liquidity", symbol=SYMBOL, shares=100)
    try:
        yield api.sim.call("quote", symbol=SYMBOL)
    finally:
        api.sim.call("set_liquidity", symbol=SYMBOL)  # back to the default depth


def test_a_marketable_limit_fills_in_parts_and_rests_with_the_rest(
    api: Stack, thin_book: dict[str, float]
) -> None:
    ref = f"partial-{uuid.uuid4().hex[:8]}"
    # Up to two levels above the ask: 200 shares there, 50 left to rest.
    limit = round(thin_book["ask"] + 0.01, 2)
    response = api.post(
        "/order/limit",
        {"symbol": SYMBOL, "action": "BUY", "quantity": 250, "limit_price": limit,
         "order_ref": ref},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    perm_id = response.json()["permId"]

    fills = eventually(lambda: (rows := executions_for(api, ref)) and len(rows) == 2 and rows)
    assert sorted((row["qty"], row["price"]) for row in fills) == [
        (100, thin_book["ask"]),
        (100, limit),
    ]
    assert len({row["execId"] for row in fills}) == 2
    order = eventually(lambda: (o := pending(api).get(perm_id)) and o["filled"] == 200 and o)
    assert (order["quantity"], order["filled"], order["status"]) == (250, 200, "SUBMITTED")

    cancelled = api.post("/order/cancel", {"perm_id": perm_id})
    assert cancelled.status_code == 200, cancelled.text
    eventually(lambda: perm_id not in pending(api))
    assert len(executions_for(api, ref)) == 2  # the rest was never filled


def test_a_market_order_walks_the_book_in_several_executions(
    api: Stack, thin_book: dict[str, float]
) -> None:
    ref = f"walk-{uuid.uuid4().hex[:8]}"
    response = api.post(
        "/order/market", {"symbol": SYMBOL, "action": "BUY", "quantity": 250, "order_ref": ref}
    )
    assert response.status_code == 200, response.text

    fills = eventually(lambda: (rows := executions_for(api, ref)) and len(rows) == 3 and rows)
    ask = thin_book["ask"]
    assert sorted((row["qty"], row["price"]) for row in fills) == [
        (50, round(ask + 0.02, 2)),
        (100, ask),
        (100, round(ask + 0.01, 2)),
    ]
    # One order's commission: IB's minimum once, on its first execution.
    assert sum(row["commission"] for row in fills) == pytest.approx(1.25)
