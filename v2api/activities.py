"""Alpaca's account activities from the journal: every stored execution is a
FILL (``type`` fill or partial_fill, with the order's ``cum_qty`` and
``leaves_qty`` at that execution), paged by keyset.

- An activity id is Alpaca's ``<time>::<uuid>``: the execution's time
  (``YYYYMMDDHHMMSSmmm``, UTC) and a UUID of version 8 that carries the
  journal row's primary key (a mark of ours in the first 48 bits, as order
  ids carry the permId, v2api.ids).  ``page_token`` is the id of the last
  activity of the previous page; the key read back from it starts the next
  page with one range scan of the index on (executed_at, id)
  (journal.selectors.executions_keyset_page), however deep the page.
- Only FILL comes from IB: its API reports no dividends, fees, interest,
  transfers, journals or corporate actions.  Asking for one of those types is
  refused (422) rather than answered with an empty list, which would say
  "there were none" where the truth is "not known here"."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from decimal import Decimal
from typing import Any

from rest_framework import status

from journal import selectors as journal_selectors
from trading.exceptions import DomainError
from v2api.ids import account_uuid, order_uuid
from v2api.mapping import decimal_text

FILL = "FILL"
# Alpaca's activity types (alpaca.trading.enums.ActivityType and Alpaca's API reference).
ACTIVITY_TYPES = (
    "FILL",
    "ACATC",
    "ACATS",
    "CFEE",
    "CIL",
    "CSD",
    "CSW",
    "DIV",
    "DIVCGL",
    "DIVCGS",
    "DIVFEE",
    "DIVFT",
    "DIVNRA",
    "DIVROC",
    "DIVTW",
    "DIVTXEX",
    "DIVWH",
    "EXTRD",
    "FEE",
    "FXTRD",
    "INT",
    "INTNRA",
    "INTPNL",
    "INTTW",
    "JNL",
    "JNLC",
    "JNLS",
    "MA",
    "MEM",
    "NC",
    "OCT",
    "OPASN",
    "OPXRC",
    "OPCSH",
    "OPEXC",
    "OPEXP",
    "OPTRD",
    "PTC",
    "PTR",
    "REORG",
    "SC",
    "SPIN",
    "SPLIT",
    "SSO",
    "SSP",
    "SWP",
    "TRANS",
    "MISC",
    "VOF",
    "WH",
)
MAX_PAGE_SIZE = 100
# Alpaca's dates are the US market's.
MARKET_TIMEZONE = zoneinfo.ZoneInfo("America/New_York")

# Layout of an activity's UUID (128 bits, high to low): the mark (48), the
# version 8 (4), zero (12), the variant 0b10 (2), the row's key (62).
ACTIVITY_MARK = 0x5A17E9C3B2D4
_KEY_MASK = (1 << 62) - 1
_TIME_FORMAT = "%Y%m%d%H%M%S"


class ActivityTypeUnknown(DomainError):
    status_code: int = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "activity_type: not an activity type of Alpaca's"
    default_code = "activity_type_unknown"


class ActivityTypeUnavailable(DomainError):
    status_code: int = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = (
        "Only FILL activities are available: IB's API reports no dividends, fees, interest, "
        "transfers, journals or corporate actions (see the IB account's statements)"
    )
    default_code = "activity_type_unavailable"


class PageTokenInvalid(DomainError):
    # Well-formed (the schema's pattern), but naming no activity: a refusal
    # that depends on the journal, as an unknown order id's 404 does.
    status_code: int = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The page_token names no activity of this account"
    default_code = "page_token_invalid"


# --- ids ---------------------------------------------------------------------------------


def activity_id(pk: int, executed_at: dt.datetime) -> str:
    value = (ACTIVITY_MARK << 80) | (8 << 76) | (0b10 << 62) | (pk & _KEY_MASK)
    utc = executed_at.astimezone(dt.UTC)
    stamp = utc.strftime(_TIME_FORMAT) + f"{utc.microsecond // 1000:03d}"
    return f"{stamp}::{uuid.UUID(int=value)}"


def activity_key(token: str) -> int | None:
    """The journal row an activity id names, or None when it is none of ours."""
    stamp, sep, text = token.partition("::")
    if not sep or len(stamp) != 17 or not stamp.isdigit():
        return None
    try:
        value = uuid.UUID(text).int
    except ValueError:
        return None
    if value >> 64 != (ACTIVITY_MARK << 16) | (8 << 12) or (value >> 62) & 0b11 != 0b10:
        return None
    pk = value & _KEY_MASK
    return pk or None


# --- types --------------------------------------------------------------------------------


def types_check(types: list[str]) -> None:
    """Refuse the types that are not Alpaca's (422), then those IB cannot report."""
    unknown = [t for t in types if t not in ACTIVITY_TYPES]
    if unknown:
        raise ActivityTypeUnknown(
            f"activity_type: {', '.join(unknown)} is not an activity type of Alpaca's"
        )
    missing = [t for t in types if t != FILL]
    if missing:
        raise ActivityTypeUnavailable(
            f"{', '.join(missing)}: {ActivityTypeUnavailable.default_detail}"
        )


