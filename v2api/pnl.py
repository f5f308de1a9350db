"""The account's P&L as IB's reqPnL reports it (daily, unrealized, realized),
from the state mirror's ``pnl`` section (trading.gateway.pnl writes it):
503 while the gateway is away, as every read of the mirror."""

from __future__ import annotations

from typing import Any

from trading import mirror
from v2api.mapping import decimal_text


def pnl_get() -> dict[str, Any]:
    section: dict[str, Any] = mirror.read("pnl")
    return {
        "account_number": section["account"],
        "daily_pl": decimal_text(section["daily"]),
        "unrealized_pl": decimal_text(section["unrealized"]),
        "realized_pl": decimal_text(section["realized"]),
    }
