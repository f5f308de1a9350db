"""Pure: Alpaca's order requests in IB's terms, written once (unit-tested in
tests/unit/test_v2_ib_orders.py).  An Alpaca order (a validated
v2api.serializers.AlpacaOrder) becomes the ``kind`` and ``data`` that
trading.services.order_place takes, and the worker builds IB's orders from
(trading.gateway.order_building).

| Alpaca                                   | IB                                           |
| ---------------------------------------- | -------------------------------------------- |
| market, limit, stop, stop_limit          | MKT, LMT, STP, STP LMT                       |
| trailing_stop + trail_price / _percent   | TRAIL, auxPrice (amount) / trailingPercent   |
| time_in_force day, gtc, ioc, fok         | tif DAY, GTC, IOC, FOK                       |
| time_in_force opg (market, limit)        | MKT / LMT with tif OPG (the opening auction) |
| time_in_force cls (market, limit)        | MOC / LOC, tif DAY (the closing auction)     |
| extended_hours (limit, day)              | outsideRth                                   |
| bracket: entry, take_profit, stop_loss   | parent + 2 children (transmit on the last)   |
| oto: entry and one exit                  | parent + 1 child                             |
| oco: take_profit + stop_loss             | two orders in one OCA group (ocaType 1)      |
"""

from __future__ import annotations

from typing import Any

# Alpaca's time in force -> IB's; cls is an order type at IB (ON_CLOSE).
TIME_IN_FORCE = {"day": "DAY", "gtc": "GTC", "opg": "OPG", "ioc": "IOC", "fok": "FOK"}
# Alpaca's type with time in force cls -> the kind of IB's closing-auction order.
ON_CLOSE = {"market": "market_on_close", "limit": "limit_on_close"}
# IB's time in force of an on-close order (MOC and LOC are DAY orders).
ON_CLOSE_TIF = "DAY"
# Alpaca's types are trading.services' kinds of a single order.
KINDS = ("market", "limit", "stop", "stop_limit", "trailing_stop")
PRICES = ("limit_price", "stop_price", "trail_price", "trail_percent")


def single_kind(order_type: str, time_in_force: str) -> tuple[str, str]:
    """The kind and IB's time in force of a single order of Alpaca's
    ``order_type`` and ``time_in_force`` (the serializers allow cls for
    market and limit orders only)."""
    if time_in_force == "cls":
        return ON_CLOSE[order_type], ON_CLOSE_TIF
    if order_type not in KINDS:
        raise ValueError(f"unknown order type {order_type!r}")
    return order_type, TIME_IN_FORCE[time_in_force]


def order_request(order: dict[str, Any], *, order_ref: str) -> tuple[str, dict[str, Any]]:
    """The kind and data of trading.services.order_place for a validated
    Alpaca order."""
    order_class = order.get("order_class") or "simple"
    data: dict[str, Any] = {
        "symbol": order["symbol"],
        "action": order["side"].upper(),
        "quantity": order["qty"],
        "order_ref": order_ref,
    }
    if order_class == "oco":
        # Exits of a position held: a take-profit and a stop-loss, one OCA group.
        data["tif"] = TIME_IN_FORCE[order["time_in_force"]]
        _exits(order, data)
        return "oco", data
    kind, tif = single_kind(order["type"], order["time_in_force"])
    data["tif"] = tif
    data.update({name: order[name] for name in PRICES if name in order})
    if order.get("extended_hours"):
        data["outside_rth"] = True
    if order_class == "simple":
        return kind, data
    data["entry"] = kind
    _exits(order, data)
    return order_class, data


def _exits(order: dict[str, Any], data: dict[str, Any]) -> None:
    take_profit, stop_loss = order.get("take_profit"), order.get("stop_loss")
    if take_profit:
        data["take_profit"] = take_profit["limit_price"]
    if stop_loss:
        data["stop_loss"] = stop_loss["stop_price"]
        if stop_loss.get("limit_price") is not None:
            data["stop_loss_limit"] = stop_loss["limit_price"]


# trading.gateway.order_building's IB order types, by kind (the web never imports it).
IB_TYPES = {
    "market": "MKT",
    "limit": "LMT",
    "stop": "STP",
    "stop_limit": "STP LMT",
    "trailing_stop": "TRAIL",
    "market_on_close": "MOC",
    "limit_on_close": "LOC",
}
EXITS = {"BUY": "SELL", "SELL": "BUY"}


