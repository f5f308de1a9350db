"""Pure translation of IB's orders into Alpaca's: the status, type, time in
force and side tables, and the order object built from one record.  No
database, no cache: unit-tested alone (tests/v2/test_mapping.py).

A *record* is an order as this module reads it, whichever source it came
from (the state mirror's working orders, the journal's orders table; see
``record_from_mirror`` and ``record_from_journal``): ``perm_id``,
``order_ref``, ``symbol``, ``action``, ``order_type`` and ``status`` as IB
spells them, ``quantity``, ``filled``, ``limit_price``, ``stop_price``,
``avg_fill_price``, ``tif``, ``parent_perm_id``, the times
``placed_at``, ``updated_at``, ``finished_at`` (aware datetimes or None),
and the contract's ``con_id`` (the asset id; None for a journal row stored
before conIds were kept, v2api.selectors fills it in) and ``sec_type``
("" where not known)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from journal.vocabulary import utc_z
from v2api.ids import asset_id, order_uuid

# IB's order status (upper-cased: the mirror shows them so, the journal as IB
# spells them) -> Alpaca's.  Fills and parents refine it: see order_status.
ORDER_STATUSES = {
    "APIPENDING": "accepted",  # not yet sent to IB's servers
    "PENDINGSUBMIT": "pending_new",  # sent, not yet confirmed by the destination
    "PRESUBMITTED": "accepted",  # held by IB (a simulated stop, a parent not yet filled)
    "SUBMITTED": "new",  # working at the exchange
    "PENDINGCANCEL": "pending_cancel",
    "APICANCELLED": "canceled",  # cancelled before IB's servers had it
    "CANCELLED": "canceled",  # by a request or by IB (at the close of its day: expired)
    "FILLED": "filled",
    "INACTIVE": "rejected",  # IB refused it (error 201 and the like)
}
# What a status IB may add later is shown as: the order exists at IB.
UNKNOWN_STATUS = "accepted"
WORKING = frozenset({"APIPENDING", "PENDINGSUBMIT", "PRESUBMITTED", "SUBMITTED"})

# IB's order type -> Alpaca's type; None where Alpaca has none.
ORDER_TYPES = {
    "MKT": "market",
    "LMT": "limit",
    "STP": "stop",
    "STP LMT": "stop_limit",
    "TRAIL": "trailing_stop",
    "MOC": "market",  # market on close: Alpaca's market with time in force cls
    "LOC": "limit",  # limit on close: limit with cls
}
LIMIT_TYPES = frozenset({"LMT", "STP LMT", "LOC", "TRAIL LIMIT", "LIT"})
STOP_TYPES = frozenset({"STP", "STP LMT", "TRAIL", "TRAIL LIMIT", "MIT", "LIT"})
ON_CLOSE_TYPES = frozenset({"MOC", "LOC"})
TRAILING_TYPES = frozenset({"TRAIL", "TRAIL LIMIT"})

# IB's time in force -> Alpaca's (which has no good-till-date nor auction).
TIME_IN_FORCE = {
    "DAY": "day",
    "GTC": "gtc",
    "OPG": "opg",
    "IOC": "ioc",
    "FOK": "fok",
    "GTD": "gtc",  # good till a date: the closest Alpaca has
    "DTC": "day",  # day till cancelled
    "AUC": "opg",  # an auction order
}
DEFAULT_TIME_IN_FORCE = "day"  # IB's own default, also for a TIF it did not report

SIDES = {"BUY": "buy", "SELL": "sell", "SSHORT": "sell"}


def order_status(
    ib_status: str,
    *,
    filled: float,
    quantity: float,
    has_parent: bool,
    expired: bool = False,
    replacing: bool = False,
    day_done: bool = False,
) -> str:
    """Alpaca's status for an order IB reports in ``ib_status``.

    A working order being replaced (``replacing``: the change sent, IB's
    acknowledgement not yet in) is pending_replace; one that is done for the
    day (``day_done``, see ``done_for_day``) done_for_day; one with some of
    it filled partially_filled; a held child of a bracket (waiting for its
    parent) held.  A cancelled order stays canceled whatever was filled
    before (its filled_qty says how much), or is expired when IB ended it at
    the close of its day (``expired``: the worker's finding,
    trading.gateway.runtime)."""
    status = _spelled(ib_status)
    if expired and status == "CANCELLED":
        return "expired"
    if status in WORKING and replacing:
        return "pending_replace"
    if status in WORKING and day_done:
        return "done_for_day"
    if status in WORKING and 0 < filled < quantity:
        return "partially_filled"
    if status == "PRESUBMITTED" and has_parent:
        return "held"
    return ORDER_STATUSES.get(status, UNKNOWN_STATUS)


def _spelled(ib_status: str) -> str:
    """IB's status as the tables spell it (the mirror upper-cases, the journal does not)."""
    return ib_status.replace(" ", "").upper()


