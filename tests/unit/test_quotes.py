"""The price a market order is checked at (trading.gateway.quotes.price_for)."""

from __future__ import annotations

import math

import pytest
from ib_async import Ticker

from trading.gateway.quotes import price_for

NAN = math.nan


def quote(**prices: float) -> Ticker:
    """A ticker as ib_async fills it (its constructor resets every price)."""
    ticker = Ticker()
    for name, value in prices.items():
        setattr(ticker, name, value)
    return ticker


@pytest.mark.parametrize(
    ("ticker", "action", "price"),
    [
        (quote(bid=99.5, ask=100.5, last=100.0, close=98.0), "BUY", 100.5),
        (quote(bid=99.5, ask=100.5, last=100.0, close=98.0), "SELL", 99.5),
        # No touch on that side: the last trade, then the previous close.
        (quote(bid=99.5, ask=NAN, last=100.0, close=98.0), "BUY", 100.0),
        (quote(bid=NAN, ask=NAN, last=NAN, close=98.0), "SELL", 98.0),
        # IB's "no price" markers: -1 (a side with no quote) and 0 count as unknown.
        (quote(bid=-1.0, ask=-1.0, last=0.0, close=97.0), "BUY", 97.0),
        (quote(), "BUY", None),
    ],
)
def test_a_market_order_is_priced_at_the_touch_then_last_then_close(
    ticker: Ticker, action: str, price: float | None
) -> None:
    assert price_for(ticker, action) == price
