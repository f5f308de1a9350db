"""The order types the simulator works and their rules: which prices each
needs, when a conditional one triggers, how a trailing stop ratchets, and
which ones wait for the closing auction.  Pure rules on an order and the
last price; the matching applies them (ibsim.matching).

- MKT, LMT: at once (LMT within its limit).
- STP, STP LMT: a SELL triggers when the last trades at or below auxPrice
  (a BUY at or above), then works as MKT / LMT at lmtPrice.
- TRAIL, TRAIL LIMIT: a stop that follows the market: for a SELL,
  trailStopPrice = the highest last since placement less the trailing amount
  (auxPrice) or percent (trailingPercent); for a BUY the lowest last plus
  it.  It only ever moves in the order's favour; each move is reported in
  openOrder.  A client's trailStopPrice is the starting stop.  Triggered like
  a stop, a TRAIL works as MKT, a TRAIL LIMIT as LMT at the stop less
  lmtPriceOffset (SELL; plus it for a BUY).
- MIT, LIT: touched orders: a SELL triggers when the last trades at or above
  auxPrice (a BUY at or below), then works as MKT / LMT at lmtPrice.
- MOC, LOC: for the closing auction (16:00, 13:00 on an early close) at the
  closing price, the last; an LOC only when its limit allows; what the
  auction does not fill expires with the day.  DAY only.
- MOO / LOO: MKT / LMT with TIF OPG (ibsim.tif, the opening auction).
Triggers use the last price (IB's default trigger method for US stocks)."""

from __future__ import annotations

import math
from typing import Any

from ibsim.quotes import on_tick
from ibsim.records import Order

SUPPORTED = ("MKT", "LMT", "STP", "STP LMT", "TRAIL", "TRAIL LIMIT", "MIT", "LIT", "MOC", "LOC")
TRAILING = ("TRAIL", "TRAIL LIMIT")
TOUCHED = ("MIT", "LIT")
CONDITIONAL = ("STP", "STP LMT", *TRAILING, *TOUCHED)  # wait for a trigger
CLOSING_AUCTION = ("MOC", "LOC")
NO_LIMIT = ("MKT", "STP", "TRAIL", "MIT", "MOC")  # fill at the market once working
LIMIT_NEEDED = ("LMT", "STP LMT", "LIT", "LOC")
TRIGGER_NEEDED = ("STP", "STP LMT", "MIT", "LIT")


def reject_reason(spec: dict[str, Any]) -> str | None:
    """Why IB would refuse the order's type or prices (error 201), or None.
    Prices on the tick are checked by the book (error 110)."""
    kind = spec["order_type"]
    if kind not in SUPPORTED:
        return f"Order type {kind} is not supported by the simulator."
    if kind in LIMIT_NEEDED and not _positive(spec.get("lmt_price")):
        return "The limit price is missing."
    if kind in TRIGGER_NEEDED and not _positive(spec.get("aux_price")):
        return "The stop price is missing." if "STP" in kind else "The trigger price is missing."
    if kind in TRAILING:
        if not (_positive(spec.get("aux_price")) or _positive(spec.get("trailing_percent"))):
            return "The trailing amount or trailing percent is missing."
        if kind == "TRAIL LIMIT" and not _positive(_limit_offset(spec)):
            return "The limit price offset is missing."
    if kind in CLOSING_AUCTION and (spec.get("tif") or "DAY") != "DAY":
        return f"{kind} orders must be DAY orders."
    return None


def _positive(value: float | None) -> bool:
    return value is not None and math.isfinite(value) and value > 0


def _limit_offset(spec: dict[str, Any]) -> float | None:
    """lmtPriceOffset, or the distance between a trailStopPrice and a lmtPrice
    sent together (the other way IB takes a TRAIL LIMIT)."""
    offset = spec.get("lmt_price_offset")
    if offset is not None and _positive(offset):
        return float(offset)
    stop, limit = spec.get("trail_stop_price"), spec.get("lmt_price")
    if stop is not None and limit is not None and _positive(stop) and _positive(limit):
        return round(abs(float(stop) - float(limit)), 4)
    return None


def set_trailing(order: Order, spec: dict[str, Any], last: float) -> None:
    """A new or modified trailing order: its amount, percent, offset and its
    starting stop (the client's trailStopPrice, else from the last price)."""
    if order.order_type not in TRAILING:
        order.trail_stop_price = order.trailing_percent = order.lmt_price_offset = None
        return
    order.trailing_percent = None if _positive(order.aux_price) else spec.get("trailing_percent")
    order.lmt_price_offset = _limit_offset(spec) if order.order_type == "TRAIL LIMIT" else None
    start = spec.get("trail_stop_price")
    order.trail_stop_price = None
    if start is not None and _positive(start):
        order.trail_stop_price = on_tick(float(start))
        _set_trail_limit(order)
    else:
        ratchet(order, last)


def _distance(order: Order, last: float) -> float:
    if order.trailing_percent:
        return last * order.trailing_percent / 100
    return order.aux_price or 0.0


def ratchet(order: Order, last: float) -> bool:
    """Move a trailing stop with the market (only in the order's favour);
    True when it moved."""
    if order.order_type not in TRAILING or order.triggered:
        return False
    sell = order.action == "SELL"
    candidate = on_tick(last - _distance(order, last) if sell else last + _distance(order, last))
    stop = order.trail_stop_price
    if stop is not None and (candidate <= stop if sell else candidate >= stop):
        return False
    order.trail_stop_price = candidate
    _set_trail_limit(order)
    return True


def _set_trail_limit(order: Order) -> None:
    if order.order_type == "TRAIL LIMIT" and order.trail_stop_price is not None:
        offset = order.lmt_price_offset or 0.0
        sign = -1 if order.action == "SELL" else 1
        order.lmt_price = on_tick(order.trail_stop_price + sign * offset)


def crossed(order: Order, last: float) -> bool:
    """Whether the last price triggers the conditional order."""
    buy = order.action == "BUY"
    if order.order_type in TOUCHED:
        touch = order.aux_price or 0.0
        return last <= touch if buy else last >= touch
    stop = order.trail_stop_price if order.order_type in TRAILING else order.aux_price
    stop = stop or 0.0
    return last >= stop if buy else last <= stop


def limit_of(order: Order) -> float | None:
    """The limit a working order fills within (None: at the market)."""
    return None if order.order_type in NO_LIMIT else (order.lmt_price or 0.0)
