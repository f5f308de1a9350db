"""Time in force and trading sessions: which orders work in which session,
when an order expires, and which TIFs an order may carry.  Pure rules; the
book applies them (ibsim.session_events).

- DAY: works until the close of its trading day (16:00, 13:00 on an early
  close), with `outsideRth` until the end of after-hours (20:00 / 17:00).
  An order without a TIF is a DAY order (warning 10349).
- GTC: works until cancelled; survives the close and the daily restart.
- IOC: fills what the touch shows at once, the rest is cancelled.
- FOK: fills whole at once, or is cancelled.
- OPG: MKT (market-on-open) or LMT (limit-on-open) for the next opening
  auction (09:30); what the auction does not fill is cancelled.
- GTD: works until `goodTillDate`; a date without a time means that day's
  close (with `outsideRth`: its after-hours end).

Outside regular hours only orders that kept `outsideRth` work (LMT and STP
LMT, DAY or GTC: ibsim.order_warnings drops it from the rest with warning
2109), in pre-market and after-hours; nothing works while the market is
closed.  Orders that cannot work wait, PreSubmitted, as IB holds them.
"""

from __future__ import annotations

import datetime as dt
import re

from ibsim import sessions

DAY, GTC, IOC, FOK, OPG, GTD = "DAY", "GTC", "IOC", "FOK", "OPG", "GTD"
SUPPORTED = (DAY, GTC, IOC, FOK, OPG, GTD)
IMMEDIATE = (IOC, FOK)  # act once when they start working, then are cancelled
MULTI_DAY = (GTC, GTD)  # survive the close and the daily restart
OPG_TYPES = ("MKT", "LMT")  # MOO and LOO
EXTENDED = (sessions.PRE_MARKET, sessions.AFTER_HOURS)

_DATE_ONLY = re.compile(r"^\d{8}$")


def works_in(tif: str, outside_rth: bool, session: str) -> bool:
    """Whether an order with this TIF works (can trigger and fill) in `session`.
    OPG orders work only in the opening auction, which the book runs."""
    if tif == OPG:
        return False
    if session == sessions.REGULAR:
        return True
    return session in EXTENDED and outside_rth


def starts_working(tif: str, outside_rth: bool, after: dt.datetime) -> dt.datetime:
    """When an order that cannot work at `after` will (what warning 399 names)."""
    if tif == OPG or not outside_rth:
        return sessions.next_start(after, (sessions.REGULAR,))
    return sessions.next_start(after, (sessions.REGULAR, *EXTENDED))


def reject_reason(order_type: str, tif: str, good_till_date: str) -> str | None:
    """Why IB would refuse this TIF on this order (error 201), or None."""
    if tif not in SUPPORTED:
        return f"Invalid TIF {tif!r}"
    if tif == OPG and order_type not in OPG_TYPES:
        return "OPG orders must be market (MOO) or limit (LOO) orders."
    if tif == GTD and not good_till_date.strip():
        return "A GTD order needs a good till date."
    return None


def expiry(
    tif: str, outside_rth: bool, good_till_date: str, placed: dt.datetime
) -> dt.datetime | None:
    """When an order placed at `placed` expires (None: it does not expire by
    time).  ValueError for a goodTillDate IB would not read."""
    if tif == DAY:
        return sessions.day_end(placed, outside_rth)
    if tif == OPG:
        return sessions.next_open(placed)  # its auction: unfilled there, it is cancelled
    if tif == GTD:
        return good_till(good_till_date, outside_rth)
    return None


def good_till(text: str, outside_rth: bool) -> dt.datetime:
    """goodTillDate as IB reads it: "YYYYMMDD HH:MM:SS [zone]" (no zone: US/Eastern),
    "YYYYMMDD-HH:MM:SS" (UTC), or "YYYYMMDD" (that day's close)."""
    text = text.strip()
    if _DATE_ONLY.match(text):
        try:
            day = dt.datetime.strptime(text, "%Y%m%d").date()
        except ValueError:
            day = None
        if day is not None:
            return sessions.date_end(day, outside_rth)
    when = sessions.parse_ib_time(text)
    if when is None:
        raise ValueError(f"Invalid good till date {text!r}")
    return when
