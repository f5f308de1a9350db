"""The order book: placing, modifying and cancelling orders, brackets held by
transmit=0, order warnings, the buying-power check and what-if orders, and
the seeded price walk.  Pure state, no sockets: the server feeds it requests
and forwards the events it returns to the right connections.  Built in
layers: the account's state (ibsim.ledger), matching and fills
(ibsim.matching), sessions and expiries (ibsim.session_events)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from ibsim import order_types, order_warnings, sessions, tif
from ibsim.margin import Impact
from ibsim.records import (
    ACTIVE,
    WALK_BAND,
    Event,
    Order,
    OrderEvent,
    QuoteEvent,
    RejectError,
)
from ibsim.session_events import SessionEvents
from ibsim.universe import CONTRACTS


@dataclass
class WhatIf:
    """A what-if order's answer: the order as IB would take it, what it would
    do to the account, and the warnings it draws."""

    order: Order
    impact: Impact
    warnings: list[tuple[int, str]]


class Book(SessionEvents):
    # --- prices --------------------------------------------------------

    def step_walk(self) -> list[str]:
        """One step of each symbol's seeded, mean-reverting walk, bounded to
        +/-2% of its start price; each move prints a trade there.  Returns the
        symbols whose price changed.  Quotes do not move while the market is
        closed."""
        changed: list[str] = []
        if self.market_session == sessions.CLOSED:
            return changed
        for symbol, start in self.start_prices.items():
            rng = self.rngs.setdefault(symbol, random.Random(self.seed))
            price = self.quotes[symbol].last
            drift = 0.1 * (start - price)
            shock = rng.gauss(0.0, start * 0.0015)
            new = min(max(price + drift + shock, start * (1 - WALK_BAND)), start * (1 + WALK_BAND))
            new = round(new, 2)
            if new != price:
                self.quotes.trade(symbol, new)
                changed.append(symbol)
        return changed

    def set_price(self, symbol: str, price: float) -> list[Event]:
        """A trade prints at `price`; the quote follows (see ibsim.quotes)."""
        symbol = self._symbol(symbol)
        self.quotes.trade(symbol, price)
        return [QuoteEvent([symbol]), *self.match(symbol)]

    def set_quote(self, symbol: str, **quote: Any) -> list[Event]:
        symbol = self._symbol(symbol)
        self.quotes.set_quote(symbol, **quote)
        return [QuoteEvent([symbol]), *self.match(symbol)]

    def set_liquidity(self, symbol: str, shares: int | None) -> list[Event]:
        """The size of each of the symbol's price levels (None: the default)."""
        symbol = self._symbol(symbol)
        self.quotes.set_liquidity(symbol, shares)
        return [QuoteEvent([symbol]), *self.match(symbol)]

    def reset_prices(self) -> list[Event]:
        """Every symbol back at its start price (a fresh day)."""
        self.quotes.reset(self.start_prices)
        symbols = list(self.start_prices)
        events: list[Event] = [QuoteEvent(symbols)]
        for symbol in symbols:
            events += self.match(symbol)
        return events

    # --- orders ---------------------------------------------------------

    def parent_perm_id(self, order: Order) -> int:
        if not order.parent_id:
            return 0
        parent = self.orders.get((order.client_id, order.parent_id))
        return parent.perm_id if parent else 0

    def visible_orders(self, client_id: int, everyone: bool) -> list[Order]:
        return [
            o
            for o in self.live_orders()
            if o.status in ACTIVE and not o.held and (everyone or o.client_id == client_id)
        ]

    def completed_orders(self) -> list[Order]:
        return [o for o in self.orders.values() if o.done]

    def place(self, client_id: int, spec: dict[str, Any]) -> list[Event]:
        """A placeOrder message: a new order, or a modification of an existing one."""
        self.place_messages += 1
        order_id = int(spec["order_id"])
        existing = self.orders.get((client_id, order_id))
        if existing is not None:
            return self._modify(existing, spec)
        if order_id < self.next_valid_id(client_id):
            # Below the next valid id and not a working order of this client: used before.
            raise RejectError(103, "Duplicate order id")
        self.next_ids[client_id] = max(self.next_valid_id(client_id), order_id + 1)
        self.orders_total += 1
        ref = spec.get("order_ref") or ""
        self.orders_by_ref[ref] = self.orders_by_ref.get(ref, 0) + 1
        if self.reject_next is not None:
            reason, self.reject_next = self.reject_next, None
            raise RejectError(201, f"Order rejected - reason:{reason}")
        self._validate(spec)
        order = self._new_order(client_id, spec, self.allocate_perm_id())
        order_types.set_trailing(order, spec, self.quotes[order.symbol].last)
        if order.parent_id and (client_id, order.parent_id) not in self.orders:
            raise RejectError(201, "Order rejected - reason:Parent order is not found.")
        if not order.parent_id:  # a child only closes what its parent opens
            impact = self.order_impact(order.symbol, order.action, order.quantity)
            if impact.rejected:
                raise RejectError(201, impact.reason())
        self.add_order(order)
        self._warn(order, spec)
        self.set_expiry(order)
        if not order.transmit:
            order.held = True
            self.save()
            return []
        events: list[Event] = []
        for leg in self._group_of(order):
            events.append(self._release(leg))
        if order.oca_group and self._oca_filled(order):
            # A member of its group has filled already: the group is done.
            self._finish(order, "Cancelled")
            events.append(
                OrderEvent(order, error=(202, "Order Canceled - reason:OCA group filled"))
            )
        events += self.match(order.symbol)
        self.save()
        return events

    def _new_order(self, client_id: int, spec: dict[str, Any], perm_id: int) -> Order:
        return Order(
            order_id=int(spec["order_id"]),
            client_id=client_id,
            perm_id=perm_id,
            symbol=spec["symbol"],
            action=spec["action"],
            quantity=float(spec["quantity"]),
            order_type=spec["order_type"],
            lmt_price=spec.get("lmt_price"),
            aux_price=spec.get("aux_price"),
            tif=spec.get("tif") or "DAY",
            oca_group=spec.get("oca_group") or "",
            oca_type=int(spec.get("oca_type") or 0),
            account=spec.get("account") or self.account,
            order_ref=spec.get("order_ref") or "",
            transmit=bool(spec.get("transmit", True)),
            parent_id=int(spec.get("parent_id") or 0),
            outside_rth=bool(spec.get("outside_rth")),
            good_till_date=spec.get("good_till_date") or "",
        )

    def what_if(self, client_id: int, spec: dict[str, Any]) -> WhatIf:
        """A placeOrder with whatIf: the order checked as a new one and what it
        would do to the account, at the market; no order is created (its id
        counts as used)."""
        self.place_messages += 1
        order_id = int(spec["order_id"])
        self.next_ids[client_id] = max(self.next_valid_id(client_id), order_id + 1)
        self._validate(spec)
        order = self._new_order(client_id, spec, perm_id=0)
        order.status = "PreSubmitted"
        warnings = self._warnings(order, spec, ordered=False)
        return WhatIf(
            order, self.order_impact(order.symbol, order.action, order.quantity), warnings
        )

    def _warn(self, order: Order, spec: dict[str, Any]) -> None:
        """Queue the warnings an accepted new order draws (sent before its
        first openOrder)."""
        warnings = self._warnings(order, spec, ordered=True)
        if warnings:
            self.pending_warnings[order.key] = warnings

    def _warnings(self, order: Order, spec: dict[str, Any], ordered: bool) -> list[tuple[int, str]]:
        """IB's own warnings on a new order (empty TIF, outsideRth ignored, not
        placed until the market opens), then, when `ordered`, the one ordered
        by warn_next_order."""
        codes = order_warnings.automatic(order.order_type, spec.get("tif") or "", order.outside_rth)
        if order_warnings.OUTSIDE_RTH_IGNORED in codes:
            order.outside_rth = False  # ignored: the openOrder no longer carries it
        now = self.now()
        waits = order.tif != tif.OPG and not self._in_session(order)
        if waits:
            codes.append(order_warnings.ORDER_MESSAGE)  # held until its session starts
        if ordered:
            if self.warn_next is not None and self.warn_next not in codes:
                codes.append(self.warn_next)
            self.warn_next = None
        until = tif.starts_working(order.tif, order.outside_rth, now) if waits else None
        facts = order_warnings.OrderFacts(
            action=order.action,
            quantity=order.quantity,
            symbol=order.symbol,
            exchange=spec.get("exchange") or "",
            primary_exchange=CONTRACTS[order.symbol].primary_exchange,
        )
        return [(code, order_warnings.text(code, facts, now=now, until=until)) for code in codes]

    def _release(self, leg: Order) -> OrderEvent:
        """A leg starts working: its first openOrder, after its warnings."""
        leg.held = False
        self._activate(leg)
        return OrderEvent(leg, warnings=self.pending_warnings.pop(leg.key, []))

    def _oca_filled(self, order: Order) -> bool:
        return any(
            o is not order
            and o.client_id == order.client_id
            and o.oca_group == order.oca_group
            and o.status == "Filled"
            for o in self.orders.values()
        )

    def _validate(self, spec: dict[str, Any]) -> None:
        if spec["action"] not in ("BUY", "SELL"):
            raise RejectError(201, f"Order rejected - reason:Invalid action {spec['action']!r}")
        qty = spec["quantity"]
        if qty is None or not math.isfinite(qty) or qty <= 0 or qty != int(qty):
            raise RejectError(201, "Order rejected - reason:The order size must be positive.")
        kind = spec["order_type"]
        reason = order_types.reject_reason(spec)
        if reason is not None:
            raise RejectError(201, f"Order rejected - reason:{reason}")
        for name in ("lmt_price", "aux_price", "trail_stop_price", "lmt_price_offset"):
            value = spec.get(name)
            if value is None or not math.isfinite(value) or value <= 0:
                continue
            if kind == "TRAIL LIMIT" and name == "lmt_price":
                continue  # derived from the stop
            if abs(round(value / 0.01) * 0.01 - value) > 1e-9:
                raise RejectError(
                    110,
                    "The price does not conform to the minimum price variation for this contract.",
                )
        good_till_date = spec.get("good_till_date") or ""
        reason = tif.reject_reason(kind, spec.get("tif") or tif.DAY, good_till_date)
        if reason is None and spec.get("tif") == tif.GTD:
            try:
                expires = tif.good_till(good_till_date, outside_rth=False)
            except ValueError as exc:
                reason = str(exc)
            else:
                if expires <= self.now():
                    reason = f"The good till date {good_till_date} has passed."
        if reason is not None:
            raise RejectError(201, f"Order rejected - reason:{reason}")

    def _group_of(self, order: Order) -> list[Order]:
        """The transmitting leg and the held legs it releases (its parent and siblings)."""
        root = order.parent_id or order.order_id
        legs = [
            o
            for o in self.live_orders()
            if o.client_id == order.client_id
            and o.held
            and (o.order_id == root or o.parent_id == root)
        ]
        legs.sort(key=lambda o: (o.parent_id != 0, o.order_id))
        if order not in legs:
            legs.append(order)
        return legs

    def _modify(self, order: Order, spec: dict[str, Any]) -> list[Event]:
        if order.done:
            raise RejectError(104, f"Can't modify a filled order.  state: {order.status}")
        self._validate(spec)
        if spec["symbol"] != order.symbol or spec["action"] != order.action:
            raise RejectError(
                201, "Order rejected - reason:The contract or side of an order cannot be modified."
            )
        if float(spec["quantity"]) < order.filled:
            raise RejectError(
                201,
                "Order rejected - reason:The order quantity cannot be reduced below the "
                f"filled quantity {order.filled:g}.",
                order,
            )
        order.quantity = float(spec["quantity"])
        order.order_type = spec["order_type"]
        order.lmt_price = spec.get("lmt_price")
        order.aux_price = spec.get("aux_price")
        order_types.set_trailing(order, spec, self.quotes[order.symbol].last)
        timing = (order.tif, order.good_till_date, order.outside_rth)
        order.tif = spec.get("tif") or order.tif
        order.good_till_date = spec.get("good_till_date") or ""
        order.order_ref = spec.get("order_ref") or order.order_ref
        # The rule of warning 2109, silently: modifications draw no warnings.
        ignored = order_warnings.automatic(order.order_type, order.tif, outside_rth=True)
        kept = order_warnings.OUTSIDE_RTH_IGNORED not in ignored
        order.outside_rth = bool(spec.get("outside_rth")) and kept
        if (order.tif, order.good_till_date, order.outside_rth) != timing:
            self.set_expiry(order)
        order.planned_quantity = None  # a child's size is the client's again
        order.resting = False  # re-priced: it meets the market as a new order
        order.restart_billing()  # and IB bills it as a new order (its own minimum)
        events: list[Event] = []
        if order.quantity <= order.filled:  # cut to what has filled: done
            self._finish(order, "Filled")
            self.save()
            return [OrderEvent(order)]
        if order.held and spec.get("transmit", True):
            for leg in self._group_of(order):
                events.append(self._release(leg))
        elif not order.held:
            self._activate(order)
            events.append(OrderEvent(order))
        events += self.match(order.symbol)
        self.save()
        return events

    def find_for_cancel(self, client_id: int, order_id: int) -> Order | None:
        own = self.orders.get((client_id, order_id))
        if client_id != 0 or (own is not None and not own.done):
            return own
        # The master client may cancel any client's working order with that id.
        live = [o for o in self.live_orders() if o.order_id == order_id and not o.done]
        return live[0] if live else own

    def cancel(self, client_id: int, order_id: int) -> list[Event]:
        order = self.find_for_cancel(client_id, order_id)
        if order is None:
            raise RejectError(10147, f"OrderId {order_id} that needs to be cancelled is not found.")
        if order.done:
            raise RejectError(
                10148,
                f"OrderId {order_id} that needs to be cancelled cannot be cancelled, "
                f"state: {order.status}.",
            )
        events = self._cancel_tree(order)
        self.save()
        return events

    def cancel_all(self) -> list[Event]:
        events: list[Event] = []
        for order in self.live_orders():
            if not order.done:
                events += self._cancel_tree(order)
        self.save()
        return events
