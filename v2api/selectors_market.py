"""Reads for /v2's clock, calendar and assets.

The clock and the calendar come from the state mirror's ``market`` section
(the gateway's clock offset and trading hours, published by the worker,
trading.gateway.lookups); assets from IB's contract details, asked of the
worker over the order bus (``assets``), which caches them."""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from typing import Any

from django.conf import settings

from trading import bus, mirror, risk
from trading.exceptions import GatewayUnavailable, outcome_error
from trading.fields import SYMBOL_PATTERN
from v2api import market
from v2api.exceptions import AssetNotFound

# How long the web waits beyond the worker's deadline for its answer.
RESULT_GRACE = 2.0
DEFAULT_END = dt.date(2029, 12, 31)  # Alpaca's calendar ends there


def _market_section() -> dict[str, Any] | None:
    """The gateway's market section, or None when the gateway is down."""
    section, _ = mirror.read_optional("market")
    return section if isinstance(section, dict) else None


def gateway_now() -> tuple[dt.datetime, market.Calendar] | None:
    """The gateway's time and trading hours, or None while they are unknown."""
    section = _market_section()
    if section is None or section.get("offset") is None:
        return None
    now = dt.datetime.fromtimestamp(time.time() + float(section["offset"]), dt.UTC)
    return now, market.Calendar(section.get("hours"))


def clock_get() -> dict[str, Any]:
    """The market clock on the gateway's time: 503 while it is unknown."""
    known = gateway_now()
    if known is None:
        raise GatewayUnavailable()
    return market.clock(*known)


def calendar_list(
    *, start: dt.date | None = None, end: dt.date | None = None
) -> list[dict[str, Any]]:
    """Trading days from ``start`` to ``end`` (inclusive; Alpaca's defaults
    1970-01-01 and 2029-12-31).  Answers while the gateway is down, from
    NYSE's rules alone."""
    section = _market_section()
    calendar = market.Calendar(section.get("hours") if section else None)
    return market.calendar_rows(calendar, start or market.FIRST_DAY, end or DEFAULT_END)


def _contracts(symbols: list[str], *, known: bool) -> list[dict[str, Any]]:
    """Contract details from the worker (cached there)."""
    timeout = settings.IB_REQUEST_TIMEOUT
    try:
        outcome = bus.call(
            "assets",
            {"symbols": symbols, "known": known},
            deadline=time.time() + timeout,
            timeout=timeout + RESULT_GRACE,
            admit=mirror.check_ready,
        )
    except bus.NotSent as not_sent:
        raise not_sent.error from None
    if not outcome.get("ok"):
        raise outcome_error(outcome)
    return list(outcome.get("assets") or [])


def _assets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = (market.asset(row, tradable=not risk.symbol_refusal(row["symbol"])) for row in rows)
    return [a for a in found if a is not None]


def assets_list(
    *,
    status: str | None = None,
    asset_class: str | None = None,
    exchange: str | None = None,
    attributes: list[str] | None = None,
) -> list[dict[str, Any]]:
    """The assets the service knows (ASSET_SYMBOLS, positions, working
    orders, symbols looked up before), filtered as Alpaca filters."""
    return market.assets_filtered(
        _assets(_contracts([], known=True)),
        status=status,
        asset_class=asset_class,
        exchange=exchange,
        attributes=attributes,
    )


def asset_get(*, symbol_or_asset_id: str) -> dict[str, Any]:
    """One asset by symbol (any IB knows) or by asset id (of a known asset)."""
    try:
        asset_id = str(uuid.UUID(symbol_or_asset_id))
    except ValueError:
        asset_id = None
    if asset_id is None:
        if not re.match(SYMBOL_PATTERN, symbol_or_asset_id):
            raise AssetNotFound()  # no symbol: not worth asking IB
        symbol = symbol_or_asset_id.upper()
        found = [a for a in _assets(_contracts([symbol], known=False)) if a["symbol"] == symbol]
    else:
        found = [a for a in _assets(_contracts([], known=True)) if a["id"] == asset_id]
    if not found:
        raise AssetNotFound()
    return found[0]
