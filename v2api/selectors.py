"""/v2's reads: the account, positions and working orders from the state
mirror (trading.selectors, trading.mirror: 503 while the gateway is away),
finished orders from the journal's orders table (so order history survives
gateway restarts and answers while the gateway is down), shaped by the pure
mappings of v2api.mapping and v2api.portfolio.

An order's asset id is derived from its contract's conId (v2api.ids), which
every source carries except the journal's rows stored before conIds were
kept: ``con_ids_filled`` gives those their symbol's stock conId."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from journal import selectors as journal_selectors
from journal.models import Order
from journal.vocabulary import FINISHED_STATUSES, WORKING_STATUSES
from trading import mirror
from trading import selectors as trading_selectors
from trading.exceptions import GatewayUnavailable
from trading.models import TradingControl
from trading.wire import MIRROR_PREFIX
from v2api import mapping, portfolio, selectors_market
from v2api.exceptions import OrderNotReplaceable, OrderUnknown, PositionNotFound
from v2api.ids import order_uuid, parse_order
from v2api.models import ClientOrderId, OrderReplacement

# Alpaca's side -> IB's actions (a short sale is a sell).
ACTIONS = {"buy": ["BUY"], "sell": ["SELL", "SSHORT"]}


def _halted() -> bool:
    return TradingControl.objects.filter(halted=True).exists()


def account_get() -> dict[str, Any]:
    """The account and its long/short market values, in one read of the mirror."""
    account, extra = mirror.read_optional("account", MIRROR_PREFIX + "positions")
    if account is None:
        raise GatewayUnavailable()
    positions = extra[MIRROR_PREFIX + "positions"] or []
    return portfolio.account_out(account, positions, halted=_halted())


def account_configuration_get() -> dict[str, Any]:
    account: dict[str, Any] = mirror.read("account")
    return portfolio.configuration_out(account, halted=_halted())


def positions_list() -> list[dict[str, Any]]:
    rows = (portfolio.position_out(row) for row in trading_selectors.positions_list())
    return [row for row in rows if row is not None]


def position_get(*, symbol_or_asset_id: str) -> dict[str, Any]:
    try:
        key = str(uuid.UUID(symbol_or_asset_id))
    except ValueError:
        key = symbol_or_asset_id.upper()
    for row in positions_list():
        if key in (row["symbol"], row["asset_id"]):
            return row
    raise PositionNotFound()


# --- orders ------------------------------------------------------------------------------


def con_ids_filled(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records, each with a conId: one without (a journal row stored
    before conIds were kept) takes its symbol's stock conId, from a stock
    record of the same answer, else from the newest stock order of that
    symbol the journal stored with one (one query, only when some record
    has none).  Never a guess: with no conId known anywhere it keeps None
    (the order's asset_id is null, unknown)."""
    missing = {r["symbol"] for r in records if not r.get("con_id")}
    if not missing:
        return records
    known = {
        r["symbol"]: r["con_id"] for r in records if r.get("con_id") and r.get("sec_type") == "STK"
    }
    if missing - known.keys():
        known.update(journal_selectors.stock_con_ids(symbols=missing - known.keys()))
    for record in records:
        if not record.get("con_id"):
            record["con_id"] = known.get(record["symbol"])
    return records


