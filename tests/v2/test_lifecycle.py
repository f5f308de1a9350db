"""An order's life after its placement, through /v2 on the real stack
(simulator, worker, gunicorn), read with alpaca-py's TradingClient (raw HTTP
for the activities): partial fills until the order is filled, a DAY order
expiring at the close, the gateway going away and coming back between
placement and lookup, and IB refusing an order for want of buying power.

Each test trades a symbol no other module of the shared stack trades, and
moves the simulator's clock itself where the time of day matters."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, OrderStatus, QueryOrderStatus, TimeInForce
from alpaca.trading.models import Order, TradeActivity
from alpaca.trading.requests import GetOrdersRequest, LimitOrderRequest

from tests.stack import Stack, eventually
from tests.v2.conftest import Key
from v2api import ids

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("live_db")]

PARTIAL = "META"  # partial fills
EXPIRING = "NFLX"  # the DAY order that expires at the close
RESTARTED = "GOOG"  # the order that outlives the gateway's restart
REFUSED = "V"  # the order IB refuses for want of buying power


def ref(what: str) -> str:
    return f"v2-life-{what}-{uuid.uuid4().hex[:8]}"


def submit(client: TradingClient, request: LimitOrderRequest) -> Order:
    order = client.submit_order(request)
    assert isinstance(order, Order), order
    return order


def get(client: TradingClient, order_id: uuid.UUID) -> Order:
    order = client.get_order_by_id(order_id)
    assert isinstance(order, Order), order
    return order


def settles(read: Callable[[], object], expected: object, timeout: float = 15.0) -> None:
    """Poll ``read`` until it answers ``expected``; then the last answer is
    compared with it, so a failure shows what was seen instead."""
    with contextlib.suppress(AssertionError):
        eventually(lambda: read() == expected, timeout=timeout)
    assert read() == expected


def sim_orders(api: Stack, order_ref: str) -> list[dict[str, Any]]:
    return [o for o in api.sim.call("orders") if o["order_ref"] == order_ref]


def fills(api: Stack, key: Key, order_id: uuid.UUID) -> list[tuple[str, ...]]:
    """The order's FILL activities (GET /v2/account/activities/FILL, the
    newest 100: the test's are the newest), oldest first, as (type, qty,
    price, cum_qty, leaves_qty, order_status)."""
    response = requests.get(api.url("/v2/account/activities/FILL"), headers=key.headers, timeout=30)
    assert response.status_code == 200, response.text
    rows = [row for row in response.json() if row["order_id"] == str(order_id)]
    for row in rows:
        TradeActivity(**row)  # alpaca-py's model validates every field
    rows.sort(key=lambda row: float(row["cum_qty"]))
    return [
        (
            row["type"],
            row["qty"],
            row["price"],
            row["cum_qty"],
            row["leaves_qty"],
            row["order_status"],
        )
        for row in rows
    ]


def gateway_up(api: Stack, key: Key) -> bool:
    response = requests.get(api.url("/v2/account"), headers=key.headers, timeout=30)
    return response.status_code == 200


# --- partial fills ------------------------------------------------------------------------


@pytest.fixture
def thin_book(api: Stack) -> Iterator[dict[str, Any]]:
    """100 shares on each price level of META's book, one cent apart."""
    api.sim.call("set_quote", symbol=PARTIAL, bid=512.39, ask=512.41, last=512.40)
    api.sim.call("set_liquidity", symbol=PARTIAL, shares=100)
    try:
        yield api.sim.call("quote", symbol=PARTIAL)
    finally:
        api.sim.call("set_liquidity", symbol=PARTIAL)  # back to the default depth


