"""The worker's session state (trading.gateway.session) on ib_async's own
objects: an order that finishes leaves the working orders and is listed as
just finished, so a read between that moment and the journal's write still
finds it (GET /v2/orders/{id} answered 404 there once)."""

from __future__ import annotations

import datetime as dt

from ib_async import LimitOrder, MarketOrder, OrderStatus, Stock, Trade, TradeLogEntry

from trading.gateway import session as session_module
from trading.gateway.session import Session

MSFT = Stock("MSFT", "SMART", "USD", conId=272093)
PLACED = dt.datetime(2026, 12, 3, 15, 0, 0, tzinfo=dt.UTC)
FILLED = PLACED + dt.timedelta(milliseconds=40)


def trade(perm_id: int, status: str, *, filled: float = 0.0, avg: float = 0.0) -> Trade:
    order = MarketOrder("BUY", 3, orderId=perm_id, permId=perm_id, clientId=0, tif="DAY")
    log = [TradeLogEntry(PLACED, "PreSubmitted"), TradeLogEntry(FILLED, status)]
    order_status = OrderStatus(status=status, filled=filled, avgFillPrice=avg)
    return Trade(MSFT, order, order_status, [], log)


def test_a_filled_order_leaves_the_working_orders_and_is_listed_as_just_finished() -> None:
    session = Session(client_id=0)
    session.track(trade(7, "Submitted"))
    assert [row["permId"] for row in session.order_sections()["orders"]] == [7]

    session.track(trade(7, "Filled", filled=3, avg=415.12))

    sections = session.order_sections()
    assert sections["orders"] == []
    [finished] = sections["finished_orders"]
    assert (finished["perm_id"], finished["status"], finished["filled"]) == (7, "Filled", 3.0)
    assert finished["avg_fill_price"] == 415.12
    assert (finished["placed_at"], finished["finished_at"]) == (PLACED, FILLED)


def test_the_finished_list_is_published_when_it_changed_or_has_not_been_for_a_while() -> None:
    session = Session(client_id=0)
    session.track(trade(7, "Filled", filled=3, avg=415.12))
    assert "finished_orders" in session.order_sections()
    assert "finished_orders" not in session.order_sections()  # unchanged: not pickled again

    session.track(trade(7, "Filled", filled=3, avg=415.12))  # the same news again
    assert "finished_orders" not in session.order_sections()

    session._finished_published -= session_module.FINISHED_REPUBLISH_EVERY + 1
    assert "finished_orders" in session.order_sections()  # a restarted Redis gets it back


def test_a_pending_cancel_is_not_finished_and_the_list_is_capped_newest_first() -> None:
    session = Session(client_id=0)
    pending = Trade(
        MSFT,
        LimitOrder("BUY", 1, 200.0, orderId=1, permId=1, clientId=0),
        OrderStatus(status="PendingCancel"),
        [],
        [],
    )
    session.track(pending)
    assert session.finished_orders() == []

    for perm_id in range(1, session_module.MIRROR_FINISHED + 6):
        session.track(trade(perm_id, "Cancelled"))

    listed = [record["perm_id"] for record in session.finished_orders()]
    assert len(listed) == session_module.MIRROR_FINISHED
    assert listed[0] == session_module.MIRROR_FINISHED + 5
    assert 5 not in listed
    assert 6 in listed


def test_a_day_order_the_close_cancelled_is_listed_as_expired() -> None:
    session = Session(client_id=0)
    session.track(trade(8, "Submitted"))
    cancelled = trade(8, "Cancelled")
    session.track(cancelled)
    [finished] = session.order_sections()["finished_orders"]
    assert "expired" not in finished  # a cancel, until the worker finds the session over

    session.expire(cancelled)

    [finished] = session.order_sections()["finished_orders"]
    assert (finished["status"], finished["expired"]) == ("Cancelled", True)