def is_working(ib_status: str) -> bool:
    return _spelled(ib_status) in WORKING


def done_for_day(record: dict[str, Any], *, market_closed: bool) -> bool:
    """Whether a working order is done for the day (Alpaca: it will not trade
    again until the next session): while the regular session is closed, IB
    holds it (PreSubmitted) after it had worked at the exchange (Submitted,
    ``worked``).  One placed since the close waits for its first session
    (accepted); one that trades outside regular hours and works now is
    Submitted (new): IB's status tells them apart, whatever the clocks."""
    return (
        market_closed
        and _spelled(record["status"]) == "PRESUBMITTED"
        and bool(record.get("worked"))
    )


def order_type(ib_type: str) -> str | None:
    return ORDER_TYPES.get(ib_type.upper())


def time_in_force(ib_tif: str, ib_type: str) -> str:
    if ib_type.upper() in ON_CLOSE_TYPES:
        return "cls"
    return TIME_IN_FORCE.get(ib_tif.upper(), DEFAULT_TIME_IN_FORCE)


def side(action: str) -> str:
    return SIDES.get(action.upper(), action.lower())


def decimal_text(value: Any) -> str | None:
    """A number as Alpaca writes one: a decimal string ("10", "236.42"), never
    in exponent form, without a float's noise (15 significant digits)."""
    if value is None:
        return None
    number = Decimal(format(float(value), ".15g"))
    text = format(number, "f")
    return "0" if text in ("-0", "-0.0") else text


def _stamp(when: dt.datetime | None) -> str | None:
    return utc_z(when) if when is not None else None


def trail_fields(record: dict[str, Any]) -> dict[str, str | None]:
    """A trailing stop's trail (IB's auxPrice is the amount, unless
    trailingPercent is set) and its current stop price (IB's trailStopPrice)."""
    if (record["order_type"] or "").upper() not in TRAILING_TYPES:
        return {"trail_price": None, "trail_percent": None, "stop_price": None}
    percent = record.get("trail_percent")
    return {
        "trail_percent": decimal_text(percent),
        "trail_price": decimal_text(record.get("stop_price")) if percent is None else None,
        "stop_price": decimal_text(record.get("trail_stop_price")),
    }