def test_a_limit_order_fills_in_parts_then_whole_in_orders_and_activities(
    api: Stack, client: TradingClient, trade_key: Key, thin_book: dict[str, Any]
) -> None:
    assert (thin_book["ask"], thin_book["liquidity"]) == (512.41, 100)
    # Marketable up to one level above the ask: 100 at 512.41 and 100 at
    # 512.42 fill at once, 50 rest at the limit.
    order = submit(
        client,
        LimitOrderRequest(
            symbol=PARTIAL,
            qty=250,
            side=OrderSide.BUY,
            time_in_force=TimeInForce.DAY,
            limit_price=512.42,
            client_order_id=ref("partial"),
        ),
    )

    def progress() -> tuple[Any, ...]:
        seen = get(client, order.id)
        return (seen.status, seen.qty, seen.filled_qty, seen.filled_avg_price)

    settles(progress, (OrderStatus.PARTIALLY_FILLED, "250", "200", "512.415"))
    settles(
        lambda: fills(api, trade_key, order.id),
        [
            ("partial_fill", "100", "512.41", "100", "150", "partially_filled"),
            ("partial_fill", "100", "512.42", "200", "50", "partially_filled"),
        ],
    )

    # The ask comes down to the limit: the resting 50 fill there.
    api.sim.call("set_quote", symbol=PARTIAL, bid=512.40, ask=512.42)

    # (100 x 512.41 + 150 x 512.42) / 250
    settles(progress, (OrderStatus.FILLED, "250", "250", "512.416"))
    assert get(client, order.id).filled_at is not None
    settles(
        lambda: fills(api, trade_key, order.id),
        [
            ("partial_fill", "100", "512.41", "100", "150", "partially_filled"),
            ("partial_fill", "100", "512.42", "200", "50", "partially_filled"),
            ("fill", "50", "512.42", "250", "0", "filled"),
        ],
    )


# --- a DAY order at the close -----------------------------------------------------------

# A Wednesday, two minutes before the regular session closes (US/Eastern).
BEFORE_THE_CLOSE = "2027-03-10T15:58:00"


@pytest.fixture
def late_in_the_session(api: Stack) -> Iterator[dict[str, Any]]:
    """The simulator's clock two minutes before a regular close, whatever the
    wall clock says; put back as it started afterwards."""
    clock = api.sim.call("set_clock", time=BEFORE_THE_CLOSE)
    try:
        yield clock
    finally:
        api.sim.call("reset")  # the clock back as it started (and no order working)


def test_a_day_order_still_resting_at_the_close_is_expired(
    api: Stack, client: TradingClient, late_in_the_session: dict[str, Any]
) -> None:
    assert late_in_the_session["session"] == "regular"
    order_ref = ref("day")
    order = submit(
        client,
        LimitOrderRequest(
            symbol=EXPIRING,
            qty=1,
            side=OrderSide.BUY,
            time_in_force=TimeInForce.DAY,
            limit_price=600,  # NFLX trades around 705.90: it rests
            client_order_id=order_ref,
        ),
    )
    assert (order.status, order.time_in_force) == (OrderStatus.NEW, TimeInForce.DAY)

    moved = api.sim.call("advance_clock", seconds=300)

    assert "close" in [event["event"] for event in moved["events"]]
    assert [o["status"] for o in sim_orders(api, order_ref)] == ["Cancelled"]  # IB's word

    def finished() -> Order | None:
        seen = get(client, order.id)
        return seen if seen.status not in (OrderStatus.NEW, OrderStatus.ACCEPTED) else None

    ended: Order = eventually(finished, timeout=15)
    # Alpaca's word for a DAY order the close ended: expired, not canceled.
    assert (ended.status, ended.filled_qty, ended.canceled_at) == (OrderStatus.EXPIRED, "0", None)
    assert ended.expired_at is not None


def test_a_gtc_order_resting_past_the_close_is_done_for_day_until_the_next_session(
    api: Stack, client: TradingClient, late_in_the_session: dict[str, Any]
) -> None:
    def order(what: str) -> Order:
        return submit(
            client,
            LimitOrderRequest(
                symbol=EXPIRING,
                qty=1,
                side=OrderSide.BUY,
                time_in_force=TimeInForce.GTC,
                limit_price=600,  # it rests
                client_order_id=ref(what),
            ),
        )

    worked = order("gtc")
    assert worked.status == OrderStatus.NEW

    moved = api.sim.call("advance_clock", seconds=300)  # 16:03: the session is over

    assert "close" in [event["event"] for event in moved["events"]]
    assert [o["status"] for o in sim_orders(api, worked.client_order_id)] == ["PreSubmitted"]
    settles(lambda: get(client, worked.id).status, OrderStatus.DONE_FOR_DAY)
    # One placed since the close waits for its first session: accepted.
    waiting = order("after-close")
    settles(lambda: get(client, waiting.id).status, OrderStatus.ACCEPTED)
    listed = client.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN))
    assert OrderStatus.DONE_FOR_DAY in [o.status for o in listed if isinstance(o, Order)]

    # The next morning's open: both work again.
    api.sim.call("advance_clock", seconds=17 * 3600 + 30 * 60)  # Thursday 09:33
    settles(lambda: get(client, worked.id).status, OrderStatus.NEW)
    settles(lambda: get(client, waiting.id).status, OrderStatus.NEW)


