"""Every order type, time in force and order class of Alpaca's that IB takes,
placed with alpaca-py's TradingClient against the real stack: what IB (the
simulator) received, what the answer says, and the same order read back.
Its pydantic models parse every answer."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
import requests
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import (
    OrderClass,
    OrderSide,
    OrderStatus,
    OrderType,
    QueryOrderStatus,
    TimeInForce,
)
from alpaca.trading.models import Order
from alpaca.trading.requests import (
    GetOrderByIdRequest,
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    OrderRequest,
    StopLimitOrderRequest,
    StopLossRequest,
    TakeProfitRequest,
    TrailingStopOrderRequest,
)
from ib_async import IB, Stock
from ib_async import LimitOrder as IbLimitOrder

from journal.models import Order as JournalOrder
from tests.stack import Stack, eventually
from tests.v2.conftest import Key, make_key
from v2api import ids

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("live_db")]

BUY, SELL = OrderSide.BUY, OrderSide.SELL
DAY, GTC = TimeInForce.DAY, TimeInForce.GTC


def ref() -> str:
    return f"v2-types-{uuid.uuid4().hex[:10]}"


def sim_orders(api: Stack, order_ref: str) -> list[dict[str, Any]]:
    found = [o for o in api.sim.call("orders") if o["order_ref"] == order_ref]
    return sorted(found, key=lambda o: o["order_id"])


def submit(client: TradingClient, request: OrderRequest) -> Order:
    order = client.submit_order(request)
    assert isinstance(order, Order), order
    return order


def get(client: TradingClient, order_id: uuid.UUID, nested: bool = False) -> Order:
    order = client.get_order_by_id(order_id, GetOrderByIdRequest(nested=nested))
    assert isinstance(order, Order), order
    return order


def status_becomes(client: TradingClient, order_id: uuid.UUID, *statuses: str) -> Order:
    def reached() -> Order | None:
        order = get(client, order_id)
        return order if order.status in statuses else None

    result: Order = eventually(reached)
    return result


def alpaca_fields(order: Order) -> dict[str, Any]:
    return {
        "type": order.type,
        "time_in_force": order.time_in_force,
        "limit_price": order.limit_price,
        "stop_price": order.stop_price,
        "trail_price": order.trail_price,
        "trail_percent": order.trail_percent,
        "extended_hours": order.extended_hours,
        "order_class": order.order_class,
    }


def ib_fields(sim_order: dict[str, Any]) -> dict[str, Any]:
    return {
        name: sim_order[name]
        for name in ("order_type", "tif", "lmt_price", "aux_price", "trailing_percent")
        if sim_order[name] not in (None, 0, 0.0)
    } | {"outside_rth": sim_order["outside_rth"]}


ALPACA_DEFAULTS = {
    "limit_price": None,
    "stop_price": None,
    "trail_price": None,
    "trail_percent": None,
    "extended_hours": False,
    "order_class": "simple",
}
# Orders that rest (AAPL trades around 236): the request, the answer's
# fields, and what IB received.
RESTING = [
    pytest.param(
        StopLimitOrderRequest,
        {"time_in_force": DAY, "stop_price": 300, "limit_price": 301},
        {"type": "stop_limit", "time_in_force": "day", "stop_price": "300", "limit_price": "301"},
        {"order_type": "STP LMT", "tif": "DAY", "aux_price": 300, "lmt_price": 301},
        id="stop_limit-day",
    ),
    pytest.param(
        TrailingStopOrderRequest,
        {"time_in_force": GTC, "trail_price": 5},
        {"type": "trailing_stop", "time_in_force": "gtc", "trail_price": "5"},
        {"order_type": "TRAIL", "tif": "GTC", "aux_price": 5},
        id="trailing_stop-amount-gtc",
    ),
    pytest.param(
        TrailingStopOrderRequest,
        {"time_in_force": DAY, "trail_percent": 2.5},
        {"type": "trailing_stop", "time_in_force": "day", "trail_percent": "2.5"},
        {"order_type": "TRAIL", "tif": "DAY", "trailing_percent": 2.5},
        id="trailing_stop-percent-day",
    ),
    pytest.param(
        LimitOrderRequest,
        {"time_in_force": GTC, "limit_price": 200},
        {"type": "limit", "time_in_force": "gtc", "limit_price": "200"},
        {"order_type": "LMT", "tif": "GTC", "lmt_price": 200},
        id="limit-gtc",
    ),
    pytest.param(
        LimitOrderRequest,
        {"time_in_force": TimeInForce.OPG, "limit_price": 200},
        {"type": "limit", "time_in_force": "opg", "limit_price": "200"},
        {"order_type": "LMT", "tif": "OPG", "lmt_price": 200},
        id="limit-opg",
    ),
    pytest.param(
        MarketOrderRequest,
        {"time_in_force": TimeInForce.OPG},
        {"type": "market", "time_in_force": "opg"},
        {"order_type": "MKT", "tif": "OPG"},
        id="market-opg",
    ),
    pytest.param(
        MarketOrderRequest,
        {"time_in_force": TimeInForce.CLS},
        {"type": "market", "time_in_force": "cls"},
        {"order_type": "MOC", "tif": "DAY"},
        id="market-cls",
    ),
    pytest.param(
        LimitOrderRequest,
        {"time_in_force": TimeInForce.CLS, "limit_price": 200},
        {"type": "limit", "time_in_force": "cls", "limit_price": "200"},
        {"order_type": "LOC", "tif": "DAY", "lmt_price": 200},
        id="limit-cls",
    ),
    pytest.param(
        LimitOrderRequest,
        {"time_in_force": DAY, "limit_price": 200, "extended_hours": True},
        {"type": "limit", "time_in_force": "day", "limit_price": "200", "extended_hours": True},
        {"order_type": "LMT", "tif": "DAY", "lmt_price": 200, "outside_rth": True},
        id="limit-day-extended_hours",
    ),
]


@pytest.mark.parametrize(("request_class", "fields", "answered", "at_ib"), RESTING)
def test_each_type_and_time_in_force_reaches_ib_as_mapped_and_reads_back(
    api: Stack,
    client: TradingClient,
    request_class: type[OrderRequest],
    fields: dict[str, Any],
    answered: dict[str, Any],
    at_ib: dict[str, Any],
) -> None:
    order_ref = ref()
    request = request_class(symbol="AAPL", qty=1, side=BUY, client_order_id=order_ref, **fields)

    order = submit(client, request)

    expected = {**ALPACA_DEFAULTS, **answered}
    assert alpaca_fields(order) == expected
    assert order.status in ("accepted", "new")
    (sim_order,) = sim_orders(api, order_ref)
    assert ib_fields(sim_order) == {"outside_rth": False, **at_ib}
    assert alpaca_fields(get(client, order.id)) == expected
    client.cancel_order_by_id(order.id)
    assert status_becomes(client, order.id, OrderStatus.CANCELED).type == answered["type"]
    # The journal keeps what a closed order shows: the same fields as working.
    perm_id = ids.perm_id_of(order.id)
    assert perm_id is not None
    eventually(lambda: JournalOrder.objects.filter(perm_id=perm_id, status="Cancelled").exists())
    stored = JournalOrder.objects.get(perm_id=perm_id)
    assert (stored.outside_rth, stored.trail_percent) == (
        sim_order["outside_rth"],
        None if "trailing_percent" not in at_ib else Decimal(str(at_ib["trailing_percent"])),
    )
    assert alpaca_fields(get(client, order.id)) == expected


@pytest.mark.parametrize("tif", [TimeInForce.IOC, TimeInForce.FOK])
def test_a_marketable_ioc_or_fok_order_fills(
    api: Stack, client: TradingClient, tif: TimeInForce
) -> None:
    order_ref = ref()

    order = submit(
        client,
        MarketOrderRequest(
            symbol="AAPL", qty=2, side=BUY, time_in_force=tif, client_order_id=order_ref
        ),
    )

    assert order.time_in_force == tif
    filled = status_becomes(client, order.id, OrderStatus.FILLED)
    assert (filled.filled_qty, filled.time_in_force) == ("2", tif)
    assert sim_orders(api, order_ref)[0]["tif"] == tif.value.upper()


def test_an_ioc_limit_that_cannot_fill_is_placed_then_canceled_not_refused(
    api: Stack, client: TradingClient
) -> None:
    order_ref = ref()

    order = submit(
        client,
        LimitOrderRequest(
            symbol="AAPL",
            qty=1,
            side=BUY,
            time_in_force=TimeInForce.IOC,
            limit_price=150,
            client_order_id=order_ref,
        ),
    )

    assert order.time_in_force == "ioc"
    assert status_becomes(client, order.id, OrderStatus.CANCELED).filled_qty == "0"
    assert [o["tif"] for o in sim_orders(api, order_ref)] == ["IOC"]


def test_a_trailing_stop_is_checked_against_max_order_notional_and_nothing_is_sent(
    api: Stack, trade_key: Key
) -> None:
    order_ref = ref()
    body = {
        "symbol": "AAPL",
        "qty": "5000",  # about 1.18 million at 236: over MAX_ORDER_NOTIONAL (1 million)
        "side": "buy",
        "type": "trailing_stop",
        "time_in_force": "day",
        "trail_percent": "1",
        "client_order_id": order_ref,
    }

    response = api.post("/v2/orders", body, headers=trade_key.headers)

    assert response.status_code == 403, response.text
    assert "MAX_ORDER_NOTIONAL" in response.json()["message"]
    assert sim_orders(api, order_ref) == []


def test_notional_is_refused_422_and_nothing_is_sent(api: Stack, trade_key: Key) -> None:
    order_ref = ref()
    body = {"symbol": "AAPL", "notional": "500", "side": "buy", "type": "market"}

    response = api.post(
        "/v2/orders",
        {**body, "time_in_force": "day", "client_order_id": order_ref},
        headers=trade_key.headers,
    )

    assert response.status_code == 422, response.text
    assert response.json()["message"].startswith("notional: notional orders are not supported")
    assert sim_orders(api, order_ref) == []


# --- order classes --------------------------------------------------------------------


def test_a_bracket_is_a_parent_and_two_children_at_ib_answered_with_its_legs(
    api: Stack, client: TradingClient
) -> None:
    order_ref = ref()

    order = submit(
        client,
        LimitOrderRequest(
            symbol="AAPL",
            qty=2,
            side=BUY,
            time_in_force=GTC,
            limit_price=200,
            order_class=OrderClass.BRACKET,
            take_profit=TakeProfitRequest(limit_price=260),
            stop_loss=StopLossRequest(stop_price=180, limit_price=179),
            client_order_id=order_ref,
        ),
    )

    assert (order.order_class, order.type, order.limit_price) == ("bracket", "limit", "200")
    legs = {leg.type: leg for leg in order.legs or []}
    assert set(legs) == {OrderType.LIMIT, OrderType.STOP_LIMIT}
    assert (legs[OrderType.LIMIT].side, legs[OrderType.LIMIT].limit_price) == ("sell", "260")
    stop = legs[OrderType.STOP_LIMIT]
    assert (stop.side, stop.stop_price, stop.limit_price) == ("sell", "180", "179")
    assert {leg.order_class for leg in legs.values()} == {"bracket"}
    assert {leg.status for leg in legs.values()} <= {"held", "accepted", "new"}
    parent, stop_loss, take_profit = sim_orders(api, order_ref)
    assert (parent["order_type"], parent["tif"], parent["parent_id"]) == ("LMT", "GTC", 0)
    assert stop_loss["order_type"] == "STP LMT"
    assert take_profit["order_type"] == "LMT"
    assert stop_loss["parent_id"] == take_profit["parent_id"] == parent["order_id"]

    nested = client.get_orders(
        GetOrdersRequest(status=QueryOrderStatus.OPEN, nested=True, symbols=["AAPL"])
    )
    flat = client.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN, symbols=["AAPL"]))
    assert isinstance(nested, list)
    assert isinstance(flat, list)
    mine = [o for o in nested if isinstance(o, Order) and o.client_order_id == order_ref]
    assert [len(o.legs or []) for o in mine] == [2]
    flat_mine = [o for o in flat if isinstance(o, Order) and o.client_order_id == order_ref]
    assert len(flat_mine) == 3
    assert {o.order_class for o in flat_mine} == {"bracket"}
    assert all(o.legs is None for o in flat_mine)
    assert len(get(client, order.id, nested=True).legs or []) == 2

    client.cancel_order_by_id(order.id)
    status_becomes(client, order.id, OrderStatus.CANCELED)
    for leg in legs.values():
        status_becomes(client, leg.id, OrderStatus.CANCELED)


def test_an_oto_is_an_entry_and_one_exit_that_works_once_the_entry_fills(
    api: Stack, client: TradingClient
) -> None:
    order_ref = ref()

    order = submit(
        client,
        MarketOrderRequest(
            symbol="AAPL",
            qty=1,
            side=BUY,
            time_in_force=DAY,
            order_class=OrderClass.OTO,
            stop_loss=StopLossRequest(stop_price=150),
            client_order_id=order_ref,
        ),
    )

    assert (order.order_class, order.type) == ("oto", "market")
    (leg,) = order.legs or []
    assert (leg.type, leg.side, leg.stop_price, leg.order_class) == ("stop", "sell", "150", "oto")
    status_becomes(client, order.id, OrderStatus.FILLED)
    working = status_becomes(client, leg.id, OrderStatus.NEW, OrderStatus.HELD, "accepted")
    assert working.order_class == "oto"
    entry, exit_leg = sim_orders(api, order_ref)
    assert exit_leg["parent_id"] == entry["order_id"]
    client.cancel_order_by_id(leg.id)
    status_becomes(client, leg.id, OrderStatus.CANCELED)


def test_an_oco_is_two_exits_in_one_oca_group_and_one_cancels_the_other(
    api: Stack, client: TradingClient
) -> None:
    order_ref = ref()
    submit(client, MarketOrderRequest(symbol="AAPL", qty=1, side=BUY, time_in_force=DAY))

    order = submit(
        client,
        LimitOrderRequest(
            symbol="AAPL",
            qty=1,
            side=SELL,
            time_in_force=GTC,
            order_class=OrderClass.OCO,
            take_profit=TakeProfitRequest(limit_price=300),
            stop_loss=StopLossRequest(stop_price=150),
            client_order_id=order_ref,
        ),
    )

    assert (order.order_class, order.type, order.limit_price) == ("oco", "limit", "300")
    (leg,) = order.legs or []
    assert (leg.type, leg.side, leg.stop_price, leg.order_class) == ("stop", "sell", "150", "oco")
    take_profit, stop_loss = sim_orders(api, order_ref)
    assert take_profit["oca_group"] == stop_loss["oca_group"] != ""
    assert (take_profit["order_type"], stop_loss["order_type"]) == ("LMT", "STP")
    assert take_profit["tif"] == stop_loss["tif"] == "GTC"
    assert len(get(client, order.id, nested=True).legs or []) == 1

    api.sim.call("set_price", symbol="AAPL", price=301)
    try:
        status_becomes(client, order.id, OrderStatus.FILLED)
        status_becomes(client, leg.id, OrderStatus.CANCELED)
    finally:
        api.sim.call("set_price", symbol="AAPL", price=236)
    # Finished, the two are still an oco (the journal keeps the OCA group).
    perm_ids = [p for p in (ids.perm_id_of(order.id), ids.perm_id_of(leg.id)) if p is not None]
    eventually(lambda: JournalOrder.objects.filter(perm_id__in=perm_ids).count() == 2)
    groups = set(JournalOrder.objects.filter(perm_id__in=perm_ids).values_list("oca_group"))
    assert groups == {(take_profit["oca_group"],)}
    closed = get(client, order.id, nested=True)
    assert (closed.order_class, [o.id for o in closed.legs or []]) == ("oco", [leg.id])


def test_a_bracket_ib_refuses_leaves_no_leg_working(api: Stack, client: TradingClient) -> None:
    order_ref = ref()
    api.sim.call("reject_next_order", reason="Simulated rejection of the entry")

    with pytest.raises(APIError) as refused:
        client.submit_order(
            LimitOrderRequest(
                symbol="AAPL",
                qty=1,
                side=BUY,
                time_in_force=DAY,
                limit_price=200,
                order_class=OrderClass.BRACKET,
                take_profit=TakeProfitRequest(limit_price=260),
                stop_loss=StopLossRequest(stop_price=180),
                client_order_id=order_ref,
            )
        )

    assert refused.value.status_code == 422
    assert "Simulated rejection" in refused.value.message

    def nothing_works() -> bool:
        legs = sim_orders(api, order_ref)
        return all(o["status"] in ("Cancelled", "Inactive") for o in legs)

    assert eventually(nothing_works)
    assert (
        client.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN, symbols=["AAPL"]))
        is not None
    )
    assert [o for o in api.get("/orders").json()["orders"] if o["orderRef"] == order_ref] == []


# --- cancelling every client's orders --------------------------------------------------


def test_a_global_cancel_is_refused_to_a_trade_token_and_cancels_nothing(
    api: Stack, client: TradingClient, trade_key: Key
) -> None:
    order = submit(
        client,
        LimitOrderRequest(symbol="AAPL", qty=1, side=BUY, time_in_force=DAY, limit_price=200),
    )

    response = requests.delete(
        api.url("/v2/orders?scope=all"), headers=trade_key.headers, timeout=30
    )

    assert response.status_code == 403, response.text
    assert "GLOBAL_CANCEL_TRADE_SCOPE" in response.json()["message"]
    assert get(client, order.id).status in ("new", "accepted")
    client.cancel_order_by_id(order.id)


def test_a_global_cancel_cancels_every_clients_orders(
    api: Stack, client: TradingClient, django_db_blocker: Any
) -> None:
    with django_db_blocker.unblock():
        live_key = make_key("live")
    ours = submit(
        client,
        LimitOrderRequest(symbol="AAPL", qty=1, side=BUY, time_in_force=DAY, limit_price=200),
    )
    other_ref = ref()
    other = IB()
    other.connect("127.0.0.1", api.sim_port, clientId=77, timeout=10)
    try:
        (contract,) = other.qualifyContracts(Stock("AAPL", "SMART", "USD"))
        other.placeOrder(contract, IbLimitOrder("BUY", 1, 199.0, tif="DAY", orderRef=other_ref))
        eventually(lambda: sim_orders(api, other_ref))

        response = requests.delete(
            api.url("/v2/orders?scope=all"), headers=live_key.headers, timeout=30
        )

        assert response.status_code == 207, response.text
        results = {r["id"]: r for r in response.json()}
        assert results[str(ours.id)]["status"] == 200
        assert results[str(ours.id)]["body"]["status"] == "canceled"
        assert eventually(lambda: sim_orders(api, other_ref)[0]["status"] == "Cancelled")
        assert status_becomes(client, ours.id, OrderStatus.CANCELED)
    finally:
        other.disconnect()
