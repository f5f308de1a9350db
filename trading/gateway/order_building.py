"""Pure: the IB orders (legs) of one order request, in sending order.  No
connection: unit-tested alone (tests/unit/test_order_building.py).

A request is a ``kind`` and its ``data`` (trading.services.order_place):

- a single order: ``market`` (MKT), ``limit`` (LMT), ``stop`` (STP),
  ``stop_limit`` (STP LMT), ``trailing_stop`` (TRAIL: ``trail_price`` is the
  trailing amount, IB's auxPrice, or ``trail_percent``, IB's
  trailingPercent), ``market_on_close`` (MOC), ``limit_on_close`` (LOC);
- ``bracket``: an entry, a stop-loss and a take-profit, the exits children
  of the entry (the guide's: a limit entry at ``entry_price``);
- ``oto``: an entry and one exit, its child;
- ``oco``: a take-profit and a stop-loss of the same side in one OCA group
  (exits of a position already held).

The entry of a bracket or an oto is ``entry`` (one of the single kinds above,
``limit`` when absent) at ``limit_price`` / ``entry_price`` and
``stop_price``; the stop-loss is at ``stop_loss`` (a stop limit when
``stop_loss_limit`` is given), the take-profit a limit at ``take_profit``.

Optional for every kind: ``tif`` (IB's time in force, ``DAY`` when absent),
``outside_rth`` (IB's outsideRth), ``order_ref``."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from ib_async import Order
from ib_async.util import UNSET_DOUBLE

# Single kinds -> IB's order type.
ORDER_TYPES = {
    "market": "MKT",
    "limit": "LMT",
    "stop": "STP",
    "stop_limit": "STP LMT",
    "trailing_stop": "TRAIL",
    "market_on_close": "MOC",
    "limit_on_close": "LOC",
}
# Kinds made of several orders, linked at IB (parent and children, an OCA group).
CLASSES = ("bracket", "oto", "oco")
KINDS = (*ORDER_TYPES, *CLASSES)
LIMIT_PRICED = frozenset({"LMT", "STP LMT", "LOC"})
STOP_PRICED = frozenset({"STP", "STP LMT"})
# ocaType 1: cancel the others when one fills, with block (overfill protection).
OCA_CANCEL_WITH_BLOCK = 1
EXITS = {"BUY": "SELL", "SELL": "BUY"}


def _price(value: Any) -> float | None:
    return None if value is None else float(value)


def _order(
    ib_type: str,
    action: str,
    qty: float,
    *,
    limit_price: float | None = None,
    stop_price: float | None = None,
    trail_price: float | None = None,
    trail_percent: float | None = None,
    **fields: Any,
) -> Order:
    order = Order(orderType=ib_type, action=action, totalQuantity=qty, **fields)
    if ib_type in LIMIT_PRICED:
        assert limit_price is not None, f"{ib_type} needs a limit price"
        order.lmtPrice = limit_price
    if ib_type in STOP_PRICED:
        assert stop_price is not None, f"{ib_type} needs a stop price"
        order.auxPrice = stop_price
    if ib_type == "TRAIL":
        if trail_price is not None:
            order.auxPrice = trail_price
        else:
            assert trail_percent is not None, "TRAIL needs a trailing amount or percent"
            order.trailingPercent = trail_percent
    return order


def _entry(kind: str, data: dict[str, Any], qty: float, **fields: Any) -> Order:
    limit_price = data.get("entry_price", data.get("limit_price"))
    return _order(
        ORDER_TYPES[kind],
        data["action"],
        qty,
        limit_price=_price(limit_price),
        stop_price=_price(data.get("stop_price")),
        trail_price=_price(data.get("trail_price")),
        trail_percent=_price(data.get("trail_percent")),
        **fields,
    )


def _stop_loss(data: dict[str, Any], action: str, qty: float, **fields: Any) -> Order:
    limit_price = _price(data.get("stop_loss_limit"))
    ib_type = "STP" if limit_price is None else "STP LMT"
    return _order(
        ib_type, action, qty, stop_price=float(data["stop_loss"]), limit_price=limit_price, **fields
    )


def _take_profit(data: dict[str, Any], action: str, qty: float, **fields: Any) -> Order:
    return _order("LMT", action, qty, limit_price=float(data["take_profit"]), **fields)


def build_orders(
    kind: str, data: dict[str, Any], *, account: str, next_id: Callable[[], int]
) -> list[Order]:
    """The legs of one order request, in sending order, ids rising (IB answers
    an id lower than one already used with error 103).  Linked legs go at
    once: every leg of a parent's group but the last has transmit off, so IB
    holds them until the last arrives; a leg IB refuses leaves none working
    (the desk cancels the others).  A bracket is parent, stop-loss, take-profit."""
    action, qty = data["action"], float(data["quantity"])
    common: dict[str, Any] = {
        "orderRef": data.get("order_ref") or "",
        "tif": data.get("tif") or "DAY",
        "account": account,
    }
    if data.get("outside_rth"):
        common["outsideRth"] = True
    if kind in ORDER_TYPES:
        return [_entry(kind, data, qty, orderId=next_id(), **common)]
    exit_action = EXITS[action]
    if kind == "oco":
        # Named after its first order's id: unique at IB for this client.
        first_id = next_id()
        oca = {"ocaGroup": f"oco-{first_id}", "ocaType": OCA_CANCEL_WITH_BLOCK, **common}
        # Not parent and child: both transmit (IB would hold a lone
        # transmit-off order); one IB refuses gets the other cancelled.
        take_profit = _take_profit(data, action, qty, orderId=first_id, **oca)
        stop_loss = _stop_loss(data, action, qty, orderId=next_id(), **oca)
        return [take_profit, stop_loss]
    if kind not in ("bracket", "oto"):
        raise ValueError(f"unknown order kind {kind!r}")
    entry = data.get("entry") or "limit"
    parent = _entry(entry, data, qty, orderId=next_id(), transmit=False, **common)
    child = {"parentId": parent.orderId, **common}
    legs = [parent]
    if data.get("stop_loss") is not None:
        legs.append(_stop_loss(data, exit_action, qty, orderId=next_id(), transmit=False, **child))
    if data.get("take_profit") is not None:
        legs.append(
            _take_profit(data, exit_action, qty, orderId=next_id(), transmit=False, **child)
        )
    if len(legs) != (3 if kind == "bracket" else 2):
        raise ValueError(f"a {kind} order has {len(legs) - 1} exits")
    legs[-1].transmit = True
    return legs


# --- modifications --------------------------------------------------------------------

# What a modification may change (trading.services.order_modify), in IB's terms.
CHANGES = (
    "quantity",
    "limit_price",
    "stop_price",
    "trail_price",
    "trail_percent",
    "tif",
    "order_ref",
)
PRICED = {
    "limit_price": ("LMT", "STP LMT", "LOC", "TRAIL LIMIT", "LIT"),
    "stop_price": ("STP", "STP LMT", "MIT", "LIT"),
    "trail_price": ("TRAIL", "TRAIL LIMIT"),
    "trail_percent": ("TRAIL", "TRAIL LIMIT"),
}


def change_refusal(order: Order, changes: dict[str, Any]) -> str:
    """Why ``changes`` cannot apply to this working order ("" if they can)."""
    for name, types in PRICED.items():
        if name in changes and order.orderType not in types:
            return f"{name} does not apply to an order of type {order.orderType}"
    unknown = set(changes) - set(CHANGES)
    return f"cannot change {', '.join(sorted(unknown))}" if unknown else ""


def modified(order: Order, changes: dict[str, Any]) -> Order:
    """A copy of a working order with ``changes`` applied: sent with the same
    orderId, IB modifies the order in place (its permId stays)."""
    new = copy.copy(order)
    if "quantity" in changes:
        new.totalQuantity = float(changes["quantity"])
    if "limit_price" in changes:
        new.lmtPrice = float(changes["limit_price"])
    if "stop_price" in changes:
        new.auxPrice = float(changes["stop_price"])
    if "trail_price" in changes:
        new.auxPrice, new.trailingPercent = float(changes["trail_price"]), UNSET_DOUBLE
    if "trail_percent" in changes:
        new.trailingPercent, new.auxPrice = float(changes["trail_percent"]), UNSET_DOUBLE
    if "tif" in changes:
        new.tif = str(changes["tif"])
    if "order_ref" in changes:
        new.orderRef = str(changes["order_ref"])
    new.transmit = True
    return new