# --- the gateway restarts --------------------------------------------------------------


def test_an_order_placed_before_a_gateway_restart_is_found_and_cancelled_after_it(
    api: Stack, client: TradingClient, read_key: Key
) -> None:
    order_ref = ref("restart")
    order = submit(
        client,
        LimitOrderRequest(
            symbol=RESTARTED,
            qty=3,
            side=OrderSide.BUY,
            time_in_force=TimeInForce.DAY,
            limit_price=150,  # GOOG trades around 169.75: it rests
            client_order_id=order_ref,
        ),
    )
    assert order.status == OrderStatus.NEW
    connections = api.sim.call("counters")["connections_total"]

    api.sim.call("refuse_connections", seconds=4)
    api.sim.call("drop_connections")
    eventually(lambda: not gateway_up(api, read_key), timeout=10)
    eventually(lambda: gateway_up(api, read_key), timeout=30)

    assert api.sim.call("counters")["connections_total"] > connections  # the worker reconnected
    expected = (order.id, order_ref, OrderStatus.NEW, RESTARTED, "3", "0")
    by_id = get(client, order.id)
    by_client_order_id = client.get_order_by_client_id(order_ref)
    assert isinstance(by_client_order_id, Order), by_client_order_id
    for found in (by_id, by_client_order_id):
        assert (
            found.id,
            found.client_order_id,
            found.status,
            found.symbol,
            found.qty,
            found.filled_qty,
        ) == expected

    client.cancel_order_by_id(order.id)

    settles(lambda: get(client, order.id).status, OrderStatus.CANCELED)
    assert [o["status"] for o in sim_orders(api, order_ref)] == ["Cancelled"]
    assert ids.perm_id_of(order.id) == sim_orders(api, order_ref)[0]["perm_id"]


# --- IB refuses an order ----------------------------------------------------------------


@pytest.fixture
def short_of_buying_power(api: Stack) -> Iterator[dict[str, float]]:
    """The account's cash lowered until its net liquidation value is 10,000
    USD (the initial margin of the positions other tests left may already
    exceed it); the cash put back afterwards."""
    values = api.sim.call("account")
    cash, net = float(values["TotalCashValue"]), float(values["NetLiquidation"])
    api.sim.call("set_cash", cash=cash - net + 10_000)
    try:
        yield {key: float(value) for key, value in api.sim.call("account").items() if _num(value)}
    finally:
        api.sim.call("set_cash", cash=cash)


def _num(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def test_an_order_beyond_the_buying_power_is_refused_403_in_alpacas_shape(
    api: Stack, client: TradingClient, short_of_buying_power: dict[str, float]
) -> None:
    assert short_of_buying_power["NetLiquidation"] == pytest.approx(10_000, abs=1)
    order_ref = ref("refused")

    with pytest.raises(APIError) as refused:
        # 200 shares at about 276 USD (IB prices it at the market): 55,000 USD
        # of stock, 13,800 of initial margin at least.
        client.submit_order(
            LimitOrderRequest(
                symbol=REFUSED,
                qty=200,
                side=OrderSide.BUY,
                time_in_force=TimeInForce.DAY,
                limit_price=270,
                client_order_id=order_ref,
            )
        )

    # Alpaca refuses an order the buying power does not cover with 403.
    assert (refused.value.status_code, refused.value.code) == (403, 40310000)
    assert "YOUR ORDER IS NOT ACCEPTED" in refused.value.message  # IB's reason, unchanged
    assert sim_orders(api, order_ref) == []  # nothing stands at IB
    working = GetOrdersRequest(status=QueryOrderStatus.OPEN, symbols=[REFUSED])
    assert client.get_orders(working) == []
