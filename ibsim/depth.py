"""The depth behind the touch, and how an order walks it.  Pure functions,
no state: the quote board holds each symbol's size per level, the matching
decides who walks.

Each side of a symbol's book is a ladder of price levels one tick apart,
starting at the touch: the asks at ask, ask + 1 tick, ask + 2 ticks ...; the
bids at bid, bid - 1 tick ...  Each level holds the symbol's liquidity
(`set_liquidity`); the touch holds the size the quote shows (which
`set_liquidity` sets to the same number, and `set_quote` may set apart).
Without `set_liquidity` every level holds DEFAULT_SHARES, whatever the quote
displays: the displayed sizes are then only a display, and an order of any
size the account can pay for fills at the touch, as it did before depth
existed.

Our fills are a paper account's: they take from the book but do not deplete
it (the market does not see them).  A working order meets each quote once:
what it could not get waits for the quote to change.
"""

from __future__ import annotations

from dataclasses import dataclass

from ibsim.quotes import Quote

DEFAULT_SHARES = 100_000  # a level's size unless set_liquidity says otherwise
MAX_LEVELS = 10  # how far one order walks one quote (IB's deep book shows ten rows a side)


@dataclass(frozen=True)
class Level:
    price: float
    shares: int


def ladder(quote: Quote, buy: bool, per_level: int | None) -> list[Level]:
    """The side a BUY (the asks) or a SELL (the bids) takes, best first."""
    if per_level is None:
        touch_size = rest = DEFAULT_SHARES
    else:
        touch_size = quote.ask_size if buy else quote.bid_size
        rest = per_level
    price = quote.ask if buy else quote.bid
    levels = [Level(price, touch_size)]
    while len(levels) < MAX_LEVELS:
        price = _next_price(price, buy)
        if price <= 0:
            break
        levels.append(Level(price, rest))
    return levels


def _next_price(price: float, up: bool) -> float:
    """One tick further from the touch (a cent; a hundredth of a cent under USD 1)."""
    if up:
        return round(price + (0.01 if price >= 1.0 else 0.0001), 4)
    return round(price - (0.01 if price - 0.01 >= 1.0 else 0.0001), 4)


def within(price: float, limit: float | None, buy: bool) -> bool:
    """Whether `price` is at or better than the limit (no limit: any price)."""
    if limit is None:
        return True
    return price <= limit + 1e-9 if buy else price >= limit - 1e-9


def sweep(
    levels: list[Level], quantity: float, limit: float | None, buy: bool
) -> list[tuple[float, float]]:
    """The executions (price, shares) of `quantity` walking `levels` from the
    touch, one per level, stopping at the limit (None: a market order)."""
    fills: list[tuple[float, float]] = []
    left = quantity
    for level in levels:
        if left <= 0 or not within(level.price, limit, buy):
            break
        shares = min(left, level.shares)
        fills.append((level.price, shares))
        left -= shares
    return fills


def available(levels: list[Level], limit: float | None, buy: bool) -> float:
    """The shares at or better than the limit."""
    return sum(level.shares for level in levels if within(level.price, limit, buy))


def estimate(levels: list[Level], quantity: float, buy: bool) -> list[tuple[float, float]]:
    """What `quantity` would pay walking the book as a market order now (the
    margin check and what-if price an order at the market, as IB does); what
    the levels shown cannot fill is priced at the last of them."""
    fills = sweep(levels, quantity, None, buy)
    left = quantity - sum(shares for _, shares in fills)
    if left > 0:
        fills.append((levels[-1].price, left))
    return fills
