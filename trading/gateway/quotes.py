"""Quotes: the price a market order is checked at against MAX_ORDER_NOTIONAL.

The worker streams IB's quotes (reqMktData) for each symbol it has been asked to
trade at market and keeps the newest: a buy is checked at the ask, a sell at
the bid, else at the last or the close price, else at the portfolio's market
price. A stream, not a snapshot per order: a snapshot can take IB up to 11 s
to end, and the newest tick is what the next order would meet anyway.

Market data type 3 (delayed) is asked for on connect: IB sends live quotes
where the account subscribes to them and 15-minute delayed ones where not, so
an account without a subscription still gets a price (IB_MARKET_DATA_TYPE)."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict

from django.conf import settings
from ib_async import IB, Contract, Ticker

from trading.gateway import mapping

# Streams kept at once (IB's default allowance is 100 lines, shared with
# whatever else the account runs); the least recently used one is cancelled.
MAX_STREAMS = 40
POLL = 0.02


def price_for(ticker: Ticker, action: str) -> float | None:
    """What ``action`` at market would pay by ``ticker``: the touch on the
    other side, else the last, else the close price; None if none is known."""
    touch = ticker.ask if action == "BUY" else ticker.bid
    for candidate in (touch, ticker.last, ticker.close):
        value = mapping.known(candidate)
        if value is not None and value > 0:
            return value
    return None


class Quotes:
    def __init__(self, ib: IB) -> None:
        self.ib = ib
        self.streams: OrderedDict[int, tuple[Contract, Ticker]] = OrderedDict()  # by conId

    def on_connected(self) -> None:
        """A new session: ask for the configured data type, and forget streams
        (the gateway dropped them with the old session)."""
        self.streams.clear()
        self.ib.reqMarketDataType(settings.IB_MARKET_DATA_TYPE)

    def forget(self) -> None:
        self.streams.clear()

    def _stream(self, contract: Contract) -> Ticker:
        known = self.streams.get(contract.conId)
        if known is not None:
            self.streams.move_to_end(contract.conId)
            return known[1]
        ticker = self.ib.reqMktData(contract)
        self.streams[contract.conId] = (contract, ticker)
        while len(self.streams) > MAX_STREAMS:
            _, (oldest, _) = self.streams.popitem(last=False)
            self.ib.cancelMktData(oldest)
        return ticker

    async def reference_price(
        self, contract: Contract, action: str, *, account: str, deadline: float
    ) -> float | None:
        """The quote's price for ``action``, waiting up to QUOTE_WAIT seconds
        (and never past ``deadline``) for a first tick of a new stream."""
        ticker = self._stream(contract)
        until = min(time.time() + settings.QUOTE_WAIT, deadline - 0.25)
        price = price_for(ticker, action)
        while price is None and time.time() < until:
            await asyncio.sleep(POLL)
            price = price_for(ticker, action)
        if price is not None:
            return price
        for item in self.ib.portfolio(account):
            value = mapping.known(item.marketPrice)
            if item.contract.conId == contract.conId and value is not None and value > 0:
                return value
        return None
