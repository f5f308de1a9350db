"""Pacing, the fault switches of the control API, and its counters."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from types import ModuleType
from typing import Any

import pytest

from ibsim.control import CommandError
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


def test_pacing_violation_gives_error_100(ib: Any, sim: RunningSimulator) -> None:
    errors = ErrorLog.attach(ib)
    throttle = ib.client.MaxRequests
    ib.client.MaxRequests = 0  # no client-side throttling: a burst straight to the socket
    try:
        for _ in range(80):
            ib.client.reqCurrentTime()
        wait_until(
            ib,
            lambda: errors.codes().count(100) == sim.call("counters")["pacing_errors"] > 0,
            what="the pacing errors",
        )
        ib.sleep(0.1)
    finally:
        ib.client.MaxRequests = throttle
    rejected = errors.codes().count(100)
    assert rejected >= 80 - 50  # at most 50 messages a second get through
    assert sim.call("counters")["pacing_errors"] == rejected
    req_id, _, message = errors.find(100) or (0, 0, "")
    assert req_id == -1
    assert message.startswith("Max rate of messages per second has been exceeded:max=50")
    # The connection survives; after a second the client may send again.
    assert ib.isConnected()
    ib.sleep(1.05)
    assert isinstance(ib.reqCurrentTime(), dt.datetime)
    assert errors.codes().count(100) == rejected


def test_drop_connections(clients: Clients, lib: str, sim: RunningSimulator) -> None:
    ib = clients.connect(lib, 1)
    dropped: list[bool] = []
    ib.disconnectedEvent += lambda: dropped.append(True)
    assert sim.call("drop_connections") == 1
    wait_disconnected(ib)
    assert dropped == [True]
    # The clientId is free again.
    again = clients.connect(lib, 1)
    assert again.isConnected()
    assert sim.call("counters")["clients"] == [1]


def test_refuse_connections_then_accept(clients: Clients, lib: str, sim: RunningSimulator) -> None:
    start = time.monotonic()
    sim.call("refuse_connections", seconds=0.5)
    with pytest.raises(ConnectionRefusedError):
        clients.connect(lib, 1, timeout=1)
    ib = clients.connect_retrying(lib, 1)
    assert time.monotonic() - start >= 0.45
    assert ib.isConnected()
    assert ib.managedAccounts() == ["DU1234567"]


def test_a_later_refusal_extends_the_first(
    clients: Clients, lib: str, sim: RunningSimulator
) -> None:
    start = time.monotonic()
    sim.call("refuse_connections", seconds=0.2)
    sim.call("refuse_connections", seconds=0.8)
    time.sleep(0.4)  # the first refusal is over, the second is not
    with pytest.raises(ConnectionRefusedError):
        clients.connect(lib, 1, timeout=1)
    ib = clients.connect_retrying(lib, 1)
    assert time.monotonic() - start >= 0.75
    assert ib.isConnected()
    sim.call("restart", downtime=0.1)  # the listener still reopens afterwards
    clients.connect_retrying(lib, 2)


def test_connectivity_errors_reach_clients(ib: Any, sim: RunningSimulator) -> None:
    errors = ErrorLog.attach(ib)
    sim.call("connectivity", code=1100)
    _, _, message = errors.wait_for(ib, 1100, -1)
    assert message == "Connectivity between IB and Trader Workstation has been lost."
    sim.call("connectivity", code=1102)
    _, _, message = errors.wait_for(ib, 1102, -1)
    assert "restored - data maintained" in message
    assert ib.isConnected()
    with pytest.raises(CommandError, match="1100, 1101 or 1102"):
        sim.call("connectivity", code=999)


def _timed_current_time(ib: Any) -> float:
    start = time.monotonic()
    assert isinstance(ib.reqCurrentTime(), dt.datetime)
    return time.monotonic() - start


def test_set_delay_slows_answers(ib: Any, sim: RunningSimulator) -> None:
    assert _timed_current_time(ib) < 0.1
    assert sim.call("set_delay", ms=100) == 100.0
    assert _timed_current_time(ib) >= 0.1
    sim.call("set_delay", ms=0)
    assert _timed_current_time(ib) < 0.1


def test_freeze_holds_answers_until_thawed(ib: Any, api: ModuleType, sim: RunningSimulator) -> None:
    assert sim.call("freeze", on=True) is True
    task = asyncio.ensure_future(ib.reqCurrentTimeAsync(), loop=api.util.getLoop())
    ib.sleep(0.3)
    assert not task.done()
    sim.call("freeze", on=False)
    wait_until(ib, task.done, what="the answer after the thaw")
    answer = task.result()
    assert isinstance(answer, dt.datetime)
    assert abs((dt.datetime.now(dt.UTC) - answer).total_seconds()) < 5


def test_reject_next_order(ib: Any, api: ModuleType, sim: RunningSimulator) -> None:
    errors = ErrorLog.attach(ib)
    sim.call("reject_next_order", reason="Insufficient margin (simulated)")
    rejected = ib.placeOrder(stock(api), api.MarketOrder("BUY", 10))
    _, _, message = errors.wait_for(ib, 201, rejected.order.orderId)
    assert message == "Order rejected - reason:Insufficient margin (simulated)"
    wait_until(
        ib,
        lambda: rejected.orderStatus.status in ("Inactive", "Cancelled"),
        what="the rejected order to end",
    )
    assert rejected.fills == []
    assert sim.call("orders") == []
    # Only the next order is rejected.
    accepted = ib.placeOrder(stock(api), api.MarketOrder("BUY", 10))
    wait_status(ib, accepted, "Filled")
    assert sim.call("counters")["orders_total"] == 2


def test_correct_execution(ib: Any, api: ModuleType, sim: RunningSimulator) -> None:
    seen: list[str] = []
    ib.execDetailsEvent += lambda trade, fill: seen.append(fill.execution.execId)
    trade = ib.placeOrder(stock(api), api.MarketOrder("BUY", 10))
    wait_status(ib, trade, "Filled")
    wait_until(ib, lambda: len(seen) == 1, what="the execution")
    original = seen[0]
    stem, _, suffix = original.rpartition(".")
    assert suffix == "01"
    corrected = sim.call("correct_execution", price=236.5)
    assert corrected == f"{stem}.02"
    wait_until(ib, lambda: len(seen) == 2, what="the corrected execution")
    assert seen[1] == corrected
    assert [f.execution.execId for f in trade.fills] == [original, corrected]
    assert trade.fills[0].execution.price == AAPL_ASK
    assert trade.fills[1].execution.price == 236.5
    assert trade.fills[1].execution.permId == trade.orderStatus.permId
    wait_until(ib, lambda: trade.fills[1].commissionReport.execId == corrected)
    # The corrected execution replaces the original in reqExecutions.
    assert [f.execution.execId for f in ib.reqExecutions()] == [corrected]


def test_counters_count_orders_and_refs(ib: Any, api: ModuleType, sim: RunningSimulator) -> None:
    before = sim.call("counters")
    assert before["orders_total"] == 0
    assert before["orders_by_ref"] == {}
    assert before["clients"] == [1]
    filled = ib.placeOrder(stock(api), api.MarketOrder("BUY", 1, orderRef="alpha"))
    resting = ib.placeOrder(stock(api), api.LimitOrder("BUY", 1, 200.0, orderRef="alpha"))
    other = ib.placeOrder(stock(api), api.LimitOrder("BUY", 1, 201.0, orderRef="beta"))
    plain = ib.placeOrder(stock(api), api.LimitOrder("BUY", 1, 202.0))
    wait_status(ib, filled, "Filled")
    for trade in (resting, other, plain):
        wait_status(ib, trade, "Submitted")
    resting.order.lmtPrice = 199.0  # a modification is not a new order
    ib.placeOrder(resting.contract, resting.order)
    wait_until(ib, lambda: sim.call("counters")["place_messages"] == 5, what="the modification")
    counters = sim.call("counters")
    assert counters["orders_total"] == 4
    assert counters["orders_by_ref"] == {"alpha": 2, "beta": 1, "": 1}
    assert counters["connections_total"] == 1
    assert counters["connections_open"] == 1
    assert counters["messages_in"] > counters["place_messages"]
    assert counters["pacing_errors"] == 0
    assert counters["peak_messages_per_second"]["1"] >= 1
