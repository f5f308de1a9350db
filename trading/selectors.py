"""Reads: served from the state mirror the gateway worker keeps current, so a
slow order never holds up a read and no read opens a gateway connection."""

from __future__ import annotations

from typing import Any

from trading import mirror


def account_get() -> dict[str, Any]:
    data: dict[str, Any] = mirror.read("account")
    return {
        "balance": data["net_liquidation"],
        "cash": data["available_funds"],
        **{k: v for k, v in data.items()},
    }


def positions_list() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = mirror.read("positions")
    return rows


def orders_list() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = mirror.read("orders")
    return rows


def executions_list(*, symbol: str | None = None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = mirror.read("executions")
    if symbol:
        wanted = symbol.strip().upper()
        rows = [r for r in rows if r["symbol"].upper() == wanted]
    return rows
