"""alpaca-py's TradingClient, unchanged, against /v2 of the real stack
(simulator, worker, gunicorn): every call it makes for part 1 of issue 13.
Its pydantic models parse every answer (ids as UUIDs, enums, datetimes), so
a field of the wrong type or an unknown enum value fails the test."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, TypeVar

import pytest
from alpaca.common.enums import Sort
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import (
    AccountStatus,
    OrderSide,
    OrderStatus,
    OrderType,
    QueryOrderStatus,
    TimeInForce,
)
from alpaca.trading.models import AccountConfiguration, Asset, Order, Position, TradeAccount
from alpaca.trading.requests import (
    CancelOrderResponse,
    GetOrdersRequest,
    LimitOrderRequest,
    MarketOrderRequest,
    StopOrderRequest,
)
from ib_async import IB, Stock
from ib_async import LimitOrder as IbLimitOrder

from ibsim.universe import CONTRACTS
from tests.stack import Stack, eventually
from v2api import ids

pytestmark = [pytest.mark.stack, pytest.mark.usefixtures("live_db")]

T = TypeVar("T")


def parsed(value: object, kind: type[T]) -> T:
    """alpaca-py's answer as its model (it returns raw data only when asked to)."""
    assert isinstance(value, kind), value
    return value


def parsed_list(value: object, kind: type[T]) -> list[T]:
    assert isinstance(value, list), value
    return [parsed(item, kind) for item in value]


def orders(client: TradingClient, **query: Any) -> list[Order]:
    return parsed_list(client.get_orders(GetOrdersRequest(**query)), Order)


def positions(client: TradingClient) -> list[Position]:
    return parsed_list(client.get_all_positions(), Position)


def buy_limit(price: float = 200.0, **kwargs: Any) -> LimitOrderRequest:
    return LimitOrderRequest(
        symbol="AAPL",
        qty=1,
        side=OrderSide.BUY,
        time_in_force=TimeInForce.DAY,
        limit_price=price,
        **kwargs,
    )


def working(api: Stack) -> dict[int, dict[str, Any]]:
    return {o["permId"]: o for o in api.get("/orders").json()["orders"]}


def status_becomes(client: TradingClient, order_id: uuid.UUID, status: str) -> Order:
    def reached() -> Order | None:
        order = parsed(client.get_order_by_id(order_id), Order)
        return order if order.status == status else None

    result: Order = eventually(reached)
    return result


def test_the_account_is_the_ib_accounts_in_alpacas_shape(api: Stack, client: TradingClient) -> None:
    root = api.get("/account").json()

    account = parsed(client.get_account(), TradeAccount)

    assert account.account_number == root["account"]
    assert account.id == uuid.uuid5(ids.ACCOUNT_NAMESPACE, root["account"])
    assert account.status == AccountStatus.ACTIVE
    assert float(account.equity or "nan") == pytest.approx(root["net_liquidation"])
    assert float(account.cash or "nan") == pytest.approx(root["total_cash_value"])
    assert float(account.buying_power or "nan") == pytest.approx(root["buying_power"])
    assert account.trading_blocked is False


def test_the_configuration_reads_and_cannot_be_changed(client: TradingClient) -> None:
    config = parsed(client.get_account_configurations(), AccountConfiguration)

    with pytest.raises(APIError) as refused:
        client.set_account_configurations(config)

    assert config.fractional_trading is False
    assert refused.value.status_code == 403
    assert refused.value.code == 40310000
    assert refused.value.message.startswith("IB has no such settings")


def test_a_market_order_fills_and_its_position_is_listed(api: Stack, client: TradingClient) -> None:
    before = {p.symbol: float(p.qty) for p in positions(client)}
    api.sim.call("set_quote", symbol="MSFT", bid=415.08, ask=415.12, last=415.10)

    order = parsed(
        client.submit_order(
            MarketOrderRequest(
                symbol="MSFT", qty=3, side=OrderSide.BUY, time_in_force=TimeInForce.DAY
            )
        ),
        Order,
    )

    assert (order.symbol, order.type, order.side, order.qty) == ("MSFT", "market", "buy", "3")
    filled = status_becomes(client, order.id, OrderStatus.FILLED)
    assert (filled.filled_qty, filled.filled_avg_price) == ("3", "415.12")  # at the ask
    assert filled.filled_at is not None

    def moved() -> Position | None:
        # IB reports the position apart from the order's fill, a moment later.
        try:
            position = parsed(client.get_open_position("msft"), Position)
        except APIError as exc:
            if exc.status_code != 404 or "MSFT" in before:
                raise
            return None
        return position if float(position.qty) == before.get("MSFT", 0) + 3 else None

    position: Position = eventually(moved)
    asset = parsed(client.get_asset("MSFT"), Asset)
    # One asset id for the order, the position and the asset: IB's conId's.
    assert position.asset_id == order.asset_id == asset.id
    assert asset.id == ids.asset_uuid(CONTRACTS["MSFT"].con_id)
    assert parsed(client.get_order_by_id(order.id), Order).asset_id == asset.id
    assert parsed(client.get_asset(str(order.asset_id)), Asset).symbol == "MSFT"
    assert (position.side, position.current_price) == ("long", "415.1")
    assert float(position.market_value or "nan") == pytest.approx(
        float(position.qty) * 415.10, abs=0.01
    )
    by_asset_id = parsed(client.get_open_position(str(position.asset_id)), Position)
    assert by_asset_id.symbol == "MSFT"
    assert "MSFT" in {p.symbol for p in positions(client)}


