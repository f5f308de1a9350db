"""Time in force at each session edge, and orders outside regular hours: DAY
expiry at the close (16:00, or 20:00 with outsideRth), GTC through the close,
the night and a restart, IOC and FOK against the depth within their limit, OPG in the
opening auction, GTD at its time, market orders waiting for the open, limit
orders with outsideRth in the pre-market, nothing filling while closed.

Every test sets the clock (a Wednesday, 2026-03-04, in EST) and moves it
with advance_clock; the clock runs in real time in between."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ibsim import tif
from ibsim.testing import RunningSimulator
from tests.ibsim.conftest import Clients
from tests.ibsim.support import (
    AAPL_ASK,
    ErrorLog,
    stock,
    wait_disconnected,
    wait_status,
    wait_until,
)

CANCELED = "Order Canceled - reason:"
EST = dt.timezone(dt.timedelta(hours=-5))


def _held_until(when: str) -> str:
    """Warning 399 for a BUY 10 AAPL held until `when` (US/Eastern)."""
    return (
        "Order Message:\nBUY 10 AAPL NASDAQ.NMS\n"
        f"Warning: your order will not be placed at the exchange until {when} US/Eastern"
    )


def _place(ib: Any, api: ModuleType, order: Any, status: str) -> Any:
    trade = ib.placeOrder(stock(api), order)
    wait_status(ib, trade, status)
    return trade


def _statuses(trade: Any) -> list[str]:
    """The statuses the client went through, without repeats or the warnings' marks."""
    seen: list[str] = []
    for entry in trade.log:
        if entry.status not in ("ValidationError", *seen[-1:]) and not entry.errorCode:
            seen.append(entry.status)
    return seen


def _expired(ib: Any, errors: ErrorLog, trade: Any) -> None:
    wait_status(ib, trade, "Cancelled")
    assert errors.find(202, trade.order.orderId) == (trade.order.orderId, 202, CANCELED)
    assert trade.fills == []


# --- DAY ---------------------------------------------------------------------------------------


def test_a_day_order_expires_at_the_close(ib: Any, api: ModuleType, sim: RunningSimulator) -> None:
    errors = ErrorLog.attach(ib)
    sim.call("set_clock", time="2026-03-04T15:59:00")
    trade = _place(ib, api, api.LimitOrder("BUY", 10, 200.0, tif="DAY"), "Submitted")
    sim.call("advance_clock", seconds=50)
    ib.sleep(0.1)
    assert trade.orderStatus.status == "Submitted"  # 15:59:50: still working
    sim.call("advance_clock", seconds=20)
    _expired(ib, errors, trade)
    [row] = sim.call("orders")
    assert row["completed_time"] == "20260304 16:00:00 US/Eastern"


