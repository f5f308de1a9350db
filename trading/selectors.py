"""Reads: served from the state mirror the gateway worker keeps current, so a
slow order never holds up a read and no read opens a gateway connection."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import connection

from journal.models import SyncRun
from journal.selectors import CHANGE_TOKEN, executions_page
from journal.vocabulary import split_exec_id, utc_z
from trading import mirror
from trading.exceptions import StateStoreUnavailable
from trading.risk import trading_mode


def account_get() -> dict[str, Any]:
    """The mirror's account values, and the guide's two names for the main ones."""
    data: dict[str, Any] = mirror.read("account")
    return {"balance": data["net_liquidation"], "cash": data["available_funds"], **data}


def positions_list() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = mirror.read("positions")
    return rows


def orders_list() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = mirror.read("orders")
    return rows


def executions_list(
    *,
    symbol: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    side: str | None = None,
    order_ref: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """The journal, merged with the session's fills it has not stored yet
    (deduplicated by execId stem), newest first.  Without the gateway the
    journal alone answers: history does not need IB."""
    filters = {
        "symbol": symbol,
        "since": since,
        "until": until,
        "side": side,
        "order_ref": order_ref,
    }
    live, extra = mirror.read_optional("executions", CHANGE_TOKEN)
    stored = executions_page(filters, offset + limit, extra[CHANGE_TOKEN])
    if not live:
        return stored[offset : offset + limit]
    fresh = _unstored(live, stored, filters, full_page=len(stored) == offset + limit)
    if not fresh:
        return stored[offset : offset + limit]  # in the journal's order already
    rows = sorted(stored + fresh, key=lambda r: r.get("timestamp") or "", reverse=True)
    return rows[offset : offset + limit]


def _unstored(
    live: list[dict[str, Any]],
    stored: list[dict[str, Any]],
    filters: dict[str, Any],
    full_page: bool,
) -> list[dict[str, Any]]:
    """Live fills the journal has not stored yet that belong on this page; also
    fills in commissions the journal has not got yet (in ``stored``, whose
    rows are replaced, not changed: they may be cached).  Live rows come
    newest first with ISO 8601 UTC timestamps, so they compare as text."""
    by_exec_id = {row["execId"]: (i, row) for i, row in enumerate(stored)}
    stems = {split_exec_id(exec_id)[0] for exec_id in by_exec_id}
    oldest = stored[-1]["timestamp"] if full_page and stored else None
    since = utc_z(filters["since"]) if filters["since"] else None
    until = utc_z(filters["until"]) if filters["until"] else None
    symbol = (filters["symbol"] or "").upper()
    fresh = []
    for row in live:
        exec_id, stamp = row.get("execId"), row.get("timestamp")
        if not exec_id or not stamp:
            continue
        mine = by_exec_id.get(exec_id)
        if mine is not None:
            if mine[1]["commission"] is None and row.get("commission") is not None:
                stored[mine[0]] = {**mine[1], "commission": row["commission"]}
            continue
        if (oldest and stamp < oldest) or (since and stamp < since):
            break  # everything after this one is older still
        if until and stamp >= until:
            continue
        if symbol and row["symbol"] != symbol:
            continue
        if filters["side"] and row["side"] != filters["side"]:
            continue
        if filters["order_ref"] is not None and row.get("orderRef", "") != filters["order_ref"]:
            continue
        if split_exec_id(exec_id)[0] in stems:
            continue
        fresh.append(row)
    return fresh


def health_get() -> tuple[bool, dict[str, Any]]:
    """Liveness of every part, without account data.  Healthy = Redis and the
    database answer, the worker's heartbeat is fresh and the gateway connected."""
    try:
        beat = mirror.heartbeat()
        redis_ok = True
    except StateStoreUnavailable:
        beat, redis_ok = None, False
    try:
        connection.ensure_connection()
        last = SyncRun.objects.order_by("-started_at").first()
        database_ok = True
    except Exception:  # any database error means: not healthy
        last, database_ok = None, False
    age = mirror.heartbeat_age(beat)
    worker_ok = age is not None and age <= settings.GATEWAY_STALE_AFTER
    connected = bool(worker_ok and beat and beat.get("connected"))
    mode = trading_mode(beat) if beat and beat.get("account") else "unknown"
    mismatch = mode == "live" and not settings.LIVE_TRADING
    body = {
        "status": "ok",
        "gateway": {
            "connected": connected,
            "server_version": (beat or {}).get("server_version") or None,
            "trading_mode": mode,
            "live_trading_enabled": settings.LIVE_TRADING,
            # A live gateway while live trading is off: every order is refused.
            "mode_mismatch": mismatch,
            "last_error": (beat or {}).get("last_error") or "",
        },
        "worker": {
            "alive": worker_ok,
            "heartbeat_age_s": round(age, 3) if age is not None else None,
        },
        "journal": {
            "last_sync": utc_z(last.started_at) if last else None,
            "last_sync_ok": last.ok if last else None,
        },
        "redis": redis_ok,
        "database": database_ok,
    }
    healthy = redis_ok and database_ok and connected and not mismatch
    if not healthy:
        body["status"] = "mode_mismatch" if mismatch and connected else "unavailable"
    return healthy, body
