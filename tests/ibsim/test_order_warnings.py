"""IB's order warnings (error messages about an accepted order): 2109 for an
ignored outsideRth, 10349 for an empty TIF, and the ones ordered with
`warn_next_order`.  A warning never rejects or cancels the order."""

from __future__ import annotations

import datetime as dt
from types import ModuleType
from typing import Any

import pytest

from ibsim.control import CommandError
from ibsim.sessions import next_open
from ibsim.testing import RunningSimulator
from tests.ibsim.conftest import Clients
from tests.ibsim.support import ErrorLog, stock, wait_status, wait_until

OUTSIDE_RTH_IGNORED = (
    "Order Event Warning:Attribute 'Outside Regular Trading Hours' is ignored based on the "
    "order type and destination. PlaceOrder is now being processed."
)
TIF_FROM_PRESET = "Order TIF was set to DAY based on order preset."
DIRECT_ROUTED_NASDAQ = (
    "This order will be directly routed to NASDAQ. Direct routed orders may result in higher "
    "trade fees. Restriction is specified in Precautionary Settings of Global Configuration/API."
)


def _codes_for(errors: ErrorLog, order_id: int) -> list[int]:
    return [code for req_id, code, _ in errors.entries if req_id == order_id]


def _resting_limit(ib: Any, api: ModuleType, **fields: Any) -> Any:
    """A BUY LMT far below the market, with an explicit TIF unless given."""
    order = api.LimitOrder("BUY", 1, 200.0, **{"tif": "DAY", **fields})
    trade = ib.placeOrder(stock(api), order)
    wait_status(ib, trade, "Submitted")
    return trade


# --- 2109: outsideRth ignored --------------------------------------------------------


