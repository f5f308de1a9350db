"""Reads: served from the state mirror the gateway worker keeps current, so a
slow order never holds up a read and no read opens a gateway connection."""

from __future__ import annotations

import datetime as dt
from typing import Any

from journal.selectors import ROW_FIELDS, execution_row, executions_query
from journal.services import split_exec_id
from trading import mirror
from trading.exceptions import GatewayUnavailable


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
    stored = [
        execution_row(row)
        for row in executions_query(**filters).values(*ROW_FIELDS)[: offset + limit]  # type: ignore[arg-type]
    ]
    try:
        live: list[dict[str, Any]] = mirror.read("executions")
    except GatewayUnavailable:
        live = []
    known = {split_exec_id(row["execId"])[0] for row in stored}
    # A commission the live side has seen but the journal not yet stored.
    live_commissions = {row["execId"]: row.get("commission") for row in live if row.get("execId")}
    for row in stored:
        if row["commission"] is None:
            row["commission"] = live_commissions.get(row["execId"])
    if len(stored) == offset + limit and stored:
        oldest = stored[-1]["timestamp"]
        live = [row for row in live if (row.get("timestamp") or "") >= oldest]
    fresh = [
        row
        for row in live
        if row.get("execId")
        and split_exec_id(row["execId"])[0] not in known
        and _matches(row, filters)
    ]
    rows = sorted(stored + fresh, key=lambda r: r.get("timestamp") or "", reverse=True)
    return rows[offset : offset + limit]


def _matches(row: dict[str, Any], filters: dict[str, Any]) -> bool:
    if filters["symbol"] and row["symbol"].upper() != filters["symbol"].upper():
        return False
    if filters["side"] and row["side"] != filters["side"]:
        return False
    if filters["order_ref"] is not None and row.get("orderRef", "") != filters["order_ref"]:
        return False
    stamp = row.get("timestamp")
    if not stamp:
        return False
    when = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    if filters["since"] and when < filters["since"]:
        return False
    return not (filters["until"] and when >= filters["until"])


def health_get() -> tuple[bool, dict[str, Any]]:
    """Liveness of every part, without account data.  Healthy = Redis and the
    database answer, the worker's heartbeat is fresh and the gateway connected."""
    from django.conf import settings
    from django.db import connection

    from journal.models import SyncRun
    from trading.exceptions import StateStoreUnavailable

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
    from trading.risk import trading_mode

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
            "last_sync": last.started_at.isoformat() if last else None,
            "last_sync_ok": last.ok if last else None,
        },
        "redis": redis_ok,
        "database": database_ok,
    }
    healthy = redis_ok and database_ok and connected and not mismatch
    if not healthy:
        body["status"] = "mode_mismatch" if mismatch and connected else "unavailable"
    return healthy, body