def requested_records(
    kind: str,
    data: dict[str, Any],
    perm_ids: list[int],
    *,
    placed_at: Any,
    con_ids: list[int | None] | None = None,
) -> list[dict[str, Any]]:
    """The orders of a request as v2api.mapping's records, in the order the
    worker sent them (the permIds' order), as requested and acknowledged by IB
    (status not known yet): the answer for orders neither the mirror nor the
    journal has yet.  ``con_ids``: each order's conId, as the worker
    qualified the stock (trading.services.Placed)."""

    def record(ib_type: str, action: str, **prices: Any) -> dict[str, Any]:
        return {
            "order_ref": data["order_ref"],
            "symbol": data["symbol"],
            "sec_type": "STK",  # the worker places stocks (trading.gateway.orders)
            "action": action,
            "order_type": ib_type,
            "status": "",
            "quantity": data["quantity"],
            "filled": 0,
            "avg_fill_price": None,
            "tif": data.get("tif") or "DAY",
            "parent_perm_id": None,
            "placed_at": placed_at,
            "updated_at": None,
            "finished_at": None,
            "outside_rth": bool(data.get("outside_rth")),
            "limit_price": prices.get("limit_price"),
            "stop_price": prices.get("stop_price"),
            "trail_percent": prices.get("trail_percent"),
        }

    def stop_loss(action: str) -> dict[str, Any]:
        limit = data.get("stop_loss_limit")
        ib_type = "STP" if limit is None else "STP LMT"
        return record(ib_type, action, stop_price=data["stop_loss"], limit_price=limit)

    action = data["action"]
    if kind == "oco":
        records = [
            record("LMT", action, limit_price=data["take_profit"]),
            stop_loss(action),
        ]
        for item in records:
            item["oca_group"] = f"oco-{perm_ids[0]}"  # one group (IB's name is the worker's)
    else:
        entry = record(
            IB_TYPES[data.get("entry") or kind],
            action,
            limit_price=data.get("limit_price"),
            stop_price=data.get("stop_price", data.get("trail_price")),
            trail_percent=data.get("trail_percent"),
        )
        records = [entry]
        if data.get("stop_loss") is not None:
            records.append(stop_loss(EXITS[action]))
        if data.get("take_profit") is not None:
            records.append(record("LMT", EXITS[action], limit_price=data["take_profit"]))
        for leg in records[1:]:
            leg["parent_perm_id"] = perm_ids[0]
    for n, (perm_id, item) in enumerate(zip(perm_ids, records, strict=True)):
        item["perm_id"] = perm_id
        item["con_id"] = con_ids[n] if con_ids else None
    return records


# --- replacing --------------------------------------------------------------------------

# Which IB order types have each of Alpaca's replaceable prices.
REPLACEABLE_PRICES = {
    "limit_price": ("LMT", "STP LMT", "LOC", "TRAIL LIMIT", "LIT"),
    "stop_price": ("STP", "STP LMT", "MIT", "LIT"),
    "trail": ("TRAIL", "TRAIL LIMIT"),
}
ON_CLOSE_TYPES = ("MOC", "LOC")


def replacement_refusal(record: dict[str, Any], changes: dict[str, Any]) -> str:
    """Why Alpaca's replacement ``changes`` (qty, time_in_force, limit_price,
    stop_price, trail) cannot apply to this working order ("" if they can)."""
    ib_type = (record.get("order_type") or "").upper()
    for name, types in REPLACEABLE_PRICES.items():
        if changes.get(name) is not None and ib_type not in types:
            return f"{name} does not apply to this order (IB type {ib_type})"
    qty = changes.get("qty")
    if qty is not None and float(qty) <= float(record.get("filled") or 0):
        return f"qty must exceed the quantity filled ({float(record.get('filled') or 0):g})"
    tif = changes.get("time_in_force")
    if tif is not None and (tif == "cls" or ib_type in ON_CLOSE_TYPES):
        return "time_in_force cls is an order type at IB: cancel and place the order anew"
    return ""


def replacement_changes(record: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Alpaca's replacement ``changes`` in IB's terms (trading.services.order_modify);
    ``replacement_refusal`` has passed."""
    ib: dict[str, Any] = {}
    if changes.get("qty") is not None:
        ib["quantity"] = changes["qty"]
    for name in ("limit_price", "stop_price"):
        if changes.get(name) is not None:
            ib[name] = changes[name]
    if changes.get("trail") is not None:
        by_percent = record.get("trail_percent") is not None
        ib["trail_percent" if by_percent else "trail_price"] = changes["trail"]
    if changes.get("time_in_force") is not None:
        ib["tif"] = TIME_IN_FORCE[changes["time_in_force"]]
    return ib


def replaced_order(record: dict[str, Any], ib_changes: dict[str, Any]) -> dict[str, Any]:
    """The order as the replacement makes it, in trading.risk.limits_check's
    terms (symbol, quantity, prices): judged as a new order."""
    prices = {name: record.get(name) for name in ("limit_price", "stop_price")}
    prices.update({k: v for k, v in ib_changes.items() if k in prices})
    return {
        "symbol": record["symbol"],
        "quantity": ib_changes.get("quantity", record["quantity"]),
        **prices,
    }
