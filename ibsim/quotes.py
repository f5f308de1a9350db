"""The top of the book of each symbol: bid, ask, last, the day's open, high,
low and volume, the previous close, the sizes, and the delayed view of them.
Pure state, no sockets: the book moves it, the market data feed reads it.

The spread follows the price level: about one basis point, never less than
one tick (USD 0.01; USD 0.0001 under USD 1, Reg NMS's sub-penny rule) — one
cent per USD 100 of price, rounded: INTC at 22.35 quotes 22.35 x 22.36, AAPL
at 236.42 quotes 236.41 x 236.43, MSFT at 415.10 quotes 415.08 x 415.12.
A trade at `last` puts the quote around it: the bid `spread // 2` ticks below
it, the ask one spread above the bid.  Sizes are in shares (mdSizeMultiplier
1), round lots drawn from a seeded generator per symbol, so a run is
reproducible.  With `set_liquidity` both sizes show the size per level of
the symbol's depth (ibsim.depth) instead.
"""

from __future__ import annotations

import math
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace

DELAY_SECONDS = 900.0  # IB's delayed data for US stocks: 15 minutes behind
LOT = 100
TAPE_LIMIT = 200_000  # trades kept per symbol (a day and more of one-second steps)


def tick_size(price: float) -> float:
    return 0.01 if price >= 1.0 else 0.0001


def on_tick(price: float) -> float:
    """The price rounded to its tick."""
    tick = tick_size(price)
    return round(round(price / tick) * tick, 4)


def spread_ticks(price: float) -> int:
    """One tick per USD 100 of price, rounded, at least one."""
    return max(1, int(price / 100 + 0.5))


