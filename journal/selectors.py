"""Reads from the journal, shaped like the API's execution rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet

from journal.models import Execution


def executions_query(
    *,
    symbol: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    side: str | None = None,
    order_ref: str | None = None,
) -> QuerySet[Execution]:
    rows = Execution.objects.all()
    if symbol:
        rows = rows.filter(symbol=symbol.upper())
    if since:
        rows = rows.filter(executed_at__gte=since)
    if until:
        rows = rows.filter(executed_at__lt=until)
    if side:
        rows = rows.filter(side=side)
    if order_ref is not None:
        rows = rows.filter(order_ref=order_ref)
    return rows.order_by("-executed_at", "-id")


ROW_FIELDS = (
    "symbol",
    "side",
    "quantity",
    "price",
    "executed_at",
    "order_id",
    "perm_id",
    "order_ref",
    "exec_id",
    "commission",
    "source",
)


def _number(value: Any) -> float | int:
    number = float(value)
    return int(number) if number.is_integer() else number


def execution_row(row: Execution | dict[str, Any]) -> dict[str, Any]:
    """The API's shape of one stored execution (a model or a ``values()`` dict)."""
    get: Any = row.get if isinstance(row, dict) else row.__getattribute__
    stamp = get("executed_at").astimezone(dt.UTC).isoformat()  # 2025-01-01T09:30:00+00:00
    commission = get("commission")
    return {
        "symbol": get("symbol"),
        "side": get("side"),
        "qty": _number(get("quantity")),
        "price": float(get("price")),
        "time": f"{stamp[0:4]}{stamp[5:7]}{stamp[8:10]} {stamp[11:19]}",
        "timestamp": stamp[:19] + "Z" if stamp[19:20] != "." else stamp[:26] + "Z",
        "orderId": get("order_id"),
        "permId": get("perm_id"),
        "orderRef": get("order_ref"),
        "execId": get("exec_id"),
        "commission": float(commission) if commission is not None else None,
        "source": get("source"),
    }
