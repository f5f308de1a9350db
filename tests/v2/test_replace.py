"""PATCH /v2/orders/{id}: alpaca-py's replace_order_by_id against the real
stack.  IB changes the order in place (its permId stays, the simulator's
book shows the new quantity and prices); Alpaca's client sees a new order
that ``replaces`` the old one, the old one ``replaced`` by it, each found by
its id and its client_order_id."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest
import requests
from alpaca.common.enums import Sort
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, OrderStatus, QueryOrderStatus, TimeInForce
from alpaca.trading.models import Order
from alpaca.trading.requests import (
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    ReplaceOrderRequest,
    StopOrderRequest,
    TrailingStopOrderRequest,
)

from tests.stack import Stack, eventually
from tests.v2.conftest import Key
from tests.v2.test_client import parsed, parsed_list, status_becomes
from v2api import ids

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("live_db")]

SYMBOL = "IWM"


def below_market(api: Stack, fraction: float = 0.9) -> float:
    """A buy limit price that rests (well below the bid)."""
    return round(api.sim.call("get_price", symbol=SYMBOL) * fraction, 2)


def resting_buy(client: TradingClient, api: Stack, qty: int = 5, **extra: Any) -> Order:
    request = LimitOrderRequest(
        symbol=SYMBOL,
        qty=qty,
        side=OrderSide.BUY,
        time_in_force=TimeInForce.DAY,
        limit_price=below_market(api),
        **extra,
    )
    order = parsed(client.submit_order(request), Order)
    return status_becomes(client, order.id, OrderStatus.NEW)


def works(client: TradingClient, order: Order) -> None:
    """Until the order works at IB (a stop waits for its trigger: accepted)."""
    working = (OrderStatus.NEW, OrderStatus.ACCEPTED)
    eventually(lambda: parsed(client.get_order_by_id(order.id), Order).status in working)


def in_the_book(api: Stack, order: Order) -> dict[str, Any]:
    perm_id = ids.perm_id_of(order.id)
    [row] = [o for o in api.sim.call("orders") if o["perm_id"] == perm_id]
    return dict(row)


def refused(call: Any, status: int) -> str:
    with pytest.raises(APIError) as caught:
        call()
    assert caught.value.status_code == status, caught.value
    message: str = caught.value.message
    return message


def test_a_limit_orders_qty_and_price_are_replaced_in_place(
    client: TradingClient, api: Stack
) -> None:
    old = resting_buy(client, api, client_order_id=f"first-{uuid.uuid4().hex[:8]}")
    price = below_market(api, 0.92)

    new = parsed(
        client.replace_order_by_id(old.id, ReplaceOrderRequest(qty=7, limit_price=price)), Order
    )

    assert new.id != old.id
    assert new.replaces == old.id
    assert ids.perm_id_of(new.id) == ids.perm_id_of(old.id)  # IB's one order
    assert (new.qty, Decimal(new.limit_price or "nan")) == ("7", Decimal(str(price)))
    assert new.client_order_id not in ("", old.client_order_id)
    assert new.status in (OrderStatus.NEW, OrderStatus.ACCEPTED)
    book = in_the_book(api, old)
    assert (book["quantity"], book["lmt_price"], book["order_ref"]) == (
        7,
        price,
        new.client_order_id,
    )

    before = parsed(client.get_order_by_id(old.id), Order)
    assert (before.status, before.replaced_by, before.qty) == (OrderStatus.REPLACED, new.id, "5")
    assert before.limit_price == old.limit_price
    assert before.replaced_at is not None
    by_old_ref = parsed(client.get_order_by_client_id(old.client_order_id), Order)
    assert (by_old_ref.id, by_old_ref.status) == (old.id, OrderStatus.REPLACED)
    by_new_ref = parsed(client.get_order_by_client_id(new.client_order_id), Order)
    assert (by_new_ref.id, by_new_ref.replaces) == (new.id, old.id)

    def listed(status: QueryOrderStatus) -> dict[Any, OrderStatus]:
        query = GetOrdersRequest(status=status, symbols=[SYMBOL], limit=500)
        return {o.id: o.status for o in parsed_list(client.get_orders(query), Order)}

    # As at Alpaca: the replaced order is a closed order of its own.
    assert new.id in listed(QueryOrderStatus.OPEN)
    assert old.id not in listed(QueryOrderStatus.OPEN)
    assert listed(QueryOrderStatus.CLOSED).get(old.id) == OrderStatus.REPLACED
    assert new.id not in listed(QueryOrderStatus.CLOSED)
    everything = listed(QueryOrderStatus.ALL)
    assert (everything.get(old.id), everything.get(new.id)) == (
        OrderStatus.REPLACED,
        new.status,
    )

    client.cancel_order_by_id(new.id)
    assert status_becomes(client, new.id, OrderStatus.CANCELED).replaces == old.id
    closed = listed(QueryOrderStatus.CLOSED)
    assert (closed.get(old.id), closed.get(new.id)) == (OrderStatus.REPLACED, OrderStatus.CANCELED)


def test_an_order_is_pending_replace_until_ib_acknowledges_its_replacement(
    client: TradingClient, api: Stack
) -> None:
    old = resting_buy(client, api)
    api.sim.call("set_delay", ms=1000)  # IB takes a second to acknowledge
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            replacing = pool.submit(client.replace_order_by_id, old.id, ReplaceOrderRequest(qty=7))
            seen = eventually(
                lambda: (
                    parsed(client.get_order_by_id(old.id), Order).status
                    == OrderStatus.PENDING_REPLACE
                ),
                timeout=10,
                interval=0.05,
            )
            assert seen
            assert not replacing.done()  # the PATCH still waits for IB
            new = parsed(replacing.result(timeout=20), Order)
    finally:
        api.sim.call("set_delay", ms=0)
    assert (new.status, new.qty, new.replaces) == (OrderStatus.NEW, "7", old.id)
    after = parsed(client.get_order_by_id(old.id), Order)
    assert (after.status, after.replaced_by) == (OrderStatus.REPLACED, new.id)


def test_a_replacement_is_replaced_again_and_the_old_id_is_refused(
    client: TradingClient, api: Stack
) -> None:
    first = resting_buy(client, api)
    second = parsed(client.replace_order_by_id(first.id, ReplaceOrderRequest(qty=6)), Order)

    message = refused(lambda: client.replace_order_by_id(first.id, ReplaceOrderRequest(qty=8)), 422)
    assert str(second.id) in message  # the order to replace instead
    third = parsed(
        client.replace_order_by_id(
            second.id, ReplaceOrderRequest(time_in_force=TimeInForce.GTC, client_order_id="third")
        ),
        Order,
    )

    assert (third.replaces, third.client_order_id) == (second.id, "third")
    assert (third.qty, third.time_in_force) == ("6", TimeInForce.GTC)
    assert in_the_book(api, first)["tif"] == "GTC"
    middle = parsed(client.get_order_by_id(second.id), Order)
    assert (middle.status, middle.replaces, middle.replaced_by) == (
        OrderStatus.REPLACED,
        first.id,
        third.id,
    )
    assert middle.time_in_force == TimeInForce.DAY
    # Listed once per revision, side by side, the newest first (desc) or last.
    for direction, expected in (
        (Sort.DESC, [third, second, first]),
        (Sort.ASC, [first, second, third]),
    ):
        query = GetOrdersRequest(
            status=QueryOrderStatus.ALL, symbols=[SYMBOL], limit=500, direction=direction
        )
        listed = [o.id for o in parsed_list(client.get_orders(query), Order)]
        at = listed.index(expected[0].id)
        assert listed[at : at + 3] == [o.id for o in expected]


def test_a_stop_and_a_trailing_stop_are_repriced(client: TradingClient, api: Stack) -> None:
    api.sim.call("set_position", symbol=SYMBOL, quantity=20, avg_cost=100.0)
    price = api.sim.call("get_price", symbol=SYMBOL)
    stop = parsed(
        client.submit_order(
            StopOrderRequest(
                symbol=SYMBOL,
                qty=5,
                side=OrderSide.SELL,
                time_in_force=TimeInForce.GTC,
                stop_price=round(price * 0.8, 2),
            )
        ),
        Order,
    )
    works(client, stop)
    moved = parsed(
        client.replace_order_by_id(stop.id, ReplaceOrderRequest(stop_price=round(price * 0.85, 2))),
        Order,
    )
    assert Decimal(moved.stop_price or "nan") == Decimal(str(round(price * 0.85, 2)))
    assert in_the_book(api, stop)["aux_price"] == round(price * 0.85, 2)

    trailing = parsed(
        client.submit_order(
            TrailingStopOrderRequest(
                symbol=SYMBOL,
                qty=5,
                side=OrderSide.SELL,
                time_in_force=TimeInForce.GTC,
                trail_percent=5,
            )
        ),
        Order,
    )
    works(client, trailing)
    wider = parsed(client.replace_order_by_id(trailing.id, ReplaceOrderRequest(trail=8)), Order)
    assert (wider.trail_percent, wider.trail_price) == ("8", None)
    assert in_the_book(api, trailing)["trailing_percent"] == 8


def test_what_cannot_be_replaced_is_refused_in_alpacas_shape(
    client: TradingClient, api: Stack, trade_key: Key
) -> None:
    working = resting_buy(client, api)
    assert "stop_price does not apply" in refused(
        lambda: client.replace_order_by_id(working.id, ReplaceOrderRequest(stop_price=1.0)), 422
    )
    assert "Name what to change" in refused(
        lambda: client.replace_order_by_id(
            working.id, ReplaceOrderRequest(client_order_id="only-an-id")
        ),
        422,
    )
    unknown = ids.order_uuid(987654321)
    refused(lambda: client.replace_order_by_id(unknown, ReplaceOrderRequest(qty=1)), 404)
    assert in_the_book(api, working)["quantity"] == 5  # nothing changed

    filled = parsed(
        client.submit_order(
            MarketOrderRequest(
                symbol=SYMBOL, qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY
            )
        ),
        Order,
    )
    status_becomes(client, filled.id, OrderStatus.FILLED)
    assert "not open" in refused(
        lambda: client.replace_order_by_id(filled.id, ReplaceOrderRequest(qty=2)), 422
    )

    taken = refused(
        lambda: client.replace_order_by_id(
            working.id, ReplaceOrderRequest(qty=6, client_order_id=working.client_order_id)
        ),
        422,
    )
    assert "client_order_id" in taken
    assert in_the_book(api, working)["quantity"] == 5
    # The refused replacements left no trace: the order is replaced once, cleanly.
    new = parsed(client.replace_order_by_id(working.id, ReplaceOrderRequest(qty=6)), Order)
    assert new.replaces == working.id


def test_a_replacement_retried_with_its_idempotency_key_is_made_once(
    client: TradingClient, api: Stack, trade_key: Key
) -> None:
    working = resting_buy(client, api)
    headers = {**trade_key.headers, "Idempotency-Key": f"replace-{uuid.uuid4()}"}
    url = api.url(f"/v2/orders/{working.id}")

    first = requests.patch(url, json={"qty": "9"}, headers=headers, timeout=30)
    again = requests.patch(url, json={"qty": "9"}, headers=headers, timeout=30)

    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["replaces"] == str(working.id)
    assert in_the_book(api, working)["quantity"] == 9


def test_a_read_key_may_not_replace(api: Stack, client: TradingClient, read_key: Key) -> None:
    working = resting_buy(client, api)
    answer = requests.patch(
        api.url(f"/v2/orders/{working.id}"), json={"qty": "9"}, headers=read_key.headers, timeout=30
    )
    assert answer.status_code == 403
    assert set(answer.json()) == {"code", "message"}
    assert in_the_book(api, working)["quantity"] == 5