def order_out(
    record: dict[str, Any],
    *,
    now: dt.datetime,
    order_class: str = "simple",
    legs: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Alpaca's order object for one record.  ``now`` stands in for the
    placement time of an order no source has a time for yet (seen in the
    mirror a moment before the journal stores it).  ``order_class`` and
    ``legs`` (the other orders of a bracket, oto or oco, as order objects):
    v2api.selectors finds them among the records (``order_classes``)."""
    ib_type = record["order_type"] or ""
    quantity, filled = float(record["quantity"]), float(record["filled"] or 0)
    status = order_status(
        record["status"],
        filled=filled,
        quantity=quantity,
        has_parent=bool(record.get("parent_perm_id")),
        expired=bool(record.get("expired")),
        replacing=bool(record.get("replacing")),
        day_done=bool(record.get("day_done")),
    )
    created = record.get("placed_at") or now
    finished = record.get("finished_at")
    updated = record.get("updated_at") or finished or created
    kind = order_type(ib_type)
    avg = record.get("avg_fill_price")
    perm_id, revision = int(record["perm_id"]), int(record.get("revision") or 0)
    replaced_at = record.get("replaced_at")
    if replaced_at is not None:
        status = "replaced"
    out = {
        "id": str(order_uuid(perm_id, revision)),
        "client_order_id": record["order_ref"] or "",
        "created_at": utc_z(created),
        "updated_at": utc_z(updated),
        "submitted_at": utc_z(created),
        "filled_at": _stamp(finished) if status == "filled" else None,
        "expired_at": _stamp(finished) if status == "expired" else None,
        "expires_at": None,
        "canceled_at": _stamp(finished) if status == "canceled" else None,
        "failed_at": _stamp(finished) if status == "rejected" else None,
        "replaced_at": utc_z(replaced_at) if replaced_at is not None else None,
        "replaced_by": str(order_uuid(perm_id, revision + 1)) if replaced_at is not None else None,
        "replaces": str(order_uuid(perm_id, revision - 1)) if revision else None,
        "asset_id": asset_id(record.get("con_id")),
        "symbol": record["symbol"],
        "asset_class": "us_equity",
        "notional": None,
        "qty": decimal_text(quantity),
        "filled_qty": decimal_text(filled),
        "filled_avg_price": decimal_text(avg) if avg and filled else None,
        "order_class": order_class,
        "order_type": kind,
        "type": kind,
        "side": side(record["action"]),
        "position_intent": None,
        "time_in_force": time_in_force(record.get("tif") or "", ib_type),
        "limit_price": decimal_text(record.get("limit_price")) if ib_type in LIMIT_TYPES else None,
        "stop_price": decimal_text(record.get("stop_price")) if ib_type in STOP_TYPES else None,
        "status": status,
        "extended_hours": bool(record.get("outside_rth")),
        "legs": legs,
        "trail_percent": None,
        "trail_price": None,
        "hwm": None,
    }
    if ib_type.upper() in TRAILING_TYPES:
        out.update(trail_fields(record))
    return out


def _history_time(history: list[Any]) -> dt.datetime | None:
    if not history:
        return None
    try:
        return dt.datetime.fromisoformat(str(history[-1][0]))
    except (ValueError, IndexError, TypeError):
        return None


def record_from_journal(row: dict[str, Any]) -> dict[str, Any]:
    """A record from a ``values()`` row of journal.models.Order (JOURNAL_FIELDS)."""
    return {
        "perm_id": row["perm_id"],
        "order_ref": row["order_ref"],
        "symbol": row["symbol"],
        "con_id": row["con_id"],
        "sec_type": row["sec_type"],
        "action": row["action"],
        "order_type": row["order_type"],
        "status": row["status"],
        "quantity": row["quantity"],
        "filled": row["filled"],
        "limit_price": row["limit_price"],
        "stop_price": row["stop_price"],
        "avg_fill_price": row["avg_fill_price"],
        "tif": row["tif"],
        "parent_perm_id": row["parent_perm_id"],
        "placed_at": row["placed_at"],
        "updated_at": _history_time(row["status_history"]) or row["placed_at"],
        "finished_at": row["finished_at"],
        "expired": bool(row.get("expired")),
        "worked": _worked(row["status_history"]),
        "oca_group": row.get("oca_group") or "",
        "trail_percent": row.get("trail_percent"),
        "trail_stop_price": row.get("trail_stop_price"),
        "outside_rth": bool(row.get("outside_rth")),
    }


def _worked(history: list[Any]) -> bool:
    """Whether IB ever reported the order working at the exchange (Submitted)."""
    return any(
        isinstance(entry, list | tuple)
        and len(entry) > 1
        and _spelled(str(entry[1])) == "SUBMITTED"
        for entry in history or ()
    )


def record_from_finished(data: dict[str, Any], stored: dict[str, Any] | None) -> dict[str, Any]:
    """A record from an order the mirror lists as just finished (the journal's
    shape, trading.gateway.mapping.finished_order), over what the journal
    stored of it: its final state is the newer word, the journal's times are
    the ones the order keeps."""
    base = stored or {}
    return {
        "perm_id": data["perm_id"],
        "order_ref": data.get("order_ref") or "",
        "symbol": data["symbol"],
        "con_id": data.get("con_id") or base.get("con_id"),
        "sec_type": data.get("sec_type") or base.get("sec_type") or "",
        "action": data["action"],
        "order_type": data["order_type"],
        "status": data["status"],
        "quantity": data["quantity"],
        "filled": data.get("filled") or 0,
        "limit_price": data.get("limit_price"),
        "stop_price": data.get("stop_price"),
        "avg_fill_price": data.get("avg_fill_price"),
        "tif": data.get("tif") or "",
        "parent_perm_id": data.get("parent_perm_id"),
        "placed_at": base.get("placed_at") or data.get("placed_at"),
        "updated_at": data.get("finished_at"),
        "finished_at": base.get("finished_at") or data.get("finished_at"),
        "expired": bool(data.get("expired") or base.get("expired")),
        "oca_group": data.get("oca_group") or base.get("oca_group") or "",
        "trail_percent": data.get("trail_percent", base.get("trail_percent")),
        "trail_stop_price": data.get("trail_stop_price", base.get("trail_stop_price")),
        "outside_rth": bool(data.get("outside_rth", base.get("outside_rth"))),
    }


JOURNAL_FIELDS = (
    "perm_id",
    "order_ref",
    "symbol",
    "con_id",
    "sec_type",
    "action",
    "order_type",
    "status",
    "quantity",
    "filled",
    "limit_price",
    "stop_price",
    "avg_fill_price",
    "tif",
    "parent_perm_id",
    "placed_at",
    "status_history",
    "finished_at",
    "expired",
    "oca_group",
    "trail_percent",
    "trail_stop_price",
    "outside_rth",
)


def record_from_mirror(row: dict[str, Any], stored: dict[str, Any] | None) -> dict[str, Any]:
    """A record from a working order of the mirror (what GET /orders lists),
    over what the journal stored of it (times, prices, average fill price).
    The mirror is the newer word on the status and the quantities; the
    journal the only one on times and on a stop-limit's limit price."""
    ib_type = row["type"]
    trigger = row["trigger"] if isinstance(row["trigger"], int | float) else None
    base = stored or {}
    # The mirror's prices are the newer word (an order modified in place).
    limit_price = row["lmtPrice"] if "lmtPrice" in row else base.get("limit_price")
    stop_price = row["auxPrice"] if "auxPrice" in row else base.get("stop_price")
    if limit_price is None and ib_type in LIMIT_TYPES and ib_type not in STOP_TYPES:
        limit_price = trigger  # the mirror's trigger is the limit price of a limit order
    if stop_price is None and ib_type in STOP_TYPES:
        stop_price = trigger  # and the stop price of a stop-like one
    return {
        "perm_id": row["permId"],
        "order_ref": row.get("orderRef") or "",
        "symbol": row["symbol"],
        "con_id": row.get("conId") or base.get("con_id"),
        "sec_type": row.get("secType") or base.get("sec_type") or "",
        "action": row["action"],
        "order_type": ib_type,
        "status": row["status"],
        "quantity": row["quantity"],
        "filled": row.get("filled") or 0,
        "limit_price": limit_price,
        "stop_price": stop_price,
        "avg_fill_price": base.get("avg_fill_price"),
        "tif": row.get("tif") or base.get("tif") or "",
        "parent_perm_id": row.get("parentPermId"),
        "placed_at": base.get("placed_at"),
        "updated_at": base.get("updated_at"),
        "finished_at": None,
        "trail_percent": row.get("trailingPercent"),
        "trail_stop_price": row.get("trailStopPrice"),
        "outside_rth": bool(row.get("outsideRth")),
        "oca_group": row.get("ocaGroup") or "",
        "worked": bool(base.get("worked")) or _spelled(row["status"]) == "SUBMITTED",
    }


# A replaced order's fields (v2api.models.OrderReplacement.before), as records have them.
REPLACED_FIELDS = ("quantity", "limit_price", "stop_price", "trail_percent", "tif", "order_ref")


def replaced_fields(record: dict[str, Any]) -> dict[str, Any]:
    """What a replacement keeps of the order it replaces (JSON: floats, text)."""
    return {
        name: float(record[name]) if isinstance(record.get(name), Decimal) else record.get(name)
        for name in REPLACED_FIELDS
    }


def record_replaced(
    record: dict[str, Any], *, revision: int, before: dict[str, Any], replaced_at: dt.datetime
) -> dict[str, Any]:
    """The order as it stood at ``revision``, replaced at ``replaced_at``:
    its fields then, its fills and times as IB's one order has them."""
    return {
        **record,
        **{name: before.get(name) for name in REPLACED_FIELDS if name in before},
        "revision": revision,
        "replaced_at": replaced_at,
        "updated_at": replaced_at,
    }


def order_classes(records: list[dict[str, Any]]) -> dict[int, tuple[str, list[int]]]:
    """Each linked order's class and, for the primary one, its legs' permIds:
    a parent with its children (a bracket with two, an oto with one; its
    children are in the same class, with no legs of their own), or the orders
    of one OCA group (oco: the first placed is the primary).  Orders linked to
    none of ``records`` are simple and are not in the answer."""
    children: dict[int, list[int]] = {}
    groups: dict[str, list[int]] = {}
    for record in records:
        parent = record.get("parent_perm_id")
        if parent:
            children.setdefault(int(parent), []).append(int(record["perm_id"]))
        elif record.get("oca_group"):
            groups.setdefault(record["oca_group"], []).append(int(record["perm_id"]))
    known = {int(r["perm_id"]) for r in records}
    classes: dict[int, tuple[str, list[int]]] = {}
    for parent, legs in children.items():
        order_class = "bracket" if len(legs) > 1 else "oto"
        if parent in known:
            classes[parent] = (order_class, sorted(legs))
        for leg in legs:
            classes[leg] = (order_class, [])
    for members in groups.values():
        if len(members) > 1:
            primary, *legs = sorted(members)
            classes[primary] = ("oco", legs)
            classes.update({leg: ("oco", []) for leg in legs})
    return classes


def orders_out(
    records: list[dict[str, Any]], *, now: dt.datetime, nested: bool
) -> list[dict[str, Any]]:
    """Alpaca's order objects of ``records``, in their order, with their
    classes; ``nested``: the legs of a linked order rolled up into its
    primary's ``legs`` (and not listed on their own).  A replaced revision
    (``record_replaced``) is listed with its order's class, without legs: the
    legs belong to the order as it is."""
    current = [r for r in records if r.get("replaced_at") is None]
    classes = order_classes(current)
    by_perm_id = {int(r["perm_id"]): r for r in current}
    rolled_up = {leg for _, legs in classes.values() for leg in legs} if nested else set()
    out = []
    for record in records:
        perm_id = int(record["perm_id"])
        if perm_id in rolled_up:
            continue
        order_class, legs = classes.get(perm_id, ("simple", []))
        leg_objects = None
        if record.get("replaced_at") is not None:
            legs = []
        if nested and legs:
            leg_objects = [
                order_out(by_perm_id[leg], now=now, order_class=order_class) for leg in legs
            ]
        out.append(order_out(record, now=now, order_class=order_class, legs=leg_objects))
    return out


def parents_linked(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The mirror's working orders with each child's parentPermId: IB reports
    a working child's parent by its order id (parentId, per client), its
    permId only once the child is completed."""
    perm_ids = {(r.get("clientId"), r.get("orderId")): r.get("permId") for r in rows}
    linked = []
    for row in rows:
        parent = perm_ids.get((row.get("clientId"), row.get("parentId")))
        if row.get("parentId") and not row.get("parentPermId") and parent:
            row = {**row, "parentPermId": parent}
        linked.append(row)
    return linked