# --- the page ------------------------------------------------------------------------------


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime | None]:
    """The market day's first instant and the next day's (None after 9999-12-31)."""
    start = dt.datetime.combine(day, dt.time(), MARKET_TIMEZONE)
    if day == dt.date.max:
        return start, None
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), MARKET_TIMEZONE)


def fill_out(row: dict[str, Any], order_qty: Decimal | None) -> dict[str, Any]:
    """Alpaca's FILL activity for one stored execution and its order's
    quantity (None when the journal has not stored the order: leaves_qty,
    type and order_status are unknown then, never guessed)."""
    cum_qty = Decimal(row["cum_quantity"])
    leaves: Decimal | None = None
    if order_qty is not None:
        leaves = max(Decimal(order_qty) - cum_qty, Decimal(0))
    return {
        "id": activity_id(row["id"], row["executed_at"]),
        "account_id": str(account_uuid(row["account"])),
        "activity_type": FILL,
        "transaction_time": row["executed_at"],
        "type": None if leaves is None else ("partial_fill" if leaves else "fill"),
        "price": decimal_text(row["price"]),
        "qty": decimal_text(row["quantity"]),
        "side": row["side"].lower(),
        "symbol": row["symbol"],
        "leaves_qty": decimal_text(leaves),
        "cum_qty": decimal_text(cum_qty),
        "order_id": str(order_uuid(row["perm_id"])),
        "order_status": None if leaves is None else ("partially_filled" if leaves else "filled"),
    }


def activities_list(
    *,
    activity_types: list[str] | None = None,
    page_size: int = MAX_PAGE_SIZE,
    page_token: str | None = None,
    direction: str = "desc",
    after: dt.datetime | None = None,
    until: dt.datetime | None = None,
    date: dt.date | None = None,
) -> list[dict[str, Any]]:
    """Alpaca's GET /v2/account/activities[/{type}] from the journal: the
    fills, newest first (``direction=asc``: oldest first)."""
    types_check(activity_types or [FILL])
    start = None
    if page_token is not None:
        pk = activity_key(page_token)
        time = journal_selectors.execution_time(pk=pk) if pk is not None else None
        if pk is None or time is None:
            raise PageTokenInvalid()
        start = (time, pk)
    since = None
    if date is not None:  # the serializer refuses it with after or until
        since, until = _day_bounds(date)
    rows = journal_selectors.executions_keyset_page(
        size=page_size,
        newest_first=direction == "desc",
        since=since,
        after=after,
        until=until,
        start=start,
    )
    quantities = journal_selectors.order_quantities(perm_ids={row["perm_id"] for row in rows})
    return [fill_out(row, quantities.get(row["perm_id"])) for row in rows]
