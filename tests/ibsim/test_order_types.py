"""Order types beyond MKT, LMT, STP and STP LMT (ibsim.order_types): TRAIL
and TRAIL LIMIT (the stop ratchets with the last price and openOrder reports
it), MIT and LIT (touched), MOC and LOC (the closing auction at 16:00).
The walk is off: prices move by set_price; AAPL starts at 236.42, quoted
236.41 x 236.43 (the bid one cent under the last, the ask one spread above)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from ibsim.testing import RunningSimulator
from tests.ibsim.conftest import Clients
from tests.ibsim.support import ErrorLog, stock, wait_status, wait_until


def _reported(clients: Clients, lib: str, client_id: int, order_id: int) -> Any:
    """The order as a fresh master client decodes it from openOrder."""
    master = clients.connect(lib, client_id)
    try:
        [trade] = [t for t in master.openTrades() if t.order.orderId == order_id]
        return trade.order
    finally:
        master.disconnect()


def _fill_price(trade: Any) -> float:
    return float(trade.fills[-1].execution.price)


def test_a_trailing_stop_ratchets_with_the_market_and_sells_when_it_is_hit(
    clients: Clients, lib: str, api: ModuleType, sim: RunningSimulator
) -> None:
    ib = clients.connect(lib, 1)
    order = api.Order(action="SELL", totalQuantity=10, orderType="TRAIL", auxPrice=1.0, tif="DAY")
    trade = ib.placeOrder(stock(api), order)
    wait_status(ib, trade, "PreSubmitted")
    assert _reported(clients, lib, 0, order.orderId).trailStopPrice == 235.42  # 236.42 - 1

    sim.call("set_price", symbol="AAPL", price=238.0)
    sim.call("set_price", symbol="AAPL", price=237.5)  # down: the stop stays
    ib.sleep(0.1)
    reported = _reported(clients, lib, 0, order.orderId)
    assert (reported.trailStopPrice, reported.auxPrice) == (237.0, 1.0)
    assert trade.orderStatus.status == "PreSubmitted"

    sim.call("set_price", symbol="AAPL", price=236.9)  # through 237.00: quoted 236.89 x 236.91

    wait_status(ib, trade, "Filled")
    assert _fill_price(trade) == 236.89


def test_a_trailing_percent_buy_stop_follows_the_market_down(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    order = api.Order(
        action="BUY", totalQuantity=10, orderType="TRAIL", trailingPercent=1.0, tif="DAY"
    )
    trade = ib.placeOrder(stock(api), order)
    wait_status(ib, trade, "PreSubmitted")
    sim.call("set_price", symbol="AAPL", price=235.0)  # the stop: 235 + 1% = 237.35
    sim.call("set_price", symbol="AAPL", price=237.3)
    ib.sleep(0.1)
    assert trade.orderStatus.status == "PreSubmitted"

    sim.call("set_price", symbol="AAPL", price=237.4)  # quoted 237.39 x 237.41

    wait_status(ib, trade, "Filled")
    assert _fill_price(trade) == 237.41
    [done] = [t for t in ib.reqCompletedOrders(False) if t.order.permId == trade.order.permId]
    assert (done.order.trailStopPrice, done.order.trailingPercent) == (237.35, 1.0)


def test_a_trailing_limit_sells_within_its_offset_once_triggered(
    clients: Clients, lib: str, api: ModuleType, sim: RunningSimulator
) -> None:
    ib = clients.connect(lib, 1)
    order = api.Order(
        action="SELL",
        totalQuantity=10,
        orderType="TRAIL LIMIT",
        auxPrice=1.0,
        lmtPriceOffset=0.5,
        tif="DAY",
    )
    trade = ib.placeOrder(stock(api), order)
    wait_status(ib, trade, "PreSubmitted")
    reported = _reported(clients, lib, 0, order.orderId)
    assert (reported.trailStopPrice, reported.lmtPrice, reported.lmtPriceOffset) == (
        235.42,
        234.92,
        0.5,
    )

    sim.call("set_price", symbol="AAPL", price=235.4)  # quoted 235.39 x 235.41

    wait_status(ib, trade, "Filled")
    assert _fill_price(trade) == 235.39


def test_a_trailing_limit_rests_when_the_market_gaps_through_its_limit(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    order = api.Order(
        action="SELL",
        totalQuantity=10,
        orderType="TRAIL LIMIT",
        auxPrice=1.0,
        lmtPriceOffset=0.5,
        tif="DAY",
    )
    trade = ib.placeOrder(stock(api), order)
    wait_status(ib, trade, "PreSubmitted")

    sim.call("set_price", symbol="AAPL", price=234.0)  # under the limit 234.92

    wait_status(ib, trade, "Submitted")  # triggered: a limit order now
    sim.call("set_price", symbol="AAPL", price=235.0)  # bid 234.99, above the limit
    wait_status(ib, trade, "Filled")
    assert _fill_price(trade) == 234.92


def test_a_market_if_touched_buy_triggers_when_the_price_falls_to_it(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    order = api.Order(action="BUY", totalQuantity=10, orderType="MIT", auxPrice=235.0, tif="DAY")
    trade = ib.placeOrder(stock(api), order)
    wait_status(ib, trade, "PreSubmitted")
    sim.call("set_price", symbol="AAPL", price=238.0)  # away from it
    ib.sleep(0.1)
    assert trade.orderStatus.status == "PreSubmitted"

    sim.call("set_price", symbol="AAPL", price=234.99)  # quoted 234.98 x 235.00

    wait_status(ib, trade, "Filled")
    assert _fill_price(trade) == 235.0


def test_a_limit_if_touched_sell_triggers_when_the_price_rises_to_it(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    order = api.Order(
        action="SELL",
        totalQuantity=10,
        orderType="LIT",
        auxPrice=238.0,
        lmtPrice=237.9,
        tif="DAY",
    )
    trade = ib.placeOrder(stock(api), order)
    wait_status(ib, trade, "PreSubmitted")

    sim.call("set_price", symbol="AAPL", price=238.0)  # quoted 237.99 x 238.01

    wait_status(ib, trade, "Filled")
    assert _fill_price(trade) == 237.99


def test_moc_and_loc_orders_meet_the_closing_auction(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    errors = ErrorLog.attach(ib)
    sim.call("set_clock", time="2026-03-04T15:58:00")
    moc = ib.placeOrder(
        stock(api), api.Order(action="BUY", totalQuantity=10, orderType="MOC", tif="DAY")
    )
    loc = ib.placeOrder(
        stock(api),
        api.Order(action="SELL", totalQuantity=5, orderType="LOC", lmtPrice=236.9, tif="DAY"),
    )
    missed = ib.placeOrder(
        stock(api),
        api.Order(action="SELL", totalQuantity=5, orderType="LOC", lmtPrice=237.5, tif="DAY"),
    )
    for trade in (moc, loc, missed):
        wait_status(ib, trade, "PreSubmitted")
    sim.call("set_price", symbol="AAPL", price=237.0)  # marketable, but they wait for 16:00
    ib.sleep(0.1)
    assert sim.call("executions") == []

    sim.call("advance_clock", seconds=180)

    wait_status(ib, moc, "Filled")
    wait_status(ib, loc, "Filled")
    wait_status(ib, missed, "Cancelled")
    assert (_fill_price(moc), _fill_price(loc)) == (237.0, 237.0)
    assert errors.find(202, missed.order.orderId) is not None


def test_moc_must_be_a_day_order(ib: Any, api: ModuleType) -> None:
    errors = ErrorLog.attach(ib)
    trade = ib.placeOrder(
        stock(api), api.Order(action="BUY", totalQuantity=1, orderType="MOC", tif="GTC")
    )
    _, _, message = errors.wait_for(ib, 201, trade.order.orderId)
    assert message == "Order rejected - reason:MOC orders must be DAY orders."


def test_a_trailing_order_without_an_amount_is_rejected(ib: Any, api: ModuleType) -> None:
    errors = ErrorLog.attach(ib)
    trade = ib.placeOrder(
        stock(api), api.Order(action="SELL", totalQuantity=1, orderType="TRAIL", tif="DAY")
    )
    _, _, message = errors.wait_for(ib, 201, trade.order.orderId)
    assert message == (
        "Order rejected - reason:The trailing amount or trailing percent is missing."
    )
    wait_until(ib, lambda: trade.orderStatus.status == "Inactive", what="Inactive")
