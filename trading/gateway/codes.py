"""IB's error codes, grouped by what the service does with them (as
nautilus_trader's ``client/error.py`` does), and the one function that
decides.  IB sends warnings through the same error message as rejections:
the tables, not the message text, tell them apart, and a warning never
cancels an order.  Pure: unit-tested alone."""

from __future__ import annotations

from enum import StrEnum


class Meaning(StrEnum):
    INFO = "info"  # status chatter: ignored
    CONNECTIVITY_LOST = "connectivity_lost"
    CONNECTIVITY_RESTORED = "connectivity_restored"
    WARNING = "warning"  # the order stands: recorded on it, never cancels it
    CANCEL_REFUSED = "cancel_refused"  # a cancel that could not be done
    CANCELLED = "cancelled"  # a cancel's confirmation, not a failure
    REJECTION = "rejection"  # the order (or request) failed


INFORMATIONAL = frozenset(
    {
        2104,  # market data farm connection is OK
        2106,  # HMDS data farm connection is OK
        2107,  # HMDS data farm connection is inactive but should be available upon demand
        2108,  # market data farm connection is inactive
        2119,  # market data farm is connecting
        2158,  # sec-def data farm connection is OK
    }
)
CONNECTIVITY_LOST = frozenset(
    {
        1100,  # connectivity between IB and the gateway has been lost
        2110,  # connectivity between the gateway and the server is broken
    }
)
CONNECTIVITY_RESTORED = frozenset(
    {
        1101,  # restored, data lost: subscriptions must be renewed
        1102,  # restored, data maintained
    }
)
WARNINGS = frozenset(
    {
        399,  # "Order Message: ... Warning: your order will not be placed until ..."
        2109,  # outside-RTH attribute ignored for this order type and destination
        10311,  # directly routed order: higher fees (precautionary setting)
        10349,  # TIF set by the order preset
        10167,  # delayed market data shown (orders are still accepted)
        10197,  # no market data during a competing live session
    }
)
# IB's 2100-2199 range is "Order Event Warning" and other notices; those that
# matter otherwise (farm chatter, connectivity) are listed above.
WARNING_RANGE = range(2100, 2200)
CANCEL_REFUSED = frozenset(
    {
        161,  # cancel attempted when the order is not in a cancellable state
        10147,  # order to cancel not found
        10148,  # order cannot be cancelled in its state
    }
)
ORDER_CANCELLED = frozenset({202})  # "Order Canceled - reason:" (confirms a cancel)
# For reference: rejections are everything else on an order id, e.g.
# 103 duplicate order id, 110 price not a multiple of the tick, 200 no security
# definition, 201 order rejected, 203 security not allowed, 321 request
# invalid, 387 unsupported order type.
NO_SECURITY = 200
ORDER_REJECTED = 201
# IB's 201 for want of margin: "Order rejected - reason:YOUR ORDER IS NOT
# ACCEPTED. IN ORDER TO OBTAIN THE DESIRED POSITION YOUR EQUITY WITH LOAN
# VALUE [...] MUST EXCEED THE INITIAL MARGIN [...]" (or the buying power).
FUNDS_REFUSALS = ("EQUITY WITH LOAN", "INITIAL MARGIN", "BUYING POWER", "INSUFFICIENT FUNDS")


def refuses_funds(code: int | None, message: str) -> bool:
    """Whether IB's rejection is its margin or buying-power check."""
    text = message.upper()
    return code == ORDER_REJECTED and any(words in text for words in FUNDS_REFUSALS)


def meaning(code: int) -> Meaning:
    if code in CONNECTIVITY_LOST:
        return Meaning.CONNECTIVITY_LOST
    if code in CONNECTIVITY_RESTORED:
        return Meaning.CONNECTIVITY_RESTORED
    if code in INFORMATIONAL:
        return Meaning.INFO
    if code in CANCEL_REFUSED:
        return Meaning.CANCEL_REFUSED
    if code in ORDER_CANCELLED:
        return Meaning.CANCELLED
    if code in WARNINGS or code in WARNING_RANGE:
        return Meaning.WARNING
    return Meaning.REJECTION
