"""Order handling over the socket: fills, commissions, order types, changes,
brackets, OCA groups and cancellation."""

from __future__ import annotations

import datetime as dt
from types import ModuleType
from typing import Any

import pytest

from ibsim.testing import RunningSimulator
from tests.ibsim.conftest import Clients
from tests.ibsim.support import (
    AAPL_ASK,
    AAPL_BID,
    ErrorLog,
    stock,
    wait_status,
    wait_until,
)


def _resting_limit(ib: Any, api: ModuleType, price: float = 200.0, **fields: Any) -> Any:
    """A BUY LMT far below the market: it rests as Submitted."""
    trade = ib.placeOrder(stock(api), api.LimitOrder("BUY", 1, price, **fields))
    wait_status(ib, trade, "Submitted")
    return trade


# --- market orders and commissions ---------------------------------------------


def test_market_buy_fills_at_the_ask(ib: Any, api: ModuleType) -> None:
    executions: list[Any] = []
    reports: list[Any] = []
    ib.execDetailsEvent += lambda trade, fill: executions.append(fill)
    ib.commissionReportEvent += lambda trade, fill, report: reports.append(report)
    trade = ib.placeOrder(stock(api), api.MarketOrder("BUY", 10))
    wait_status(ib, trade, "Filled")
    wait_until(ib, lambda: len(reports) == 1, what="the commission report")
    assert trade.orderStatus.filled == 10
    assert trade.orderStatus.remaining == 0
    assert trade.orderStatus.avgFillPrice == AAPL_ASK
    assert trade.orderStatus.permId > 0
    assert len(executions) == 1
    execution = executions[0].execution
    assert execution.side == "BOT"
    assert execution.shares == 10
    assert execution.price == AAPL_ASK
    assert execution.permId == trade.orderStatus.permId
    assert execution.orderId == trade.order.orderId
    assert execution.acctNumber == "DU1234567"
    assert execution.exchange == "NASDAQ"
    assert execution.execId.endswith(".01")
    assert abs((dt.datetime.now(dt.UTC) - execution.time).total_seconds()) < 5
    assert reports[0].execId == execution.execId
    assert reports[0].commission == 1.0
    assert reports[0].currency == "USD"
    assert [f.commissionReport.commission for f in trade.fills] == [1.0]


def test_commission_scales_per_share(ib: Any, api: ModuleType) -> None:
    trade = ib.placeOrder(stock(api), api.MarketOrder("BUY", 1000))
    wait_status(ib, trade, "Filled")
    wait_until(ib, lambda: trade.fills and trade.fills[0].commissionReport.execId)
    assert trade.fills[0].execution.price == AAPL_ASK
    assert trade.fills[0].commissionReport.commission == 5.0  # 1000 x 0.005


