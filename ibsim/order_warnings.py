"""IB's order warnings: error messages (id 4, reqId = the order id) that a real
gateway sends about an order it accepts.  The order is not rejected: it goes on
to PreSubmitted/Submitted and can fill.  Pure: codes, IB's wording, and the
rules that decide which warnings a new order draws.

Clients do not agree on which codes are warnings: ib_async 2.1.0 and ib_insync
0.9.86 treat 399 and 2100-2199 as warnings but 10311 and 10349 as errors, and
mark the trade Cancelled until the order's next orderStatus (ib_async issues
#191 and #217).  That is what a real gateway does to them too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ibsim import sessions
from ibsim.universe import listing

ORDER_MESSAGE = 399  # "Order Message:" + a text about the order (here: held until its session)
OUTSIDE_RTH_IGNORED = 2109  # outsideRth set on an order type/TIF that has no outside-RTH session
DIRECT_ROUTED = 10311  # the order goes straight to one exchange (Precautionary Settings)
TIF_FROM_PRESET = 10349  # no TIF on the order: the preset's DAY was used
GENERIC = range(2100, 2200)  # IB's "warning" block; codes without a text here get a generic one

TEXTS = {
    OUTSIDE_RTH_IGNORED: (
        "Order Event Warning:Attribute 'Outside Regular Trading Hours' is ignored based on "
        "the order type and destination. PlaceOrder is now being processed."
    ),
    TIF_FROM_PRESET: "Order TIF was set to DAY based on order preset.",
    DIRECT_ROUTED: (
        "This order will be directly routed to {destination}. Direct routed orders may result "
        "in higher trade fees. Restriction is specified in Precautionary Settings of Global "
        "Configuration/API."
    ),
    ORDER_MESSAGE: (
        "Order Message:\n{action} {quantity} {symbol} {listing}\n"
        "Warning: your order will not be placed at the exchange until {open_time} US/Eastern"
    ),
}

# On a US stock, IB keeps outsideRth only on limit-priced orders (LMT, STP LMT)
# with a DAY or GTC time in force; market-like types (MKT, STP) always work in
# regular hours.  Rule as captured on paper orders for AAPL by the ibx project;
# the other market-like types (TRAIL, MIT) and the closing auction's (MOC,
# LOC) follow it by analogy, not from a capture.
REGULAR_HOURS_ONLY_TYPES = ("MKT", "STP", "TRAIL", "MIT", "MOC", "LOC")
OUTSIDE_RTH_TIFS = ("DAY", "GTC")


@dataclass(frozen=True)
class OrderFacts:
    """What the wording of a warning mentions about its order."""

    action: str
    quantity: float
    symbol: str
    exchange: str  # as sent on the order ("SMART", "" or a direct exchange)
    primary_exchange: str


def check_code(code: object) -> int:
    """The code as an int when the simulator can send it as an order warning,
    else ValueError with what it supports."""
    try:
        number = int(str(code))
    except ValueError:
        number = None
    if number is None or not (number in TEXTS or number in GENERIC):
        raise ValueError(
            f"unknown warning code {code!r}: use 399, 10311, 10349 or 2100-2199 (2109 included)"
        )
    return number


def automatic(order_type: str, tif: str, outside_rth: bool) -> list[int]:
    """The warnings a real gateway sends on its own for a new order, in order.
    `tif` as the order arrived (empty when the client left it unset)."""
    codes = []
    if not tif:
        codes.append(TIF_FROM_PRESET)
    if outside_rth and (
        order_type in REGULAR_HOURS_ONLY_TYPES or (tif or "DAY") not in OUTSIDE_RTH_TIFS
    ):
        codes.append(OUTSIDE_RTH_IGNORED)
    return codes


def text(
    code: int, order: OrderFacts, now: dt.datetime | None = None, until: dt.datetime | None = None
) -> str:
    """IB's wording of `code` for this order.  399 names `until`, when the
    order will be placed (by default the next regular open after `now`)."""
    if code not in TEXTS:
        check_code(code)
        return f"Order Event Warning:Simulated warning {code}. PlaceOrder is now being processed."
    direct = order.exchange not in ("", "SMART")
    placed = until or sessions.next_open(now or dt.datetime.now(dt.UTC))
    return TEXTS[code].format(
        destination=order.exchange if direct else order.primary_exchange,
        action=order.action,
        quantity=f"{order.quantity:g}",
        symbol=order.symbol,
        listing=listing(order.primary_exchange),
        open_time=placed.astimezone(sessions.EASTERN).strftime("%Y-%m-%d %H:%M:%S"),
    )
