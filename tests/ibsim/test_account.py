"""Positions, cash, account pushes, executions, gateway restarts and state
kept across simulator instances."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ibsim.testing import RunningSimulator
from ibsim.universe import START_PRICES
from tests.ibsim.conftest import Clients
from tests.ibsim.support import (
    AAPL_ASK,
    AAPL_CON_ID,
    START_CASH,
    account_value,
    stock,
    wait_disconnected,
    wait_status,
    wait_until,
)


def _fill(
    ib: Any, api: ModuleType, action: str, qty: float, symbol: str = "AAPL", **kw: Any
) -> Any:
    trade = ib.placeOrder(stock(api, symbol), api.MarketOrder(action, qty, **kw))
    wait_status(ib, trade, "Filled")
    wait_until(ib, lambda: trade.fills and trade.fills[-1].commissionReport.execId)
    return trade


def _aapl_position(ib: Any) -> tuple[float, float] | None:
    for pos in ib.positions():
        if pos.contract.conId == AAPL_CON_ID:
            return pos.position, pos.avgCost
    return None


def test_positions_avg_cost_and_realized_pnl(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    _fill(ib, api, "BUY", 10)  # at the ask, 236.43, commission 1.00
    wait_until(ib, lambda: _aapl_position(ib) is not None, what="the position")
    assert _aapl_position(ib) == (10, pytest.approx(236.53))
    sim.call("set_price", symbol="AAPL", price=240.0)  # quoted 239.99 x 240.01
    _fill(ib, api, "BUY", 10)  # 240.01, commission 1.00
    wait_until(ib, lambda: (_aapl_position(ib) or (0, 0))[0] == 20, what="20 shares")
    quantity, avg_cost = _aapl_position(ib) or (0, 0)
    assert quantity == 20
    assert avg_cost == pytest.approx((2364.3 + 1 + 2400.1 + 1) / 20)  # 238.32
    [item] = [i for i in ib.portfolio() if i.contract.conId == AAPL_CON_ID]
    assert item.position == 20
    assert item.marketPrice == 240.0  # valued at the last price
    assert item.averageCost == pytest.approx(238.32)
    assert item.unrealizedPNL == pytest.approx(20 * (240.0 - 238.32), abs=0.01)
    # Fresh from the server.
    [pos] = ib.reqPositions()
    assert (pos.position, pos.avgCost) == (20, pytest.approx(238.32))
    assert pos.account == "DU1234567"
    # Closing at the bid: the realized PnL is net of the commission.
    sim.call("set_price", symbol="AAPL", price=245.0)  # quoted 244.99 x 245.01
    closing = _fill(ib, api, "SELL", 20)
    report = closing.fills[0].commissionReport
    assert report.commission == 1.0
    assert report.realizedPNL == pytest.approx((244.99 - 238.32) * 20 - 1.0)  # 132.40
    wait_until(ib, lambda: _aapl_position(ib) is None, what="the position to close")
    assert ib.reqPositions() == []
    expected_cash = START_CASH - 2364.3 - 1 - 2400.1 - 1 + 4899.8 - 1
    wait_until(
        ib,
        lambda: account_value(ib, "TotalCashValue") == f"{expected_cash:.2f}",
        what="the cash",
    )
    assert account_value(ib, "NetLiquidation") == "1000132.40"
    assert account_value(ib, "RealizedPnL") == "132.40"
    assert account_value(ib, "GrossPositionValue") == "0.00"


def test_opening_fill_has_no_realized_pnl(ib: Any, api: ModuleType, sim: RunningSimulator) -> None:
    trade = _fill(ib, api, "BUY", 5)
    # Sent as UNSET_DOUBLE, which both libraries turn into 0.0.
    assert trade.fills[0].commissionReport.realizedPNL == 0.0
    [row] = sim.call("executions")
    assert row["realized_pnl"] is None
    assert row["exec_id"] == trade.fills[0].execution.execId


def test_account_update_pushed_after_fill(
    clients: Clients, lib: str, api: ModuleType, sim: RunningSimulator
) -> None:
    trader = clients.connect(lib, 1)
    watcher = clients.connect(lib, 2)
    assert account_value(watcher, "TotalCashValue") == "1000000.00"
    assert account_value(watcher, "NetLiquidation") == "1000000.00"
    _fill(trader, api, "BUY", 10)
    cash = START_CASH - 10 * AAPL_ASK - 1.0  # bought at the ask
    wait_until(
        watcher,
        lambda: account_value(watcher, "TotalCashValue") == f"{cash:.2f}",
        what="the pushed cash value",
    )
    # Valued at the last price (236.42): half the spread and the commission lost.
    assert account_value(watcher, "NetLiquidation") == "999998.90"
    assert account_value(watcher, "GrossPositionValue") == "2364.20"
    assert account_value(watcher, "AvailableFunds") == f"{999998.9 - 0.25 * 2364.2:.2f}"
    [item] = watcher.portfolio()
    assert (item.contract.symbol, item.position) == ("AAPL", 10)
    # A price move of a held symbol is pushed too.
    sim.call("set_price", symbol="AAPL", price=250.0)
    wait_until(
        watcher,
        lambda: account_value(watcher, "NetLiquidation") == f"{cash + 2500.0:.2f}",
        what="the pushed net liquidation",
    )
    assert watcher.portfolio()[0].marketPrice == 250.0


def test_price_walk_stays_in_band_and_pushes_portfolio(
    sim_factory: Callable[..., RunningSimulator], lib: str, api: ModuleType
) -> None:
    walking = sim_factory(walk=True, tick_interval=0.02)
    pool = Clients(walking)
    try:
        ib = pool.connect(lib, 1)
        _fill(ib, api, "BUY", 10)
        [first] = ib.portfolio()
        wait_until(
            ib,
            lambda: ib.portfolio()[0].marketPrice != first.marketPrice,
            what="a pushed price change",
        )
        prices = walking.call("prices")
        moved = [s for s, price in prices.items() if price != START_PRICES[s]]
        assert len(moved) >= len(prices) // 2
        for symbol, price in prices.items():
            start = START_PRICES[symbol]
            assert start * 0.98 - 0.01 <= price <= start * 1.02 + 0.01, symbol
        assert walking.call("walk", on=False) is False
        frozen = walking.call("prices")
        ib.sleep(0.1)
        assert walking.call("prices") == frozen
    finally:
        pool.close_all()


def _exec_keys(fills: list[Any]) -> list[tuple[str, str, int]]:
    return sorted((f.contract.symbol, f.execution.side, f.execution.clientId) for f in fills)


def test_req_executions_filters(clients: Clients, lib: str, api: ModuleType) -> None:
    one = clients.connect(lib, 1)
    two = clients.connect(lib, 2)
    _fill(one, api, "BUY", 10, "AAPL")
    _fill(one, api, "SELL", 5, "MSFT")
    # Executions carry whole seconds: wait for the next second for the time filter.
    cutoff = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=1)
    while dt.datetime.now(dt.UTC) < cutoff:
        time.sleep(0.02)
    _fill(two, api, "BUY", 3, "AAPL")
    master = clients.connect(lib, 0)
    f = api.ExecutionFilter
    everything = [("AAPL", "BOT", 1), ("AAPL", "BOT", 2), ("MSFT", "SLD", 1)]
    assert _exec_keys(master.reqExecutions()) == everything
    assert _exec_keys(master.reqExecutions(f(symbol="AAPL"))) == everything[:2]
    assert _exec_keys(master.reqExecutions(f(side="SELL"))) == everything[2:]
    assert _exec_keys(master.reqExecutions(f(side="BUY"))) == everything[:2]
    assert _exec_keys(master.reqExecutions(f(clientId=2))) == [("AAPL", "BOT", 2)]
    assert _exec_keys(master.reqExecutions(f(acctCode="DU1234567"))) == everything
    assert master.reqExecutions(f(acctCode="DU0000000")) == []
    since = cutoff.strftime("%Y%m%d-%H:%M:%S")  # UTC
    assert _exec_keys(master.reqExecutions(f(time=since))) == [("AAPL", "BOT", 2)]
    utc_named = cutoff.strftime("%Y%m%d %H:%M:%S UTC")
    assert _exec_keys(master.reqExecutions(f(time=utc_named))) == [("AAPL", "BOT", 2)]
    eastern = cutoff.astimezone(ZoneInfo("US/Eastern")).strftime("%Y%m%d %H:%M:%S US/Eastern")
    assert _exec_keys(master.reqExecutions(f(time=eastern))) == [("AAPL", "BOT", 2)]
    later = (cutoff + dt.timedelta(minutes=5)).strftime("%Y%m%d-%H:%M:%S")
    assert master.reqExecutions(f(time=later)) == []
    # A non-master client only gets its own executions.
    assert _exec_keys(one.reqExecutions()) == [("AAPL", "BOT", 1), ("MSFT", "SLD", 1)]
    assert _exec_keys(one.reqExecutions(f(clientId=2))) == []
    # The commission reports that came with them (the libraries attach them to fills()).
    wait_until(master, lambda: len(master.fills()) == 3, what="the master's fills")
    assert [fill.commissionReport.commission for fill in master.fills()] == [1.0, 1.0, 1.0]


def test_restart_keeps_positions_and_gtc_orders_only(
    clients: Clients, lib: str, api: ModuleType, sim: RunningSimulator
) -> None:
    ib = clients.connect(lib, 1)
    _fill(ib, api, "BUY", 10)
    gtc = ib.placeOrder(stock(api), api.LimitOrder("BUY", 1, 200.0, tif="GTC"))
    day = ib.placeOrder(stock(api), api.LimitOrder("BUY", 1, 201.0))
    wait_status(ib, gtc, "Submitted")
    wait_status(ib, day, "Submitted")
    assert len(ib.reqExecutions()) == 1
    sim.call("restart", downtime=0.2)
    wait_disconnected(ib)
    again = clients.connect_retrying(lib, 1)
    assert again.reqExecutions() == []
    assert again.fills() == []
    assert again.reqCompletedOrders(False) == []
    [pos] = again.reqPositions()
    assert (pos.contract.conId, pos.position) == (AAPL_CON_ID, 10)
    assert pos.avgCost == pytest.approx(236.53)
    [still_open] = again.reqAllOpenOrders()
    assert still_open.order.permId == gtc.orderStatus.permId
    assert still_open.order.tif == "GTC"
    assert still_open.order.lmtPrice == 200.0
    assert [t.order.permId for t in again.openTrades()] == [gtc.orderStatus.permId]
    # A fill in the new session gets a new execId session part.
    fill = _fill(again, api, "BUY", 1)
    assert fill.fills[0].execution.execId.endswith(".01")
    assert len(again.reqExecutions()) == 1


def test_state_persists_across_simulator_instances(
    sim_factory: Callable[..., RunningSimulator], lib: str, api: ModuleType, tmp_path: Path
) -> None:
    first = sim_factory(state_dir=str(tmp_path))
    pool = Clients(first)
    try:
        ib = pool.connect(lib, 1)
        bought = _fill(ib, api, "BUY", 10)
        gtc = ib.placeOrder(stock(api), api.LimitOrder("BUY", 1, 200.0, tif="GTC"))
        wait_status(ib, gtc, "Submitted")
        old_perm_ids = [bought.orderStatus.permId, gtc.orderStatus.permId]
        cash = account_value(ib, "TotalCashValue")
        assert cash == f"{START_CASH - 2365.3:.2f}"
    finally:
        pool.close_all()
    first.stop()
    assert (tmp_path / "state.json").exists()

    second = sim_factory(state_dir=str(tmp_path))
    pool = Clients(second)
    try:
        ib = pool.connect(lib, 1)
        assert account_value(ib, "TotalCashValue") == cash
        [pos] = ib.reqPositions()
        assert (pos.position, pos.avgCost) == (10, pytest.approx(236.53))
        [kept] = ib.reqAllOpenOrders()
        assert kept.order.permId == gtc.orderStatus.permId
        new = ib.placeOrder(stock(api), api.LimitOrder("BUY", 1, 199.0))
        wait_status(ib, new, "Submitted")
        assert new.orderStatus.permId > max(old_perm_ids)
        assert new.order.orderId > gtc.order.orderId  # order ids continue too
    finally:
        pool.close_all()
