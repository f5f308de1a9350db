"""What matching a new order costs the book, counted rather than timed: a
new order does not make the resting ones meet the same quote again, and
finished orders leave the set that matching and the clock look at.  (A book
that re-priced every resting order on every placeOrder slowed the bench's
sustained run from 41 to 21 orders a second as 1,000 orders came to rest.)"""

from __future__ import annotations

from typing import Any

import pytest

from ibsim.book import Book
from ibsim.matching import Matching


def _spec(order_id: int, price: float, **extra: Any) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "symbol": "AAPL",
        "action": "BUY",
        "quantity": 1,
        "order_type": "LMT",
        "lmt_price": price,
        "tif": "GTC",
        **extra,
    }


@pytest.fixture
def book() -> Book:
    return Book()


def test_a_new_order_does_not_make_the_resting_orders_meet_the_same_quote_again(
    book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    for order_id in range(1, 51):
        book.place(1, _spec(order_id, 100.0))  # far below the ask: they rest
    met: list[int] = []
    original = Matching._executions

    def counted(self: Matching, order: Any, quote: Any) -> Any:
        met.append(order.order_id)
        return original(self, order, quote)

    monkeypatch.setattr(Matching, "_executions", counted)
    book.place(1, _spec(51, 100.0))
    assert met == [51]
    # A new quote: every resting order meets it, once.
    met.clear()
    book.quotes.set_quote("AAPL", bid=99.98, ask=100.0)
    book.match("AAPL")
    assert sorted(met) == list(range(1, 52))
    assert all(o.status == "Filled" for o in book.orders.values())


def test_a_resting_order_still_fills_when_the_quote_reaches_it_after_other_orders(
    book: Book,
) -> None:
    book.place(1, _spec(1, 236.0))
    book.place(1, _spec(2, 235.0))
    assert book.orders[(1, 1)].status == "Submitted"
    book.quotes.set_quote("AAPL", bid=235.98, ask=236.0)
    book.match("AAPL")
    assert book.orders[(1, 1)].status == "Filled"
    assert book.orders[(1, 1)].avg_fill_price == 236.0
    assert book.orders[(1, 2)].status == "Submitted"


def test_finished_orders_leave_the_live_set(book: Book) -> None:
    for order_id in range(1, 201):
        book.place(1, _spec(order_id, 100.0))
    for order_id in range(1, 200):
        book.cancel(1, order_id)
    book.place(1, {**_spec(201, 0.0), "order_type": "MKT", "lmt_price": None})
    assert [o.order_id for o in book.live_orders()] == [200]
    # Every order is still known: the completed ones are reported as before.
    assert len(book.completed_orders()) == 200
    assert book.orders[(1, 201)].status == "Filled"