def test_an_order_without_tif_is_a_day_order_and_expires_at_the_close(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    errors = ErrorLog.attach(ib)
    sim.call("set_clock", time="2026-03-04T15:59:00")
    trade = _place(ib, api, api.LimitOrder("BUY", 10, 200.0, tif=""), "Submitted")
    assert errors.find(10349, trade.order.orderId) is not None
    sim.call("advance_clock", seconds=120)
    _expired(ib, errors, trade)


def test_a_day_order_with_outside_rth_works_after_hours_and_expires_at_20(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    errors = ErrorLog.attach(ib)
    sim.call("set_clock", time="2026-03-04T15:59:00")
    order = api.LimitOrder("BUY", 10, 200.0, tif="DAY", outsideRth=True)
    late = _place(ib, api, order, "Submitted")
    sim.call("advance_clock", seconds=3 * 3600)  # 18:59: after-hours
    ib.sleep(0.1)
    assert late.orderStatus.status == "Submitted"
    assert errors.find(202) is None
    sim.call("advance_clock", seconds=3600)  # 19:59 + the test's own seconds
    ib.sleep(0.1)
    assert late.orderStatus.status == "Submitted"
    sim.call("advance_clock", seconds=120)
    _expired(ib, errors, late)
    [row] = sim.call("orders")
    assert row["completed_time"] == "20260304 20:00:00 US/Eastern"


def test_the_close_comes_in_real_time(ib: Any, api: ModuleType, sim: RunningSimulator) -> None:
    errors = ErrorLog.attach(ib)
    sim.call("set_clock", time="2026-03-04T15:59:59")
    trade = _place(ib, api, api.LimitOrder("BUY", 10, 200.0, tif="DAY"), "Submitted")
    wait_status(ib, trade, "Cancelled", timeout=3.0)  # no advance_clock: the clock ran into it
    assert errors.find(202, trade.order.orderId) is not None


# --- GTC ---------------------------------------------------------------------------------------


def test_a_gtc_order_waits_through_the_close_and_the_night_and_works_again(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    sim.call("set_clock", time="2026-03-04T15:59:00")
    gtc = _place(ib, api, api.LimitOrder("BUY", 10, 200.0, tif="GTC"), "Submitted")
    sim.call("advance_clock", seconds=120)
    wait_status(ib, gtc, "PreSubmitted")  # held outside regular hours
    sim.call("set_price", symbol="AAPL", price=199.0)  # an after-hours print: no fill
    sim.call("advance_clock", seconds=17.5 * 3600)  # 09:31 the next day
    wait_status(ib, gtc, "Filled")
    assert _statuses(gtc) == ["PendingSubmit", "Submitted", "PreSubmitted", "Submitted", "Filled"]
    filled_at = dt.datetime(2026, 3, 5, 9, 30, tzinfo=EST)
    assert gtc.fills[0].execution.time == filled_at  # at the open, as a new order at the ask
    assert gtc.fills[0].execution.price == 199.01


def test_a_gtc_order_survives_the_close_and_a_restart(
    clients: Clients, lib: str, api: ModuleType, sim: RunningSimulator
) -> None:
    ib = clients.connect(lib, 1)
    sim.call("set_clock", time="2026-03-04T15:59:00")
    gtc = _place(ib, api, api.LimitOrder("BUY", 10, 200.0, tif="GTC"), "Submitted")
    day = _place(ib, api, api.LimitOrder("BUY", 10, 201.0, tif="DAY"), "Submitted")
    sim.call("advance_clock", seconds=6 * 3600)  # 21:59: closed
    wait_status(ib, day, "Cancelled")
    sim.call("restart", downtime=0.2)
    wait_disconnected(ib)
    again = clients.connect_retrying(lib, 1)
    [kept] = again.reqAllOpenOrders()
    assert (kept.order.permId, kept.order.tif) == (gtc.orderStatus.permId, "GTC")
    assert kept.orderStatus.status == "PreSubmitted"
    sim.call("advance_clock", seconds=11.6 * 3600)  # 09:35 the next day

    def working() -> list[str]:
        return [t.orderStatus.status for t in again.openTrades()]

    wait_until(again, lambda: working() == ["Submitted"], what="the GTC order at the open")


def test_a_gtc_order_kept_in_the_state_dir_outlives_the_process(
    sim_factory: Callable[..., RunningSimulator], lib: str, api: ModuleType, tmp_path: Path
) -> None:
    first = sim_factory(state_dir=str(tmp_path))
    pool = Clients(first)
    try:
        ib = pool.connect(lib, 1)
        first.call("set_clock", time="2026-03-04T15:59:00")
        # A good till date after the wall clock's: the new process starts on the open clock.
        gtd = api.LimitOrder("BUY", 10, 200.0, tif="GTD", goodTillDate="20991231 12:00:00")
        gtc = _place(ib, api, api.LimitOrder("BUY", 10, 199.0, tif="GTC"), "Submitted")
        kept_gtd = _place(ib, api, gtd, "Submitted")
        _place(ib, api, api.LimitOrder("BUY", 10, 198.0, tif="DAY"), "Submitted")
        first.call("advance_clock", seconds=120)
    finally:
        pool.close_all()
    first.stop()

    second = sim_factory(state_dir=str(tmp_path))
    pool = Clients(second)
    try:
        kept = pool.connect(lib, 1).reqAllOpenOrders()
        assert sorted((t.order.permId, t.order.tif) for t in kept) == [
            (gtc.orderStatus.permId, "GTC"),
            (kept_gtd.orderStatus.permId, "GTD"),
        ]
    finally:
        pool.close_all()


# --- IOC and FOK -----------------------------------------------------------------------------


def test_ioc_takes_the_depth_within_its_limit_and_cancels_the_rest(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    errors = ErrorLog.attach(ib)
    sim.call("set_liquidity", symbol="AAPL", shares=100)  # 100 at 236.43, 100 at 236.44 ...
    trade = ib.placeOrder(stock(api), api.LimitOrder("BUY", 300, 236.44, tif="IOC"))
    wait_status(ib, trade, "Cancelled")
    wait_until(ib, lambda: len(trade.fills) == 2 and trade.fills[1].commissionReport.execId)
    executions = [(f.execution.shares, f.execution.price) for f in trade.fills]
    assert executions == [(100, AAPL_ASK), (100, 236.44)]
    assert trade.orderStatus.filled == 200
    assert errors.find(202, trade.order.orderId) == (trade.order.orderId, 202, CANCELED)
    assert sim.call("positions")["AAPL"]["quantity"] == 200


def test_ioc_that_is_not_marketable_is_cancelled_at_once(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    errors = ErrorLog.attach(ib)
    trade = ib.placeOrder(stock(api), api.LimitOrder("BUY", 10, 230.0, tif="IOC"))
    _expired(ib, errors, trade)
    sim.call("set_price", symbol="AAPL", price=229.0)  # too late: it is gone
    ib.sleep(0.1)
    assert trade.fills == []
    assert sim.call("executions") == []


def test_fok_is_cancelled_unless_the_depth_within_its_limit_fills_it_whole(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    errors = ErrorLog.attach(ib)
    sim.call("set_liquidity", symbol="AAPL", shares=100)
    killed = ib.placeOrder(stock(api), api.LimitOrder("BUY", 300, 236.44, tif="FOK"))
    _expired(ib, errors, killed)  # two levels within 236.44: 200 shares
    assert sim.call("executions") == []
    filled = ib.placeOrder(stock(api), api.LimitOrder("BUY", 300, 236.45, tif="FOK"))
    wait_status(ib, filled, "Filled")
    wait_until(ib, lambda: len(filled.fills) == 3)
    executions = [(f.execution.shares, f.execution.price) for f in filled.fills]
    assert executions == [(100, AAPL_ASK), (100, 236.44), (100, 236.45)]


# --- OPG -------------------------------------------------------------------------------------


def test_opg_orders_meet_the_opening_auction(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    errors = ErrorLog.attach(ib)
    sim.call("set_clock", time="2026-03-04T09:00:00")
    moo = _place(ib, api, api.MarketOrder("BUY", 10, tif="OPG"), "PreSubmitted")
    loo = _place(ib, api, api.LimitOrder("BUY", 5, 240.0, tif="OPG"), "PreSubmitted")
    missed = _place(ib, api, api.LimitOrder("BUY", 5, 230.0, tif="OPG"), "PreSubmitted")
    sim.call("set_price", symbol="AAPL", price=237.0)  # a pre-market trade: no fill yet
    ib.sleep(0.1)
    assert [t.orderStatus.status for t in (moo, loo, missed)] == ["PreSubmitted"] * 3
    moved = sim.call("advance_clock", seconds=31 * 60)
    assert {"at": "2026-03-04T09:30:00-05:00", "event": "opening auction"} in moved["events"]
    wait_status(ib, moo, "Filled")
    wait_status(ib, loo, "Filled")
    wait_status(ib, missed, "Cancelled")
    opening = dt.datetime(2026, 3, 4, 9, 30, tzinfo=EST)
    for trade in (moo, loo):  # the opening price (the last trade), at 09:30
        assert [(f.execution.price, f.execution.time) for f in trade.fills] == [(237.0, opening)]
    assert errors.find(202, missed.order.orderId) is not None
    assert [code for _, code, _ in errors.entries] == [202]  # OPG orders draw no 399


def test_opg_refuses_stop_orders(ib: Any, api: ModuleType) -> None:
    errors = ErrorLog.attach(ib)
    trade = ib.placeOrder(stock(api), api.StopOrder("SELL", 5, 230.0, tif="OPG"))
    _, _, message = errors.wait_for(ib, 201, trade.order.orderId)
    assert message == (
        "Order rejected - reason:OPG orders must be market (MOO) or limit (LOO) orders."
    )


# --- GTD -------------------------------------------------------------------------------------


def test_a_gtd_order_expires_at_its_good_till_date(
    clients: Clients, lib: str, api: ModuleType, sim: RunningSimulator
) -> None:
    ib = clients.connect(lib, 1)
    errors = ErrorLog.attach(ib)
    sim.call("set_clock", time="2026-03-04T10:00:00")
    good_till = "20260304 10:00:30 US/Eastern"
    order = api.LimitOrder("BUY", 10, 200.0, tif="GTD", goodTillDate=good_till)
    trade = _place(ib, api, order, "Submitted")
    [seen] = clients.connect(lib, 2).reqAllOpenOrders()
    assert (seen.order.tif, seen.order.goodTillDate) == ("GTD", good_till)
    sim.call("advance_clock", seconds=20)
    ib.sleep(0.1)
    assert trade.orderStatus.status == "Submitted"
    sim.call("advance_clock", seconds=15)
    _expired(ib, errors, trade)
    [row] = sim.call("orders")
    assert row["completed_time"] == "20260304 10:00:30 US/Eastern"


@pytest.mark.parametrize(
    ("good_till_date", "message"),
    [
        ("", "Order rejected - reason:A GTD order needs a good till date."),
        ("next week", "Order rejected - reason:Invalid good till date 'next week'"),
        ("20260304 09:00:00", "Order rejected - reason:The good till date 20260304 09:00:00 "),
    ],
)
def test_a_gtd_order_without_a_future_date_is_rejected(
    ib: Any, api: ModuleType, sim: RunningSimulator, good_till_date: str, message: str
) -> None:
    errors = ErrorLog.attach(ib)
    sim.call("set_clock", time="2026-03-04T10:00:00")
    order = api.LimitOrder("BUY", 10, 200.0, tif="GTD", goodTillDate=good_till_date)
    trade = ib.placeOrder(stock(api), order)
    _, _, text = errors.wait_for(ib, 201, trade.order.orderId)
    assert text.startswith(message)
    assert sim.call("orders") == []  # no order was made


@pytest.mark.parametrize(
    ("text", "outside_rth", "expected"),
    [
        ("20260304 10:00:30 US/Eastern", False, "2026-03-04T10:00:30-05:00"),
        ("20260304 10:00:30", False, "2026-03-04T10:00:30-05:00"),  # the login zone
        ("20260304 15:00:30 UTC", False, "2026-03-04T10:00:30-05:00"),
        ("20260304-15:00:30", False, "2026-03-04T10:00:30-05:00"),  # UTC
        ("20260304", False, "2026-03-04T16:00:00-05:00"),  # a date: its close
        ("20260304", True, "2026-03-04T20:00:00-05:00"),  # ... after-hours with outsideRth
        ("20261127", False, "2026-11-27T13:00:00-05:00"),  # an early close
        ("20260307", False, "2026-03-06T16:00:00-05:00"),  # a Saturday: Friday's close
    ],
)
def test_good_till_date_is_read_in_ib_formats(text: str, outside_rth: bool, expected: str) -> None:
    assert tif.good_till(text, outside_rth) == dt.datetime.fromisoformat(expected)


# --- outside regular hours -----------------------------------------------------------------------


def test_a_market_order_waits_for_the_open(ib: Any, api: ModuleType, sim: RunningSimulator) -> None:
    errors = ErrorLog.attach(ib)
    sim.call("set_clock", time="2026-03-04T08:00:00")
    trade = _place(ib, api, api.MarketOrder("BUY", 10, tif="DAY"), "PreSubmitted")
    assert errors.entries == [(trade.order.orderId, 399, _held_until("2026-03-04 09:30:00"))]
    sim.call("set_price", symbol="AAPL", price=236.0)  # a pre-market print: no fill
    sim.call("advance_clock", seconds=3600)  # 09:00
    ib.sleep(0.1)
    assert trade.orderStatus.status == "PreSubmitted"
    sim.call("advance_clock", seconds=1800)  # 09:30: the open
    wait_status(ib, trade, "Filled")
    fill = trade.fills[0].execution
    assert (fill.price, fill.time) == (236.01, dt.datetime(2026, 3, 4, 9, 30, tzinfo=EST))


def test_a_market_order_with_outside_rth_draws_2109_and_still_waits_for_the_open(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    errors = ErrorLog.attach(ib)
    sim.call("set_clock", time="2026-03-04T17:00:00")  # after-hours
    order = api.MarketOrder("BUY", 10, tif="DAY", outsideRth=True)
    trade = _place(ib, api, order, "PreSubmitted")
    assert [code for _, code, _ in errors.entries] == [2109, 399]
    assert errors.entries[1][2] == _held_until("2026-03-05 09:30:00")  # a DAY order for tomorrow
    sim.call("advance_clock", seconds=16.5 * 3600 + 5)
    wait_status(ib, trade, "Filled")
    assert trade.fills[0].execution.time == dt.datetime(2026, 3, 5, 9, 30, tzinfo=EST)


def test_a_limit_order_with_outside_rth_fills_in_the_pre_market(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    errors = ErrorLog.attach(ib)
    sim.call("set_clock", time="2026-03-04T08:00:00")
    early = ib.placeOrder(stock(api), api.LimitOrder("BUY", 10, 240.0, outsideRth=True, tif="DAY"))
    regular = _place(ib, api, api.LimitOrder("BUY", 10, 240.0, tif="DAY"), "PreSubmitted")
    wait_status(ib, early, "Filled")
    fill = early.fills[0].execution
    assert (fill.price, fill.time.astimezone(EST).hour) == (AAPL_ASK, 8)
    assert errors.entries == [(regular.order.orderId, 399, _held_until("2026-03-04 09:30:00"))]
    sim.call("advance_clock", seconds=5400)
    wait_status(ib, regular, "Filled")  # the one without outsideRth: at the open
    assert regular.fills[0].execution.time == dt.datetime(2026, 3, 4, 9, 30, tzinfo=EST)


def test_nothing_fills_while_the_market_is_closed(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    errors = ErrorLog.attach(ib)
    sim.call("set_clock", time="2026-03-04T21:00:00")
    order = api.LimitOrder("BUY", 10, 240.0, outsideRth=True, tif="GTC")
    trade = _place(ib, api, order, "PreSubmitted")
    # With outsideRth it is placed when the pre-market opens.
    assert errors.entries == [(trade.order.orderId, 399, _held_until("2026-03-05 04:00:00"))]
    sim.call("set_price", symbol="AAPL", price=230.0)
    sim.call("advance_clock", seconds=6 * 3600)  # 03:00: still closed
    ib.sleep(0.1)
    assert (trade.orderStatus.status, trade.fills) == ("PreSubmitted", [])
    sim.call("advance_clock", seconds=3600)  # 04:00: the pre-market
    wait_status(ib, trade, "Filled")
    fill = trade.fills[0].execution
    assert (fill.price, fill.time) == (230.01, dt.datetime(2026, 3, 5, 4, 0, tzinfo=EST))