def test_market_order_outside_rth_draws_2109_and_still_fills(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    errors = ErrorLog.attach(ib)
    order = api.MarketOrder("BUY", 10, outsideRth=True, tif="DAY")
    trade = ib.placeOrder(stock(api), order)
    _, _, message = errors.wait_for(ib, 2109, trade.order.orderId)
    wait_status(ib, trade, "Filled")
    assert message == OUTSIDE_RTH_IGNORED
    assert _codes_for(errors, trade.order.orderId) == [2109]
    assert trade.orderStatus.filled == 10
    assert len(trade.fills) == 1
    [row] = sim.call("orders")
    assert row["status"] == "Filled"
    assert row["outside_rth"] is False  # ignored: dropped from the order


@pytest.mark.parametrize(
    ("order_type", "tif", "warned"),
    [
        ("MKT", "DAY", True),
        ("STP", "GTC", True),
        ("LMT", "IOC", True),
        ("LMT", "DAY", False),
        ("LMT", "GTC", False),
        ("STP LMT", "DAY", False),
    ],
)
def test_outside_rth_is_kept_only_on_limit_orders_for_the_day_or_gtc(
    ib: Any, api: ModuleType, sim: RunningSimulator, order_type: str, tif: str, warned: bool
) -> None:
    errors = ErrorLog.attach(ib)
    order = api.Order(
        action="BUY",
        totalQuantity=1,
        orderType=order_type,
        lmtPrice=241.0 if "LMT" in order_type else 0.0,
        auxPrice=240.0 if "STP" in order_type else 0.0,
        tif=tif,
        outsideRth=True,
    )
    trade = ib.placeOrder(stock(api), order)
    wait_until(
        ib,
        lambda: trade.orderStatus.status in ("PreSubmitted", "Submitted", "Filled"),
        what="the order to be accepted",
    )
    # A warning comes before the order's first status: none by now means none.
    assert _codes_for(errors, trade.order.orderId) == ([2109] if warned else [])
    [row] = sim.call("orders")
    assert row["outside_rth"] is not warned
    assert row["status"] != "Cancelled"


# --- 10349: empty TIF -----------------------------------------------------------------


def test_empty_tif_draws_10349_and_the_order_works_as_day(
    clients: Clients, lib: str, api: ModuleType, sim: RunningSimulator
) -> None:
    ib = clients.connect(lib, 1)
    errors = ErrorLog.attach(ib)
    trade = _resting_limit(ib, api, tif="")
    _, _, message = errors.wait_for(ib, 10349, trade.order.orderId)
    assert message == TIF_FROM_PRESET
    assert _codes_for(errors, trade.order.orderId) == [10349]
    assert trade.orderStatus.status == "Submitted"
    assert sim.call("orders")[0]["tif"] == "DAY"
    # The openOrder as another client reads it.
    [seen] = clients.connect(lib, 2).reqAllOpenOrders()
    assert seen.order.orderId == trade.order.orderId
    assert seen.order.tif == "DAY"
    # It works: it fills when the market comes to it.
    sim.call("set_price", symbol="AAPL", price=199.5)
    wait_status(ib, trade, "Filled")


def test_warnings_come_before_the_first_open_order(ib: Any, api: ModuleType) -> None:
    seen: list[tuple[str, int]] = []
    ib.errorEvent += lambda req_id, code, *rest: seen.append(("error", code))
    ib.openOrderEvent += lambda trade: seen.append(("openOrder", trade.order.orderId))
    trade = ib.placeOrder(stock(api), api.MarketOrder("BUY", 1, outsideRth=True))
    wait_status(ib, trade, "Filled")
    assert seen[:3] == [("error", 10349), ("error", 2109), ("openOrder", trade.order.orderId)]


def test_ib_async_logs_the_warnings_and_the_order_still_fills(clients: Clients) -> None:
    """ib_async 2.1.0 takes 10349 for an error and marks the trade Cancelled
    (ib_async #191): the order's first orderStatus, sent after the warning,
    sets the real state, as with a real gateway."""
    import ib_async

    ib = clients.connect("ib_async", 1)
    trade = ib.placeOrder(
        ib_async.Stock("AAPL", "SMART", "USD"), ib_async.MarketOrder("BUY", 1, outsideRth=True)
    )
    wait_status(ib, trade, "Filled")
    warned = [i for i, entry in enumerate(trade.log) if entry.errorCode]
    assert [trade.log[i].errorCode for i in warned] == [10349, 2109]
    first_status = next(i for i, e in enumerate(trade.log) if e.status in ("Submitted", "Filled"))
    assert max(warned) < first_status
    assert trade.log[-1].status == "Filled"
    assert trade.isDone()
    assert trade.orderStatus.filled == 1


def test_held_bracket_legs_draw_their_warnings_when_released(ib: Any, api: ModuleType) -> None:
    errors = ErrorLog.attach(ib)
    legs = ib.bracketOrder("BUY", 10, limitPrice=237.0, takeProfitPrice=240.0, stopLossPrice=230.0)
    parent, take_profit, stop_loss = (ib.placeOrder(stock(api), leg) for leg in legs)
    wait_status(ib, parent, "Filled")
    wait_status(ib, take_profit, "Submitted")
    wait_status(ib, stop_loss, "PreSubmitted")
    for trade in (parent, take_profit, stop_loss):
        assert _codes_for(errors, trade.order.orderId) == [10349]


# --- warn_next_order ----------------------------------------------------------------


def test_warn_next_order_warns_only_the_next_order(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    errors = ErrorLog.attach(ib)
    assert sim.call("warn_next_order", code=10311) == 10311
    first = _resting_limit(ib, api)
    second = _resting_limit(ib, api)
    _, _, message = errors.wait_for(ib, 10311, first.order.orderId)
    assert message == DIRECT_ROUTED_NASDAQ
    assert _codes_for(errors, first.order.orderId) == [10311]
    assert _codes_for(errors, second.order.orderId) == []
    # Not a rejection: both orders work.
    assert [o["status"] for o in sim.call("orders")] == ["Submitted", "Submitted"]
    assert sim.call("counters")["orders_total"] == 2


def test_warn_next_order_goes_to_the_client_that_places_next(
    clients: Clients, lib: str, api: ModuleType, sim: RunningSimulator
) -> None:
    master = clients.connect(lib, 0)
    placer = clients.connect(lib, 2)
    master_errors, placer_errors = ErrorLog.attach(master), ErrorLog.attach(placer)
    sim.call("warn_next_order", code=10311)
    trade = _resting_limit(placer, api)
    placer_errors.wait_for(placer, 10311, trade.order.orderId)
    # The master client sees the order, not the warning.
    wait_until(
        master,
        lambda: any(t.order.permId == trade.orderStatus.permId for t in master.openTrades()),
        what="the master client to see the order",
    )
    assert master_errors.find(10311) is None


def test_warn_next_order_399_names_the_order_and_the_next_open(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    errors = ErrorLog.attach(ib)
    sim.call("warn_next_order", code=399)
    trade = ib.placeOrder(stock(api), api.MarketOrder("BUY", 10, tif="DAY"))
    _, _, message = errors.wait_for(ib, 399, trade.order.orderId)
    wait_status(ib, trade, "Filled")
    head = "Order Message:\nBUY 10 AAPL NASDAQ.NMS\nWarning: your order will not be placed "
    head += "at the exchange until "
    assert message.startswith(head)
    assert message.endswith(" US/Eastern")
    opening = dt.datetime.strptime(message[len(head) : -len(" US/Eastern")], "%Y-%m-%d %H:%M:%S")
    assert opening.time() == dt.time(9, 30)
    assert opening.weekday() < 5


@pytest.mark.parametrize("code", [2100, 2150, 2199])
def test_warn_next_order_accepts_any_code_of_the_2100_block(
    ib: Any, api: ModuleType, sim: RunningSimulator, code: int
) -> None:
    errors = ErrorLog.attach(ib)
    sim.call("warn_next_order", code=code)
    trade = _resting_limit(ib, api)
    _, _, message = errors.wait_for(ib, code, trade.order.orderId)
    assert message == (
        f"Order Event Warning:Simulated warning {code}. PlaceOrder is now being processed."
    )
    assert trade.orderStatus.status == "Submitted"


@pytest.mark.parametrize("code", [201, 2099, 2200, 10350, "soon"])
def test_warn_next_order_refuses_unknown_codes(sim: RunningSimulator, code: Any) -> None:
    with pytest.raises(CommandError) as refused:
        sim.call("warn_next_order", code=code)
    assert str(refused.value) == (
        f"unknown warning code {code!r}: use 399, 10311, 10349 or 2100-2199 (2109 included)"
    )


def test_a_refused_code_leaves_the_pending_warning(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    errors = ErrorLog.attach(ib)
    sim.call("warn_next_order", code=10311)
    with pytest.raises(CommandError):
        sim.call("warn_next_order", code=999)
    trade = _resting_limit(ib, api)
    assert _codes_for(errors, trade.order.orderId) == [10311]


def test_reset_clears_a_pending_warning(ib: Any, api: ModuleType, sim: RunningSimulator) -> None:
    errors = ErrorLog.attach(ib)
    sim.call("warn_next_order", code=10311)
    sim.call("reset")
    trade = _resting_limit(ib, api)
    assert _codes_for(errors, trade.order.orderId) == []


def test_a_rejected_order_does_not_use_up_the_warning(
    ib: Any, api: ModuleType, sim: RunningSimulator
) -> None:
    errors = ErrorLog.attach(ib)
    sim.call("warn_next_order", code=10311)
    sim.call("reject_next_order", reason="Simulated")
    rejected = ib.placeOrder(stock(api), api.LimitOrder("BUY", 1, 200.0, tif="DAY"))
    errors.wait_for(ib, 201, rejected.order.orderId)
    accepted = _resting_limit(ib, api)
    assert _codes_for(errors, rejected.order.orderId) == [201]
    assert _codes_for(errors, accepted.order.orderId) == [10311]


# --- the wording, alone -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-12-02 21:46", "2026-12-03 09:30"),  # Wednesday evening: Thursday
        ("2026-12-03 08:00", "2026-12-03 09:30"),  # before the open: the same day
        ("2026-12-03 09:30", "2026-12-04 09:30"),  # at the open: the next day
        ("2026-12-04 17:00", "2026-12-07 09:30"),  # Friday evening: Monday
        ("2026-12-05 12:00", "2026-12-07 09:30"),  # Saturday: Monday
    ],
)
def test_next_open_is_a_weekday_at_half_past_nine_eastern(now: str, expected: str) -> None:
    eastern = dt.timezone(dt.timedelta(hours=-5))  # EST in December
    when = dt.datetime.strptime(now, "%Y-%m-%d %H:%M").replace(tzinfo=eastern)
    assert next_open(when).strftime("%Y-%m-%d %H:%M") == expected