def test_commission_capped_at_one_percent_of_value(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    sim.call("set_price", symbol="AAPL", price=5.0)  # quoted 5.00 x 5.01
    trade = ib.placeOrder(stock(api), api.MarketOrder("SELL", 10))
    wait_status(ib, trade, "Filled")
    wait_until(ib, lambda: trade.fills and trade.fills[0].commissionReport.execId)
    assert trade.fills[0].execution.price == 5.0
    assert trade.fills[0].commissionReport.commission == 0.5  # 1% of USD 50, under the minimum


# --- limit and stop orders -----------------------------------------------------


def test_limit_order_rests_then_fills_when_marketable(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    trade = ib.placeOrder(stock(api), api.LimitOrder("BUY", 5, 235.0))
    wait_status(ib, trade, "Submitted")
    sim.call("set_price", symbol="AAPL", price=235.5)
    ib.sleep(0.1)
    assert trade.orderStatus.status == "Submitted"
    assert trade.fills == []
    sim.call("set_price", symbol="AAPL", price=234.8)  # the ask drops through the limit
    wait_status(ib, trade, "Filled")
    # A resting limit fills at its limit (IB's paper trader), not at the new ask.
    assert trade.orderStatus.avgFillPrice == 235.0
    assert trade.fills[0].execution.price == 235.0


def test_marketable_limit_fills_at_the_touch(ib: Any, api: ModuleType) -> None:
    trade = ib.placeOrder(stock(api), api.LimitOrder("SELL", 5, 230.0))
    wait_status(ib, trade, "Filled")
    assert trade.fills[0].execution.side == "SLD"
    assert trade.fills[0].execution.price == AAPL_BID  # the bid: better than the 230 limit


def test_stop_sell_triggers_at_or_below_stop(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    trade = ib.placeOrder(stock(api), api.StopOrder("SELL", 3, 230.0))
    wait_status(ib, trade, "PreSubmitted")
    sim.call("set_price", symbol="AAPL", price=230.01)
    ib.sleep(0.1)
    assert trade.orderStatus.status == "PreSubmitted"
    sim.call("set_price", symbol="AAPL", price=229.9)  # quoted 229.89 x 229.91
    wait_status(ib, trade, "Filled")
    assert trade.fills[0].execution.price == 229.89  # a market order: the bid
    assert trade.fills[0].execution.side == "SLD"


def test_stop_buy_triggers_at_or_above_stop(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    trade = ib.placeOrder(stock(api), api.StopOrder("BUY", 3, 240.0))
    wait_status(ib, trade, "PreSubmitted")
    sim.call("set_price", symbol="AAPL", price=239.99)
    ib.sleep(0.1)
    assert trade.orderStatus.status == "PreSubmitted"
    sim.call("set_price", symbol="AAPL", price=240.0)  # quoted 239.99 x 240.01
    wait_status(ib, trade, "Filled")
    assert trade.fills[0].execution.price == 240.01  # a market order: the ask
    assert trade.fills[0].execution.side == "BOT"


def test_stop_limit_triggers_then_waits_for_limit(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    trade = ib.placeOrder(stock(api), api.StopLimitOrder("BUY", 2, 241.0, 240.0))
    wait_status(ib, trade, "PreSubmitted")
    # Through the stop but above the limit: triggered, working, not filled.
    sim.call("set_price", symbol="AAPL", price=242.0)
    wait_status(ib, trade, "Submitted")
    ib.sleep(0.1)
    assert trade.orderStatus.filled == 0
    sim.call("set_price", symbol="AAPL", price=240.5)  # the ask (240.51) under the limit
    wait_status(ib, trade, "Filled")
    assert trade.fills[0].execution.price == 241.0  # resting since the trigger: its limit


def test_stop_limit_sell_fills_when_triggered_inside_limit(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    trade = ib.placeOrder(stock(api), api.StopLimitOrder("SELL", 2, 229.0, 230.0))
    wait_status(ib, trade, "PreSubmitted")
    sim.call("set_price", symbol="AAPL", price=229.5)  # quoted 229.49 x 229.51
    wait_status(ib, trade, "Filled")
    assert trade.fills[0].execution.price == 229.49  # marketable when triggered: the bid


# --- changes and identifiers ---------------------------------------------------


def test_modify_order_keeps_order_id_and_perm_id(
    clients: Clients, lib: str, api: ModuleType, sim: RunningSimulator
) -> None:
    ib = clients.connect(lib, 1)
    trade = _resting_limit(ib, api, 200.0)
    order_id, perm_id = trade.order.orderId, trade.orderStatus.permId
    trade.order.lmtPrice = 201.0
    again = ib.placeOrder(trade.contract, trade.order)
    assert again.order.orderId == order_id
    wait_until(ib, lambda: sim.call("orders")[0]["lmt_price"] == 201.0, what="the new limit")
    orders = sim.call("orders")
    assert len(orders) == 1
    assert orders[0]["perm_id"] == perm_id
    # What another client reads from the wire.
    other = clients.connect(lib, 2)
    [seen] = other.reqAllOpenOrders()
    assert seen.order.orderId == order_id
    assert seen.order.permId == perm_id
    assert seen.order.lmtPrice == 201.0
    assert sim.call("counters")["orders_total"] == 1
    # A marketable change fills the same order.
    trade.order.lmtPrice = 237.0
    ib.placeOrder(trade.contract, trade.order)
    wait_status(ib, trade, "Filled")
    assert trade.orderStatus.permId == perm_id
    assert trade.fills[0].execution.permId == perm_id
    assert trade.fills[0].execution.price == AAPL_ASK  # re-priced: it takes the ask


def test_perm_ids_are_unique(ib: Any, api: ModuleType) -> None:
    trades = [_resting_limit(ib, api, 200.0 + i) for i in range(5)]
    fill = ib.placeOrder(stock(api), api.MarketOrder("BUY", 1))
    wait_status(ib, fill, "Filled")
    perm_ids = [t.orderStatus.permId for t in [*trades, fill]]
    assert all(p > 0 for p in perm_ids)
    assert len(set(perm_ids)) == 6
    order_ids = [t.order.orderId for t in [*trades, fill]]
    assert order_ids == sorted(order_ids)
    assert len(set(order_ids)) == 6


def test_order_ref_is_carried_everywhere(
    clients: Clients, lib: str, api: ModuleType, sim: RunningSimulator
) -> None:
    master = clients.connect(lib, 0)
    ib = clients.connect(lib, 1)
    resting = _resting_limit(ib, api, 200.0, orderRef="strategy-7")
    # openOrder as another client reads it.
    wait_until(
        master,
        lambda: any(t.order.permId == resting.orderStatus.permId for t in master.openTrades()),
        what="the master client to see the order",
    )
    [seen] = [t for t in master.openTrades() if t.order.permId == resting.orderStatus.permId]
    assert seen.order.orderRef == "strategy-7"
    assert [t.order.orderRef for t in clients.connect(lib, 2).reqAllOpenOrders()] == ["strategy-7"]
    # The execution.
    trade = ib.placeOrder(stock(api), api.MarketOrder("BUY", 2, orderRef="strategy-8"))
    wait_status(ib, trade, "Filled")
    assert trade.fills[0].execution.orderRef == "strategy-8"
    assert [f.execution.orderRef for f in ib.reqExecutions()] == ["strategy-8"]
    # Completed orders.
    completed = ib.reqCompletedOrders(False)
    assert [(t.order.orderRef, t.orderStatus.status) for t in completed] == [
        ("strategy-8", "Filled")
    ]
    assert completed[0].order.permId == trade.orderStatus.permId
    assert sim.call("counters")["orders_by_ref"] == {"strategy-7": 1, "strategy-8": 1}


# --- brackets and OCA ------------------------------------------------------------


def _bracket(ib: Any, api: ModuleType) -> tuple[Any, Any, Any]:
    legs = ib.bracketOrder("BUY", 10, limitPrice=237.0, takeProfitPrice=240.0, stopLossPrice=230.0)
    parent, take_profit, stop_loss = (ib.placeOrder(stock(api), leg) for leg in legs)
    wait_status(ib, parent, "Filled")
    wait_status(ib, take_profit, "Submitted")
    wait_status(ib, stop_loss, "PreSubmitted")
    assert parent.fills[0].execution.price == AAPL_ASK
    assert take_profit.order.parentId == parent.order.orderId
    assert stop_loss.order.parentId == parent.order.orderId
    return parent, take_profit, stop_loss


def test_bracket_take_profit_cancels_stop_loss(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    _parent, take_profit, stop_loss = _bracket(ib, api)
    sim.call("set_price", symbol="AAPL", price=240.5)  # the bid (240.49) through 240
    wait_status(ib, take_profit, "Filled")
    wait_status(ib, stop_loss, "Cancelled")
    assert take_profit.fills[0].execution.price == 240.0
    assert take_profit.fills[0].execution.side == "SLD"
    assert stop_loss.fills == []
    assert sim.call("positions") == {}


def test_bracket_stop_loss_cancels_take_profit(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    _parent, take_profit, stop_loss = _bracket(ib, api)
    sim.call("set_price", symbol="AAPL", price=229.0)  # quoted 228.99 x 229.01
    wait_status(ib, stop_loss, "Filled")
    wait_status(ib, take_profit, "Cancelled")
    assert stop_loss.fills[0].execution.price == 228.99
    assert sim.call("positions") == {}


def test_bracket_children_wait_for_parent(ib: Any, api: ModuleType, sim: RunningSimulator) -> None:
    legs = ib.bracketOrder("BUY", 10, limitPrice=235.0, takeProfitPrice=240.0, stopLossPrice=230.0)
    parent, take_profit, stop_loss = (ib.placeOrder(stock(api), leg) for leg in legs)
    wait_status(ib, parent, "Submitted")
    # Above the take-profit: the unfilled parent keeps the children inactive.
    sim.call("set_price", symbol="AAPL", price=241.0)
    ib.sleep(0.1)
    assert take_profit.orderStatus.status == "PreSubmitted"
    assert stop_loss.orderStatus.status == "PreSubmitted"
    sim.call("set_price", symbol="AAPL", price=234.0)
    wait_status(ib, parent, "Filled")
    wait_status(ib, take_profit, "Submitted")
    ib.cancelOrder(parent.order)  # a filled parent: nothing to cancel
    ib.cancelOrder(take_profit.order)
    wait_status(ib, take_profit, "Cancelled")


def test_cancelling_bracket_parent_cancels_children(ib: Any, api: ModuleType) -> None:
    legs = ib.bracketOrder("BUY", 10, limitPrice=235.0, takeProfitPrice=240.0, stopLossPrice=230.0)
    parent, take_profit, stop_loss = (ib.placeOrder(stock(api), leg) for leg in legs)
    wait_status(ib, parent, "Submitted")
    wait_status(ib, stop_loss, "PreSubmitted")
    ib.cancelOrder(parent.order)
    for trade in (parent, take_profit, stop_loss):
        wait_status(ib, trade, "Cancelled")
    assert ib.reqAllOpenOrders() == []


def test_oca_type_1_cancels_the_others(ib: Any, api: ModuleType, sim: RunningSimulator) -> None:
    orders = ib.oneCancelsAll(
        [api.LimitOrder("BUY", 10, 230.0), api.LimitOrder("SELL", 10, 245.0)], "oca-one", 1
    )
    buy, sell = (ib.placeOrder(stock(api), order) for order in orders)
    wait_status(ib, buy, "Submitted")
    wait_status(ib, sell, "Submitted")
    assert {o["oca_group"] for o in sim.call("orders")} == {"oca-one"}
    sim.call("set_price", symbol="AAPL", price=229.5)
    wait_status(ib, buy, "Filled")
    wait_status(ib, sell, "Cancelled")
    assert buy.fills[0].execution.price == 230.0  # resting: at its limit
    assert sell.fills == []


# --- cancellation -----------------------------------------------------------------


def test_cancel_order(ib: Any, api: ModuleType) -> None:
    errors = ErrorLog.attach(ib)
    trade = _resting_limit(ib, api)
    ib.cancelOrder(trade.order)
    wait_status(ib, trade, "Cancelled")
    _, _, message = errors.wait_for(ib, 202, trade.order.orderId)
    assert message.startswith("Order Canceled")


def test_cancel_unknown_order_id(ib: Any) -> None:
    errors = ErrorLog.attach(ib)
    ib.client.cancelOrder(98765)
    _, _, message = errors.wait_for(ib, 10147, 98765)
    assert "98765" in message


def test_cancel_filled_order(ib: Any, api: ModuleType) -> None:
    errors = ErrorLog.attach(ib)
    trade = ib.placeOrder(stock(api), api.MarketOrder("BUY", 1))
    wait_status(ib, trade, "Filled")
    ib.client.cancelOrder(trade.order.orderId)
    _, _, message = errors.wait_for(ib, 10148, trade.order.orderId)
    assert "state: Filled" in message
    assert trade.orderStatus.status == "Filled"


def test_only_owner_or_master_can_cancel(
    clients: Clients, lib: str, api: ModuleType, sim: RunningSimulator
) -> None:
    owner = clients.connect(lib, 1)
    other = clients.connect(lib, 2)
    master = clients.connect(lib, 0)
    trade = _resting_limit(owner, api)
    order_id = trade.order.orderId
    other_errors = ErrorLog.attach(other)
    other.client.cancelOrder(order_id)
    other_errors.wait_for(other, 10147, order_id)
    owner.sleep(0.1)
    assert trade.orderStatus.status == "Submitted"
    assert sim.call("orders")[0]["status"] == "Submitted"
    master.client.cancelOrder(order_id)
    wait_status(owner, trade, "Cancelled")
    assert sim.call("orders")[0]["status"] == "Cancelled"


def test_master_client_sees_other_clients_orders(
    clients: Clients, lib: str, api: ModuleType
) -> None:
    master = clients.connect(lib, 0)
    one = clients.connect(lib, 1)
    two = clients.connect(lib, 2)
    placed = [_resting_limit(one, api, 200.0), _resting_limit(two, api, 201.0)]
    perm_ids = {t.orderStatus.permId for t in placed}
    # Pushed to the master as they are placed...
    wait_until(
        master,
        lambda: {t.order.permId for t in master.openTrades()} == perm_ids,
        what="the master's open trades",
    )
    by_perm = {t.order.permId: t for t in master.openTrades()}
    assert {t.order.clientId for t in by_perm.values()} == {1, 2}
    assert all(t.orderStatus.status == "Submitted" for t in by_perm.values())
    assert {t.order.permId for t in master.reqAllOpenOrders()} == perm_ids
    # ...and sent to a master that connects later.
    master.disconnect()
    late_master = clients.connect(lib, 0)
    assert {t.order.permId for t in late_master.openTrades()} == perm_ids
    assert {t.order.permId for t in late_master.reqOpenOrders()} == perm_ids
    # Any client may ask for all open orders; reqOpenOrders gives only its own.
    assert {t.order.permId for t in clients.connect(lib, 3).reqAllOpenOrders()} == perm_ids
    assert {t.order.permId for t in one.reqOpenOrders()} == {placed[0].orderStatus.permId}


def test_global_cancel_cancels_everything(
    clients: Clients, lib: str, api: ModuleType, sim: RunningSimulator
) -> None:
    one = clients.connect(lib, 1)
    two = clients.connect(lib, 2)
    mine = [_resting_limit(one, api, 200.0 + i) for i in range(3)]
    theirs = _resting_limit(two, api, 190.0)
    one.reqGlobalCancel()
    for trade in mine:
        wait_status(one, trade, "Cancelled")
    wait_status(two, theirs, "Cancelled")
    assert {o["status"] for o in sim.call("orders")} == {"Cancelled"}
    assert one.reqAllOpenOrders() == []


@pytest.mark.parametrize("order_type", ["PEG MID", "REL"])
def test_unsupported_order_type_is_rejected(ib: Any, api: ModuleType, order_type: str) -> None:
    errors = ErrorLog.attach(ib)
    order = api.Order(action="BUY", totalQuantity=1, orderType=order_type, auxPrice=230.0)
    trade = ib.placeOrder(stock(api), order)
    _, _, message = errors.wait_for(ib, 201, trade.order.orderId)
    assert order_type in message