def touch_around(last: float) -> tuple[float, float]:
    """The bid and ask the rule puts around a trade at `last`."""
    tick = tick_size(last)
    bid = round(last - (spread_ticks(last) // 2) * tick, 4)
    return bid, round(bid + spread_ticks(last) * tick, 4)


@dataclass(frozen=True)
class Quote:
    bid: float
    ask: float
    last: float
    bid_size: int
    ask_size: int
    last_size: int
    volume: int  # shares traded today
    close: float  # the previous day's close
    open: float
    high: float
    low: float
    last_time: int  # the last trade, epoch seconds


class QuoteBoard:
    """Every symbol's quote and its recent history (for delayed data)."""

    def __init__(
        self,
        start_prices: dict[str, float],
        seed: int = 7,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.seed = seed
        self.clock = clock
        self.wall = wall
        self.delay = DELAY_SECONDS
        self.quotes: dict[str, Quote] = {}
        self.history: dict[str, deque[tuple[float, Quote]]] = {}
        self.rngs: dict[str, random.Random] = {}
        # Shares per price level (ibsim.depth) of the symbols set_liquidity set.
        self.liquidity: dict[str, int] = {}
        # Bumped on every change of a symbol's quote: a working order meets
        # each version once (ibsim.matching).
        self.versions: dict[str, int] = {}
        # Every trade printed since the last reset, per symbol: (epoch seconds
        # on the simulated clock, price, size); historical bars read it.
        self.tape: dict[str, list[tuple[float, float, int]]] = {}
        self.tape_origin = 0.0  # when the tape starts (the last reset or clock jump)
        self.tape_anchor: dict[str, float] = {}  # each symbol's last price then
        self.reset(start_prices)

    def reset(self, start_prices: dict[str, float]) -> None:
        """A fresh day at the start prices: open = previous close = start,
        the default liquidity."""
        self.liquidity.clear()
        for symbol, price in start_prices.items():
            # A string seed hashes the same in every process (not PYTHONHASHSEED).
            rng = self.rngs[symbol] = random.Random(f"{self.seed}:{symbol}:quotes")
            last = on_tick(price)
            bid, ask = touch_around(last)
            quote = Quote(
                bid=bid,
                ask=ask,
                last=last,
                bid_size=self._lot(rng),
                ask_size=self._lot(rng),
                last_size=LOT,
                volume=LOT * rng.randint(5_000, 50_000),
                close=last,
                open=last,
                high=last,
                low=last,
                last_time=int(self.wall()),
            )
            self.quotes[symbol] = quote
            self.history[symbol] = deque([(self.clock(), quote)])
            self.versions[symbol] = self.versions.get(symbol, 0) + 1
        self.restart_tape()

    def restart_tape(self) -> None:
        """The tape starts afresh at the clock's now (a reset, a clock jump):
        historical bars lead up to the prices of this moment (ibsim.bars)."""
        self.tape_origin = self.wall()
        for symbol, quote in self.quotes.items():
            self.tape[symbol] = []
            self.tape_anchor[symbol] = quote.last

    @staticmethod
    def _lot(rng: random.Random) -> int:
        return LOT * rng.randint(1, 12)

    def __getitem__(self, symbol: str) -> Quote:
        return self.quotes[symbol]

    def trade(self, symbol: str, price: float) -> Quote:
        """A trade prints at `price`: last, size, volume, high/low move and
        the quote is put around it by the spread rule."""
        old = self.quotes[symbol]
        rng = self.rngs[symbol]
        last = on_tick(_positive(price, "price"))
        bid, ask = touch_around(last)
        size = LOT * rng.randint(1, 5)
        # Drawn even when set_liquidity fixes the sizes: the run stays reproducible.
        bid_size, ask_size = self._lot(rng), self._lot(rng)
        if symbol in self.liquidity:
            bid_size = ask_size = self.liquidity[symbol]
        quoted = replace(old, bid=bid, ask=ask, bid_size=bid_size, ask_size=ask_size)
        return self._record(symbol, self._printed(symbol, quoted, last, size))

    def set_liquidity(self, symbol: str, shares: int | None) -> Quote:
        """Every price level of the symbol holds `shares` (None: the default
        depth, ibsim.depth); the quote shows that size on both sides."""
        old = self.quotes[symbol]
        if shares is None:
            self.liquidity.pop(symbol, None)
            rng = self.rngs[symbol]
            return self._record(
                symbol, replace(old, bid_size=self._lot(rng), ask_size=self._lot(rng))
            )
        if int(shares) != shares or shares <= 0:
            raise ValueError("shares must be a positive whole number")
        self.liquidity[symbol] = int(shares)
        return self._record(symbol, replace(old, bid_size=int(shares), ask_size=int(shares)))

    def set_quote(
        self,
        symbol: str,
        bid: float,
        ask: float,
        last: float | None = None,
        bid_size: int | None = None,
        ask_size: int | None = None,
    ) -> Quote:
        """An explicit quote (a wide spread, a thin side); with `last`, a trade
        prints there too.  The next trade puts the rule's spread back."""
        old = self.quotes[symbol]
        bid = on_tick(_positive(bid, "bid"))
        ask = on_tick(_positive(ask, "ask"))
        if ask <= bid:
            raise ValueError("the ask must be above the bid (no locked or crossed quotes)")
        sizes = {"bid_size": bid_size, "ask_size": ask_size}
        for name, value in sizes.items():
            if value is not None and (int(value) != value or value <= 0):
                raise ValueError(f"{name} must be a positive whole number of shares")
        new = replace(
            old,
            bid=bid,
            ask=ask,
            bid_size=int(bid_size or old.bid_size),
            ask_size=int(ask_size or old.ask_size),
        )
        if last is not None:
            new = self._printed(symbol, new, on_tick(_positive(last, "last")), LOT)
        return self._record(symbol, new)

    def _printed(self, symbol: str, quote: Quote, last: float, size: int) -> Quote:
        """`quote` after a trade of `size` shares at `last` (on the tape)."""
        tape = self.tape[symbol]
        tape.append((self.wall(), last, size))
        if len(tape) > TAPE_LIMIT:
            del tape[: len(tape) - TAPE_LIMIT]
        return replace(
            quote,
            last=last,
            last_size=size,
            volume=quote.volume + size,
            high=max(quote.high, last),
            low=min(quote.low, last),
            last_time=int(self.wall()),
        )

    def _record(self, symbol: str, quote: Quote) -> Quote:
        self.quotes[symbol] = quote
        self.versions[symbol] += 1
        history = self.history[symbol]
        now = self.clock()
        history.append((now, quote))
        # Keep one entry at least `delay` old (the delayed view) and the newer ones.
        while len(history) > 1 and history[1][0] <= now - self.delay:
            history.popleft()
        return quote

    def delayed(self, symbol: str) -> Quote:
        """The quote as it was `delay` seconds ago (the oldest one known when
        the simulator has not run that long)."""
        cutoff = self.clock() - self.delay
        history = self.history[symbol]
        seen = history[0][1]
        for when, quote in history:
            if when > cutoff:
                break
            seen = quote
        return seen


def _positive(value: float, name: str) -> float:
    number = float(value)
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be a positive number")
    return number
