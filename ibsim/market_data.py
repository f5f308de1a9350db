"""Market data over the socket, as a paper gateway serves it: reqMarketDataType,
reqMktData (streaming, snapshot, regulatory snapshot) and cancelMktData.

Every request is answered with tickReqParams, then marketDataType with the
type of data actually served (TWS sends 1 after each request since v970 when
live data is permitted), then the ticks: bid and ask (tickPrice with its size,
then tickSize), last (tickPrice, tickSize, tickString 45 = its time), volume,
high, low, the previous close and the open.  A stream then sends what
changes; a snapshot ends with tickSnapshotEnd.

The account has live data permissions unless told otherwise (`live`).  With
them, every market data type gets live data (IB ignores delayed when live is
available).  Without them, type 3 or 4 gets delayed data — warning 10167,
marketDataType 3, the delayed tick types (66-76, 88) and the quote as it was
`QuoteBoard.delay` seconds ago — and type 1 or 2 is refused with 10089.  A
regulatory snapshot is live in any case (IB sells it per request).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ibsim import protocol as p
from ibsim.book import Book
from ibsim.quotes import Quote
from ibsim.universe import listing

LIVE, FROZEN, DELAYED, DELAYED_FROZEN = 1, 2, 3, 4

# The delayed counterpart of each live tick type.
DELAYED_TICK = {
    1: 66,
    2: 67,
    4: 68,
    0: 69,
    3: 70,
    5: 71,
    6: 72,
    7: 73,
    8: 74,
    9: 75,
    14: 76,
    45: 88,
}

CAN_AUTO_EXECUTE = 1  # tickPrice attribute bit 0, set on live bids and asks
BBO_EXCHANGE = "9c0001"  # what TWS reports for SMART-routed US stocks
SNAPSHOT_PERMISSIONS = 3

NOT_SUBSCRIBED = 10089
DISPLAYING_DELAYED = 10167
NO_TICKER = 300
VALIDATION = 321


class Peer(Protocol):
    """What the feed needs of a connection."""

    version: int
    market_data_type: int
    tickers: dict[int, Ticker]

    def send(self, fields: list[Any]) -> None: ...

    def error(self, req_id: int, code: int, message: str) -> None: ...


@dataclass
class Ticker:
    """One streaming subscription and what it has been sent."""

    req_id: int
    symbol: str
    delayed: bool
    sent: dict[str, tuple[Any, ...]] = field(default_factory=dict)


class Feed:
    def __init__(self, book: Book, peers: Callable[[], Iterable[Peer]]) -> None:
        self.book = book
        self.peers = peers
        self.live = True  # the account's live market data permissions

    # --- requests ---------------------------------------------------------

    def on_req_market_data_type(self, conn: Peer, msg: p.FieldReader) -> None:
        msg.skip()
        data_type = msg.int()
        if data_type in (LIVE, FROZEN, DELAYED, DELAYED_FROZEN):
            conn.market_data_type = data_type  # answered with each reqMktData

    def on_req_mkt_data(self, conn: Peer, msg: p.FieldReader) -> None:
        msg.skip()  # version 11
        req_id = msg.int()
        con_id = msg.int()
        symbol = msg.str()
        sec_type = msg.str()
        msg.skip(4)  # lastTradeDate, strike, right, multiplier
        exchange = msg.str()
        primary = msg.str()
        currency = msg.str()
        msg.skip(2)  # localSymbol, tradingClass
        contract = self.book.resolve_contract(con_id, symbol, sec_type, exchange, primary, currency)
        if contract is None:  # combos (BAG) included: no definition in this universe
            conn.error(req_id, 200, p.NO_SECURITY_DEFINITION)
            return
        if msg.bool():
            msg.skip(3)  # deltaNeutralContract: conId, delta, price
        generic_ticks = msg.str()
        snapshot = msg.bool()
        regulatory = msg.bool()
        if (snapshot or regulatory) and generic_ticks.strip():
            conn.error(
                req_id,
                VALIDATION,
                "Error validating request.-'bW' : cause - Snapshot market data subscription "
                "is not applicable to generic ticks",
            )
            return
        live = self.live or regulatory
        if not live and conn.market_data_type not in (DELAYED, DELAYED_FROZEN):
            conn.error(
                req_id,
                NOT_SUBSCRIBED,
                "Requested market data requires additional subscription for API. See link in "
                "'Market Data Connections' dialog for more details.Delayed market data is "
                f"available.{contract.symbol} {listing(contract.primary_exchange)}/TOP/ALL",
            )
            return
        conn.send(p.tick_req_params(req_id, contract.min_tick, BBO_EXCHANGE, SNAPSHOT_PERMISSIONS))
        if not live:
            conn.error(
                req_id,
                DISPLAYING_DELAYED,
                "Requested market data is not subscribed. Displaying delayed market data.",
            )
        conn.send(p.market_data_type(req_id, LIVE if live else DELAYED))
        ticker = Ticker(req_id, contract.symbol, delayed=not live)
        self._send_changes(conn, ticker)
        if snapshot or regulatory:
            conn.send(p.tick_snapshot_end(req_id))
        else:
            conn.tickers[req_id] = ticker

    def on_cancel_mkt_data(self, conn: Peer, msg: p.FieldReader) -> None:
        msg.skip()
        req_id = msg.int()
        if conn.tickers.pop(req_id, None) is None:
            # A finished snapshot, a cancelled or unknown subscription.
            conn.error(req_id, NO_TICKER, f"Can't find EId with tickerId:{req_id}")

    # --- streaming --------------------------------------------------------

    def publish(self, symbols: Iterable[str]) -> None:
        """Quotes of `symbols` moved: stream what changed (delayed streams
        follow their own clock, so they are looked at every time)."""
        moved = set(symbols)
        for conn in self.peers():
            for ticker in list(conn.tickers.values()):
                if ticker.delayed or ticker.symbol in moved:
                    self._send_changes(conn, ticker)

    def lines(self) -> int:
        """Streaming subscriptions open (IB's market data lines in use)."""
        return sum(len(conn.tickers) for conn in self.peers())

    def _send_changes(self, conn: Peer, ticker: Ticker) -> None:
        book = self.book.quotes
        quote = book.delayed(ticker.symbol) if ticker.delayed else book[ticker.symbol]
        for key, value, messages in _groups(ticker.req_id, quote, ticker.delayed):
            before = ticker.sent.get(key)
            if before == value:
                continue
            for fields in messages(before):
                conn.send(fields)
            ticker.sent[key] = value


def _groups(req_id: int, q: Quote, delayed: bool) -> list[tuple[str, tuple[Any, ...], Any]]:
    """The ticks of a quote, grouped as they change together: (key, value,
    messages(value sent before))."""

    def kind(tick_type: int) -> int:
        return DELAYED_TICK[tick_type] if delayed else tick_type

    side_attribs = 0 if delayed else CAN_AUTO_EXECUTE

    def side(price_type: int, size_type: int, price: float, size: int) -> Any:
        def messages(before: tuple[Any, ...] | None) -> list[list[Any]]:
            if before is not None and before[0] == price:
                return [p.tick_size(req_id, kind(size_type), size)]  # the size alone moved
            return [
                p.tick_price(req_id, kind(price_type), price, size, side_attribs),
                p.tick_size(req_id, kind(size_type), size),
            ]

        return messages

    def trade(before: tuple[Any, ...] | None) -> list[list[Any]]:
        return [
            p.tick_price(req_id, kind(4), q.last, q.last_size, 0),
            p.tick_size(req_id, kind(5), q.last_size),
            p.tick_string(req_id, kind(45), str(q.last_time)),
        ]

    def price_only(tick_type: int, price: float) -> Any:
        return lambda before: [p.tick_price(req_id, kind(tick_type), price, 0, 0)]

    return [
        ("bid", (q.bid, q.bid_size), side(1, 0, q.bid, q.bid_size)),
        ("ask", (q.ask, q.ask_size), side(2, 3, q.ask, q.ask_size)),
        ("last", (q.last, q.last_size, q.last_time, q.volume), trade),
        ("volume", (q.volume,), lambda before: [p.tick_size(req_id, kind(8), q.volume)]),
        ("high", (q.high,), price_only(6, q.high)),
        ("low", (q.low,), price_only(7, q.low)),
        ("close", (q.close,), price_only(9, q.close)),
        ("open", (q.open,), price_only(14, q.open)),
    ]
