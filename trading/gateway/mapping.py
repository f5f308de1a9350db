"""Pure translation from IB's objects (ib_async's dataclasses) to our data:
the journal's rows and the state mirror's API rows.  No connection, no
state: every function here is unit-tested alone (tests/unit)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from typing import Any

from ib_async import AccountValue, CommissionReport, Fill, PortfolioItem, Position, Trade
from ib_async.util import UNSET_DOUBLE

from journal.vocabulary import FINISHED_STATUSES, api_times, split_exec_id
from trading.gateway import codes

# Execution side as IB reports it -> the side our API speaks.
SIDES = {"BOT": "BUY", "SLD": "SELL"}
# Order types whose trigger is the stop (aux) price.
STOP_LIKE = frozenset({"STP", "STP LMT", "TRAIL", "TRAIL LIMIT", "MIT", "LIT"})
# Account values the mirror carries, from IB's tags.
ACCOUNT_TAGS = {
    "net_liquidation": "NetLiquidation",
    "available_funds": "AvailableFunds",
    "total_cash_value": "TotalCashValue",
    "buying_power": "BuyingPower",
    "gross_position_value": "GrossPositionValue",
    "unrealized_pnl": "UnrealizedPnL",
    "realized_pnl": "RealizedPnL",
}


def known(value: Any) -> float | None:
    """IB's number, or None where IB means "unset" (its max double, NaN)."""
    if value is None or value == UNSET_DOUBLE or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def number(value: Any) -> float | int:
    """Whole quantities as ints (10, not 10.0), as the guide shows them."""
    return int(value) if float(value).is_integer() else float(value)


def side_from_ib(side: str) -> str:
    return SIDES.get(side, side)


def status_for_api(status: str) -> str:
    """The guide shows IB's statuses upper-cased: SUBMITTED, PRESUBMITTED..."""
    return status.upper()


def trigger_for_api(order_type: str, lmt_price: float | None, aux_price: float | None) -> object:
    """The guide's ``trigger``: the limit price of a limit order, the stop (trigger)
    price of stop-like orders, "—" for market orders.  Prices are None when unset."""
    if order_type == "LMT" and lmt_price is not None:
        return lmt_price
    if order_type in STOP_LIKE and aux_price:
        return aux_price
    if lmt_price:
        return lmt_price
    return "—"


# --- the journal's rows ---------------------------------------------------------------


def commission_data(report: CommissionReport, *, pnl_unset: bool) -> dict[str, Any]:
    """``pnl_unset``: IB sent no realized P&L (an opening fill); ib_async makes
    that a number, the journal keeps it None."""
    return {
        "commission": float(report.commission),
        "commission_currency": report.currency,
        "realized_pnl": None if pnl_unset else float(report.realizedPNL),
    }


def execution_data(fill: Fill, *, ib_time: str, pnl_unset: bool) -> dict[str, Any]:
    ex, contract = fill.execution, fill.contract
    data: dict[str, Any] = {
        "exec_id": ex.execId,
        "perm_id": ex.permId,
        "order_id": ex.orderId,
        "client_id": ex.clientId,
        "order_ref": ex.orderRef or "",
        "account": ex.acctNumber,
        "symbol": contract.symbol,
        "con_id": contract.conId or None,
        "sec_type": contract.secType or "STK",
        "exchange": ex.exchange,
        "currency": contract.currency or "USD",
        "side": side_from_ib(ex.side),
        "quantity": float(ex.shares),
        "price": float(ex.price),
        "cum_quantity": float(ex.cumQty),
        "avg_price": float(ex.avgPrice),
        "executed_at": ex.time.astimezone(dt.UTC).isoformat(),
        "ib_time": ib_time,
    }
    report = fill.commissionReport
    if report.execId == ex.execId:
        data.update(commission_data(report, pnl_unset=pnl_unset))
    return data


def order_data(trade: Trade, *, expired: bool = False) -> dict[str, Any]:
    """An order as the journal stores it; ``expired``: IB cancelled it at the
    end of its day (trading.gateway.runtime decides), else absent."""
    order, status = trade.order, trade.orderStatus
    return {
        "perm_id": order.permId,
        "order_id": order.orderId,
        "client_id": order.clientId,
        "order_ref": order.orderRef or "",
        "account": order.account,
        "symbol": trade.contract.symbol,
        "con_id": trade.contract.conId or None,
        "sec_type": trade.contract.secType,
        "action": order.action,
        "order_type": order.orderType,
        "quantity": float(order.totalQuantity),
        "limit_price": known(order.lmtPrice),
        "stop_price": known(order.auxPrice),
        "tif": order.tif,
        "parent_perm_id": order.parentPermId or None,
        "status": order_status(trade),
        "filled": float(status.filled),
        "avg_fill_price": known(status.avgFillPrice) or None,
        "oca_group": order.ocaGroup or "",
        "trail_percent": known(order.trailingPercent),
        "trail_stop_price": known(order.trailStopPrice),
        "outside_rth": bool(order.outsideRth),
        **({"expired": True} if expired else {}),
    }


def finished_order(trade: Trade, *, expired: bool = False) -> dict[str, Any]:
    """An order that finished, as the journal will store it (order_data), with
    IB's times: placed at its first log entry, finished at its last."""
    log = trade.log
    return {
        **order_data(trade, expired=expired),
        "placed_at": log[0].time if log else None,
        "finished_at": log[-1].time if log else None,
    }


# --- the mirror's rows (the API's shapes) ---------------------------------------------------