def test_a_limit_order_is_found_every_way_then_cancelled(api: Stack, client: TradingClient) -> None:
    client_order_id = f"v2-limit-{uuid.uuid4().hex[:8]}"

    order = parsed(client.submit_order(buy_limit(client_order_id=client_order_id)), Order)

    assert (order.status, order.type, order.time_in_force) == ("new", "limit", "day")
    assert (order.client_order_id, order.limit_price, order.order_class) == (
        client_order_id,
        "200",
        "simple",
    )
    perm_id = ids.perm_id_of(order.id)
    assert perm_id is not None
    assert working(api)[perm_id]["orderRef"] == client_order_id  # IB's orderRef
    assert parsed(client.get_order_by_id(order.id), Order).id == order.id
    assert parsed(client.get_order_by_client_id(client_order_id), Order).id == order.id
    assert order.id in {o.id for o in orders(client, status=QueryOrderStatus.OPEN)}

    client.cancel_order_by_id(order.id)

    cancelled = status_becomes(client, order.id, OrderStatus.CANCELED)
    assert cancelled.canceled_at is not None
    assert perm_id not in working(api)
    closed = orders(client, status=QueryOrderStatus.CLOSED, limit=500)
    assert order.id in {o.id for o in closed}
    assert order.id not in {o.id for o in orders(client, status=QueryOrderStatus.OPEN)}


def test_an_order_without_client_order_id_gets_a_uuid_as_alpaca_gives(
    api: Stack, client: TradingClient
) -> None:
    order = parsed(client.submit_order(buy_limit()), Order)

    generated = uuid.UUID(order.client_order_id)
    perm_id = ids.perm_id_of(order.id)
    assert perm_id is not None
    assert working(api)[perm_id]["orderRef"] == str(generated)
    client.cancel_order_by_id(order.id)


def test_a_stop_order_waits_accepted_at_ib_until_triggered(client: TradingClient) -> None:
    stop = StopOrderRequest(
        symbol="TSLA", qty=2, side=OrderSide.SELL, time_in_force=TimeInForce.DAY, stop_price=150
    )

    order = parsed(client.submit_order(stop), Order)

    # IB holds a stop (PreSubmitted) until it triggers: not yet at the exchange.
    assert (order.type, order.side, order.stop_price, order.status) == (
        OrderType.STOP,
        OrderSide.SELL,
        "150",
        OrderStatus.ACCEPTED,
    )
    client.cancel_order_by_id(order.id)


def test_orders_by_status_side_symbol_time_and_direction(client: TradingClient) -> None:
    start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    buy = parsed(client.submit_order(buy_limit(201.0)), Order).id
    sell_limit = LimitOrderRequest(
        symbol="AAPL", qty=1, side=OrderSide.SELL, time_in_force=TimeInForce.DAY, limit_price=300
    )
    sell = parsed(client.submit_order(sell_limit), Order).id
    ours = {buy, sell}

    def ids_of(**query: Any) -> list[uuid.UUID]:
        return [o.id for o in orders(client, **query) if o.id in ours]

    assert set(ids_of(status=QueryOrderStatus.ALL, symbols=["AAPL"], after=start)) == ours
    assert ids_of(status=QueryOrderStatus.OPEN, side=OrderSide.BUY) == [buy]
    assert ids_of(status=QueryOrderStatus.OPEN, symbols=["MSFT"]) == []
    assert ids_of(status=QueryOrderStatus.OPEN, until=start) == []
    assert ids_of(status=QueryOrderStatus.OPEN, after=start, direction=Sort.ASC) == [buy, sell]
    assert ids_of(status=QueryOrderStatus.OPEN, after=start, direction=Sort.DESC) == [sell, buy]
    for order_id in ours:
        client.cancel_order_by_id(order_id)


def test_cancel_orders_cancels_ours_and_leaves_other_clients(
    api: Stack, client: TradingClient
) -> None:
    ours = [parsed(client.submit_order(buy_limit(199.0 + i)), Order).id for i in range(2)]
    ib = IB()
    ib.connect("127.0.0.1", api.sim_port, clientId=32, timeout=5)
    try:
        trade = ib.placeOrder(Stock("GLD", "SMART", "USD"), IbLimitOrder("BUY", 2, 200.0))
        perm_id = eventually(lambda: (ib.sleep(0.05), trade.order.permId)[1], timeout=5)
        theirs = ids.order_uuid(perm_id)
        # Orders placed outside the API appear too.
        eventually(lambda: theirs in {o.id for o in orders(client)})

        results = parsed_list(client.cancel_orders(), CancelOrderResponse)

        by_id = {r.id: r for r in results}
        assert {by_id[o].status for o in ours} == {200}
        assert {(by_id[o].body or {}).get("status") for o in ours} == {"canceled"}
        assert theirs not in by_id
        still = {o.id for o in orders(client)}
        assert theirs in still
        assert not still & set(ours)
        client.cancel_order_by_id(theirs)
    finally:
        ib.disconnect()