def _stored(perm_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The journal's records of these orders, by permId."""
    if not perm_ids:
        return {}
    rows = Order.objects.filter(perm_id__in=perm_ids).values(*mapping.JOURNAL_FIELDS)
    return {row["perm_id"]: mapping.record_from_journal(row) for row in rows}


# A bracket's or oto's children are placed with their parent, in one go.
CHILDREN_PLACED_WITHIN = dt.timedelta(minutes=1)


def _children(parents: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """The journal's records of the children of these (journal) orders, and
    of the other orders of their OCA groups (an oco's other leg): one query on
    the indexed symbol and placing time (parent_perm_id and oca_group have no
    index)."""
    match = Q(pk__in=[])
    for parent in parents:
        if parent.get("placed_at") is None:
            continue
        linked = Q(parent_perm_id=parent["perm_id"])
        if parent.get("oca_group"):
            linked |= Q(oca_group=parent["oca_group"])
        match |= Q(
            linked,
            symbol=parent["symbol"],
            placed_at__range=(
                parent["placed_at"] - CHILDREN_PLACED_WITHIN,
                parent["placed_at"] + CHILDREN_PLACED_WITHIN,
            ),
        )
    rows = Order.objects.filter(match).values(*mapping.JOURNAL_FIELDS)
    return {row["perm_id"]: mapping.record_from_journal(row) for row in rows}


def working_records(*, client_id: int | None = None) -> list[dict[str, Any]]:
    """Records of the mirror's working orders (of one IB client id), over what
    the journal stored of them, with their revision and state."""
    return _annotated(_working(client_id=client_id))


def _working(*, client_id: int | None = None) -> list[dict[str, Any]]:
    rows = mapping.parents_linked(trading_selectors.orders_list())
    if client_id is not None:
        rows = [row for row in rows if row["clientId"] == client_id]
    stored = _stored([row["permId"] for row in rows])
    return [mapping.record_from_mirror(row, stored.get(row["permId"])) for row in rows]


def _annotated(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records with what the order's status needs beyond IB's: their
    revision and a replacement in flight (``_revised``), and whether a
    working one is done for the day (``_days_done``)."""
    return _days_done(_revised(records))


REPLACEMENT_GRACE_S = 5.0


def _replacement_window() -> dt.timedelta:
    """How long a replacement may wait for IB's acknowledgement: by then IB
    made it (the order carries its client_order_id) or the request failed."""
    return dt.timedelta(seconds=settings.ORDER_ACK_TIMEOUT + REPLACEMENT_GRACE_S)


def _revised(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records with their revision (v2api.models.OrderReplacement): a
    replacement counts once IB acknowledged it, or once the order carries its
    client_order_id (IB made it though its answer was lost).  One still
    waiting for IB's acknowledgement marks its order ``replacing``
    (pending_replace).  One query."""
    perm_ids = {r["perm_id"] for r in records}
    if not perm_ids:
        return records
    rows = OrderReplacement.objects.filter(perm_id__in=perm_ids).values_list(
        "perm_id", "revision", "client_order_id", "confirmed", "created_at"
    )
    refs = {r["perm_id"]: r.get("order_ref") for r in records}
    recent = timezone.now() - _replacement_window()
    revisions: dict[int, int] = {}
    replacing: set[int] = set()
    for perm_id, revision, client_order_id, confirmed, created_at in rows:
        if confirmed or refs.get(perm_id) == client_order_id:
            revisions[perm_id] = max(revisions.get(perm_id, 0), revision)
        elif created_at > recent:
            replacing.add(perm_id)
    for record in records:
        record["revision"] = revisions.get(record["perm_id"], 0)
        record["replacing"] = record["perm_id"] in replacing
    return records


def _days_done(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mark the working orders that are done for the day
    (mapping.done_for_day), on the gateway's clock (the mirror's market
    section; unknown: none is)."""
    working = [r for r in records if mapping.is_working(r["status"])]
    if not working:
        return records
    known = selectors_market.gateway_now()
    if known is None:
        return records
    now, calendar = known
    closed = calendar.closed_since(now) is not None
    for record in working:
        record["day_done"] = mapping.done_for_day(record, market_closed=closed)
    return records


def _journal_page(
    *,
    closed_only: bool,
    limit: int,
    filters: dict[str, Any],
    newest_first: bool,
    among: Any = None,
) -> list[dict[str, Any]]:
    """The journal's orders within ``filters`` (``among``: a query of the
    permIds to pick from), the first ``limit`` by placing time."""
    rows = Order.objects.all()
    if among is not None:
        rows = rows.filter(perm_id__in=among)
    if closed_only:
        rows = rows.filter(status__in=FINISHED_STATUSES)
    if filters.get("after"):
        rows = rows.filter(placed_at__gt=filters["after"])
    if filters.get("until"):
        rows = rows.filter(placed_at__lt=filters["until"])
    if filters.get("symbols"):
        rows = rows.filter(symbol__in=filters["symbols"])
    if filters.get("side"):
        rows = rows.filter(action__in=ACTIONS[filters["side"]])
    order = ("-placed_at", "-perm_id") if newest_first else ("placed_at", "perm_id")
    page = rows.order_by(*order).values(*mapping.JOURNAL_FIELDS)[:limit]
    return [mapping.record_from_journal(row) for row in page]


def _matches(record: dict[str, Any], filters: dict[str, Any], now: dt.datetime) -> bool:
    placed = record["placed_at"] or now
    if filters.get("after") and not placed > filters["after"]:
        return False
    if filters.get("until") and not placed < filters["until"]:
        return False
    if filters.get("symbols") and record["symbol"] not in filters["symbols"]:
        return False
    side = filters.get("side")
    return not side or record["action"].upper() in ACTIONS[side]


def orders_list(
    *,
    status: str = "open",
    limit: int = 50,
    direction: str = "desc",
    after: dt.datetime | None = None,
    until: dt.datetime | None = None,
    symbols: list[str] | None = None,
    side: str | None = None,
    nested: bool = False,
) -> list[dict[str, Any]]:
    """Alpaca's GET /v2/orders: open orders are the mirror's working orders
    (503 while the gateway is away), closed ones the journal's finished
    orders (answered without the gateway), all both, the mirror's word first."""
    now = timezone.now()
    filters = {"after": after, "until": until, "symbols": symbols, "side": side}
    newest_first = direction == "desc"
    records: list[dict[str, Any]] = []
    if status in ("open", "all"):
        records = [r for r in _working() if _matches(r, filters, now)]
    if status in ("closed", "all"):
        live = {r["perm_id"] for r in records}
        page = _journal_page(
            closed_only=status == "closed", limit=limit, filters=filters, newest_first=newest_first
        )
        # The orders that just finished, which the journal may not have stored
        # as finished yet: their final state over the journal's.
        finished = {
            r["perm_id"]: r
            for r in (mapping.record_from_finished(data, None) for data in mirror.finished_orders())
            if r["perm_id"] not in live and _matches(r, filters, now)
        }
        records += [finished.pop(r["perm_id"], r) for r in page if r["perm_id"] not in live]
        records += finished.values()
        # Each replacement closed a revision of its order (Alpaca's replaced
        # order): listed beside the order as it is now.
        records = _annotated(records) + _replaced_revisions(
            limit=limit, filters=filters, newest_first=newest_first
        )
    else:
        records = _annotated(records)

    def position(record: dict[str, Any]) -> tuple[Any, ...]:
        return (record["placed_at"] or now, record["perm_id"], record["revision"])

    records.sort(key=position, reverse=newest_first)
    return mapping.orders_out(con_ids_filled(records[:limit]), now=now, nested=nested)


def _replaced_revisions(
    *, limit: int, filters: dict[str, Any], newest_first: bool
) -> list[dict[str, Any]]:
    """The replaced revisions of the first ``limit`` orders (by placing time,
    within ``filters``) that have any: a revision shares its order's placing
    time, so the page's replaced revisions are among them.  Two queries."""
    replaced = OrderReplacement.objects.filter(confirmed=True)
    orders = _journal_page(
        closed_only=False,
        limit=limit,
        filters=filters,
        newest_first=newest_first,
        among=replaced.values("perm_id"),
    )
    if not orders:
        return []
    by_perm_id = {r["perm_id"]: r for r in orders}
    out = []
    for perm_id, revision, before, created_at in replaced.filter(
        perm_id__in=list(by_perm_id)
    ).values_list("perm_id", "revision", "before", "created_at"):
        out.append(
            mapping.record_replaced(
                by_perm_id[perm_id], revision=revision - 1, before=before, replaced_at=created_at
            )
        )
    return out


def order_get(*, order_id: str, nested: bool = False) -> dict[str, Any]:
    """One order by its id (404 for an id that names no order of IB's)."""
    perm_id, revision = order_id_check(order_id)
    return _order(perm_id, nested=nested, revision=revision)


def _records(perm_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Records of these orders and of the orders linked to them (their
    parent's children, their OCA group): the mirror's working order (when the
    gateway is there), or the one that just finished, else the journal's; one
    read of the mirror and one query (two for an order that finished and whose
    parent the mirror no longer has)."""
    live, extra = mirror.read_optional("orders", mirror.FINISHED_ORDERS)
    just_finished = {d["perm_id"]: d for d in extra[mirror.FINISHED_ORDERS] or []}
    rows = _parents_found(mapping.parents_linked(live or []), just_finished.values(), set(perm_ids))
    wanted = set(perm_ids)
    for row in rows:
        if row.get("permId") in wanted and row.get("parentPermId"):
            wanted.add(row["parentPermId"])
    groups = {r.get("ocaGroup") for r in rows if r.get("permId") in wanted} - {None, ""}
    for row in rows:
        if row.get("parentPermId") in wanted or (groups and row.get("ocaGroup") in groups):
            wanted.add(row["permId"])
    stored = _stored(sorted(wanted))
    parents = {r["parent_perm_id"] for r in stored.values() if r["parent_perm_id"]}
    if parents - wanted:
        stored.update(_stored(sorted(parents - wanted)))
    working = {row.get("permId") for row in rows}
    # Finished orders may have finished children.
    finished = [r for r in stored.values() if r["perm_id"] not in working]
    found = _children([r for r in finished if not r["parent_perm_id"]])
    stored.update({perm_id: r for perm_id, r in found.items() if perm_id not in stored})
    records = dict(stored)
    for perm_id, data in just_finished.items():  # the journal may not have stored its end yet
        if perm_id in records or perm_id in wanted:
            records[perm_id] = mapping.record_from_finished(data, stored.get(perm_id))
    for row in rows:
        if row.get("permId") in wanted or row.get("permId") in records:
            records[row["permId"]] = mapping.record_from_mirror(row, stored.get(row["permId"]))
    return records


def _parents_found(
    rows: list[dict[str, Any]], finished: Iterable[dict[str, Any]], perm_ids: set[int]
) -> list[dict[str, Any]]:
    """Working children (of ``perm_ids``) whose parent is no longer working
    (filled): its permId from the orders that just finished, else from the
    journal (a query only then)."""
    missing = {
        (r["clientId"], r["parentId"], r["symbol"])
        for r in rows
        if r.get("permId") in perm_ids and r.get("parentId") and not r["parentPermId"]
    }
    if not missing:
        return rows
    parents = {(d["client_id"], d["order_id"], d["symbol"]): d["perm_id"] for d in finished}
    if missing - set(parents):
        match = Q(pk__in=[])
        for client_id, order_id, symbol in missing - set(parents):
            # symbol first: the indexed column (client and order ids are not)
            match |= Q(symbol=symbol, client_id=client_id, order_id=order_id)
        for client_id, order_id, symbol, perm_id in (
            Order.objects.filter(match)
            .order_by("placed_at")
            .values_list("client_id", "order_id", "symbol", "perm_id")
        ):
            parents[(client_id, order_id, symbol)] = perm_id  # the newest (order ids restart)
    return [
        {**r, "parentPermId": parents.get((r["clientId"], r["parentId"], r["symbol"]))}
        if (r.get("clientId"), r.get("parentId"), r.get("symbol")) in missing
        else r
        for r in rows
    ]


def _order(perm_id: int, *, nested: bool = True, revision: int | None = None) -> dict[str, Any]:
    """One order by permId, its class and (``nested``) its legs; as it is,
    or as it stood at an older ``revision`` (replaced)."""
    records = _records([perm_id])
    if perm_id not in records:
        raise OrderUnknown()
    _annotated(list(records.values()))
    current = records[perm_id]["revision"]
    if revision is not None and revision > current:
        raise OrderUnknown()
    if revision is not None and revision < current:
        replaced_by = OrderReplacement.objects.get(perm_id=perm_id, revision=revision + 1)
        records[perm_id] = mapping.record_replaced(
            records[perm_id],
            revision=revision,
            before=replaced_by.before,
            replaced_at=replaced_by.created_at,
        )
    return _with_legs(perm_id, records, nested=nested)


def order_id_check(order_id: str) -> tuple[int, int]:
    """The permId and revision of an order id of ours (404 for any other)."""
    found = parse_order(order_id)
    if found is None:
        raise OrderUnknown()
    return found


def order_replaceable(*, perm_id: int, revision: int) -> dict[str, Any]:
    """The working order's record that a replacement of ``revision`` would
    change (its current revision): 404 for an unknown order, 422 for one that
    finished or has been replaced since."""
    records = _records([perm_id])
    if perm_id not in records:
        raise OrderUnknown()
    record = _revised([records[perm_id]])[0]
    if revision != record["revision"]:
        raise OrderNotReplaceable(
            "order has been replaced: replace the order that replaced it "
            f"({order_uuid(perm_id, record['revision'])})"
            if revision < record["revision"]
            else "order not found"
        )
    if record.get("finished_at") or record["status"] in FINISHED_STATUSES:
        raise OrderNotReplaceable("order is not open (filled, canceled or expired)")
    return record


def _with_legs(perm_id: int, records: dict[int, dict[str, Any]], *, nested: bool) -> dict[str, Any]:
    now = timezone.now()
    con_ids_filled(list(records.values()))
    order_class, legs = mapping.order_classes(list(records.values())).get(perm_id, ("simple", []))
    leg_objects = None
    if nested and legs:
        leg_objects = [
            mapping.order_out(records[leg], now=now, order_class=order_class) for leg in legs
        ]
    return mapping.order_out(records[perm_id], now=now, order_class=order_class, legs=leg_objects)


def order_get_by_client_order_id(*, client_order_id: str) -> dict[str, Any]:
    """The order with this client_order_id: one placed through /v2 (whose id
    is reserved, v2api.models), else the newest with that orderRef."""
    reserved = (
        ClientOrderId.objects.filter(client_order_id=client_order_id)
        .values_list("perm_id", flat=True)
        .first()
    )
    if reserved:
        revision = (
            OrderReplacement.objects.filter(perm_id=reserved, client_order_id=client_order_id)
            .values_list("revision", flat=True)
            .first()
        )
        return _order(reserved, revision=revision or 0)
    live, _ = mirror.read_optional("orders")
    row = next((r for r in live or [] if r.get("orderRef") == client_order_id), None)
    if row is not None:
        return _order(row["permId"])
    perm_id = (
        Order.objects.filter(order_ref=client_order_id)
        .order_by("-placed_at")
        .values_list("perm_id", flat=True)
        .first()
    )
    if perm_id is None:
        raise OrderUnknown()
    return _order(perm_id)


def order_placed(
    *, perm_ids: list[int], requests: list[dict[str, Any]], statuses: list[str]
) -> dict[str, Any]:
    """The order just placed (its first order, with its legs nested), with no
    query: the request is the base (its times, prices and links).  Orders IB
    acknowledged as working take the status it acknowledged them in (the
    answer's snapshot, as Alpaca's); for one that finished at once (a market
    order filled), one read of the mirror has its fills.  An order the
    mirror does not list yet is answered as requested (status accepted)."""
    if all(status in WORKING_STATUSES for status in statuses):
        acknowledged = {
            perm_id: {**request, "status": status}
            for perm_id, request, status in zip(perm_ids, requests, statuses, strict=True)
        }
        return _with_legs(perm_ids[0], acknowledged, nested=True)
    live, extra = mirror.read_optional("orders", mirror.FINISHED_ORDERS)
    working = {row.get("permId"): row for row in mapping.parents_linked(live or [])}
    finished = {data["perm_id"]: data for data in extra[mirror.FINISHED_ORDERS] or []}
    records: dict[int, dict[str, Any]] = {}
    for perm_id, request in zip(perm_ids, requests, strict=True):
        if perm_id in finished:
            seen = mapping.record_from_finished(finished[perm_id], request)
        elif perm_id in working:
            seen = mapping.record_from_mirror(working[perm_id], request)
        else:
            seen = {}
        record = {**request, **{k: v for k, v in seen.items() if v not in (None, "")}}
        # IB reports a held leg's links late: the request knows them.
        for link in ("parent_perm_id", "oca_group"):
            record[link] = record.get(link) or request.get(link)
        records[perm_id] = record
    return _with_legs(perm_ids[0], records, nested=True)