def order_row(trade: Trade, warnings: list[dict[str, Any]]) -> dict[str, Any]:
    """One working order as GET /orders shows it; ``warnings``: IB's warnings
    on it (``[{"code", "message"}]``, empty for most orders)."""
    order = trade.order
    return {
        "orderId": order.orderId,
        "permId": order.permId,
        "clientId": order.clientId,
        "symbol": trade.contract.symbol,
        "action": order.action,
        "quantity": number(order.totalQuantity),
        "type": order.orderType,
        "trigger": trigger_for_api(order.orderType, known(order.lmtPrice), known(order.auxPrice)),
        "status": status_for_api(order_status(trade)),
        "filled": number(trade.orderStatus.filled),
        "tif": order.tif,
        "orderRef": order.orderRef,
        "parentPermId": order.parentPermId or None,
        "warnings": warnings,
        # For /v2 (v2api.mapping); GET /orders' serializer shows none of these.
        "lmtPrice": known(order.lmtPrice),
        "auxPrice": known(order.auxPrice),
        "trailingPercent": known(order.trailingPercent),
        "trailStopPrice": known(order.trailStopPrice),
        "outsideRth": bool(order.outsideRth),
        "ocaGroup": order.ocaGroup or "",
        "parentId": order.parentId or None,  # IB reports a working child's parent by its id
        "conId": trade.contract.conId or None,  # /v2's asset id
        "secType": trade.contract.secType,
    }


def account_summary(values: Iterable[AccountValue], account: str) -> dict[str, Any]:
    """The account's USD (or base) values; None where IB sent none."""
    by_tag = {
        v.tag: v.value for v in values if v.currency in ("USD", "BASE", "") and not v.modelCode
    }

    def money(tag: str) -> float | None:
        try:
            return float(by_tag[tag])
        except (KeyError, ValueError):
            return None

    summary: dict[str, Any] = {"account": account}
    summary.update({name: money(tag) for name, tag in ACCOUNT_TAGS.items()})
    summary["currency"] = "USD"
    return summary


def position_rows(
    positions: Iterable[Position], portfolio: Iterable[PortfolioItem]
) -> list[dict[str, Any]]:
    """Open positions by symbol, with the portfolio's market data where IB has it."""
    items = {item.contract.conId: item for item in portfolio}
    rows: list[dict[str, Any]] = []
    for pos in positions:
        if not pos.position:
            continue
        item = items.get(pos.contract.conId)
        rows.append(
            {
                "symbol": pos.contract.symbol,
                "conId": pos.contract.conId or None,  # /v2's asset id; GET /positions shows none
                "sec_type": pos.contract.secType,
                "currency": pos.contract.currency,
                "qty": number(pos.position),
                "avg_cost": round(pos.avgCost, 4),
                "market_price": round(item.marketPrice, 4) if item else None,
                "market_value": round(item.marketValue, 2) if item else None,
                "unrealized_pnl": round(item.unrealizedPNL, 2) if item else None,
                "realized_pnl": round(item.realizedPNL, 2) if item else None,
            }
        )
    rows.sort(key=lambda p: p["symbol"])
    return rows


def execution_rows(fills: Iterable[Fill], requested: set[str]) -> list[dict[str, Any]]:
    """Session fills as GET /executions shows them, newest first: the newest
    revision of each execution (IB's corrections).  ``requested``: execIds
    that came from reqExecutions (the rest arrived live).  A completed order
    is no execution (no execId, no time): the journal keeps it as an order."""
    newest: dict[str, tuple[int, dict[str, Any]]] = {}
    for fill in fills:
        ex = fill.execution
        stem, revision = split_exec_id(ex.execId)
        if stem in newest and newest[stem][0] >= revision:
            continue
        time, timestamp = api_times(ex.time)
        report = fill.commissionReport
        row: dict[str, Any] = {
            "symbol": fill.contract.symbol,
            "side": side_from_ib(ex.side),
            "qty": number(ex.shares),
            "price": ex.price,
            "time": time,
            "timestamp": timestamp,
            "orderId": ex.orderId,
            "permId": ex.permId,
            "orderRef": ex.orderRef or "",
            "execId": ex.execId,
            "commission": report.commission if report.execId else None,
            "source": "reqExecutions" if ex.execId in requested else "trades()",
        }
        newest[stem] = (revision, row)
    rows: list[dict[str, Any]] = [row for _, row in newest.values()]
    rows.sort(key=lambda r: r.get("timestamp") or "", reverse=True)
    return rows


def order_status(trade: Trade) -> str:
    """The order's status as IB last reported it.

    ib_async overwrites the status when IB warns about an order: with
    ValidationError for the warnings it knows, with Cancelled (and a
    cancelledEvent) for those it does not, such as 10349 and 10311 (ib_async
    issues #191, #217).  The order stands at IB all the same, and IB's next
    orderStatus puts the real one back.  Until then, read through the
    warnings' log entries to the status IB sent before them."""
    status = trade.orderStatus.status
    if status not in MASKING_STATUSES or not trade.log or not _warns(trade.log[-1].errorCode):
        return status
    for entry in reversed(trade.log):
        if not _warns(entry.errorCode):
            return entry.status
    return "PendingSubmit"


MASKING_STATUSES = frozenset({"Cancelled", "ValidationError"})


def _warns(code: int) -> bool:
    return bool(code) and codes.meaning(code) is codes.Meaning.WARNING


def is_finished(trade: Trade) -> bool:
    return order_status(trade) in FINISHED_STATUSES
