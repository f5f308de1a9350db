"""Matching and fills: which working orders the quote makes marketable, how
they walk the book (ibsim.depth) and at what prices, and what an execution
does (the position, cash, commission, bracket children, OCA groups)."""

from __future__ import annotations

from dataclasses import asdict

from ibsim import depth, order_types, tif
from ibsim.ledger import Ledger
from ibsim.quotes import Quote
from ibsim.records import (
    ACTIVE,
    EASTERN,
    OCA_REDUCE_NO_BLOCK,
    AccountEvent,
    Event,
    Execution,
    FillEvent,
    Order,
    OrderEvent,
    eastern_text,
)
from ibsim.universe import CONTRACTS


class Matching(Ledger):
    # --- the order lifecycle ----------------------------------------------

    def _status_for(self, order: Order) -> tuple[str, str]:
        """The status (and whyHeld) of a working order: PreSubmitted while it
        waits — for its parent to fill, for its stop to trigger, for a session
        it may work in — else Submitted."""
        parent = self.orders.get((order.client_id, order.parent_id)) if order.parent_id else None
        if parent is not None and parent.filled <= 0:
            return "PreSubmitted", "child"  # works once the parent has filled (a part)
        if order.order_type in order_types.CONDITIONAL and not order.triggered:
            return "PreSubmitted", ""
        if order.order_type in order_types.CLOSING_AUCTION:
            return "PreSubmitted", ""  # held for the closing auction
        if not self._in_session(order):
            return "PreSubmitted", ""
        return "Submitted", ""

    def _activate(self, order: Order) -> None:
        order.status, order.why_held = self._status_for(order)

    def _in_session(self, order: Order) -> bool:
        return tif.works_in(order.tif, order.outside_rth, self.market_session)

    def _cancel_tree(self, order: Order, reason: str = "") -> list[Event]:
        events: list[Event] = []
        if not order.done:
            self._finish(order, "Cancelled")
            events.append(OrderEvent(order, error=(202, f"Order Canceled - reason:{reason}")))
        for child in self._children(order):
            events += self._cancel_tree(child, reason)
        return events

    def _children(self, order: Order) -> list[Order]:
        return [
            o
            for o in self.live_orders()
            if o.client_id == order.client_id and o.parent_id == order.order_id and not o.done
        ]

    def _finish(self, order: Order, status: str) -> None:
        self.pending_warnings.pop(order.key, None)  # a held leg cancelled before release
        self.expiries.pop(order.key, None)
        order.status = status
        order.held = False
        order.why_held = ""
        order.completed_status = status
        self.forget_live(order)
        order.completed_time = eastern_text(self.now())

    # --- matching -------------------------------------------------------

    def match(self, symbol: str) -> list[Event]:
        """Fill what the symbol's quote makes marketable, in time priority.
        Fills are simulated from the book (ibsim.depth), as IB's paper trader
        does from the market: market orders (and triggered stops) walk it
        from the touch — a BUY up the asks, a SELL down the bids — one
        execution per level; a new limit order that is marketable walks it
        too, as far as its limit, and rests with what is left; a resting
        limit order fills at its limit once the touch reaches it (a BUY when
        the ask is at or below it, a SELL when the bid is at or above it),
        taking what the levels within its limit hold.  Each working order
        meets each quote once: what it could not get waits for the quote to
        change.  Stops trigger on the last price (IB's default trigger method
        for US stocks).  Only orders the session lets work take part
        (ibsim.tif).

        IOC and FOK orders meet the book once: IOC takes what the levels
        within its limit hold, FOK only when they hold the whole order; then
        what is left of them is cancelled."""
        events: list[Event] = []
        quote = self.quotes[symbol]
        version = self.quotes.versions[symbol]
        tried: set[tuple[int, int]] = set()  # orders that met this quote
        progressed = True
        while progressed:
            progressed = False
            for order in self._working(symbol):
                if order.key in tried or (order.resting and order.met_quote == version):
                    continue
                if order.order_type in order_types.CONDITIONAL and not order.triggered:
                    if order_types.ratchet(order, quote.last):
                        events.append(OrderEvent(order))  # the new trailStopPrice
                    if not order_types.crossed(order, quote.last):
                        continue
                    order.triggered = True
                    order.resting = False  # a new order at the market from now on
                    if order.status == "PreSubmitted":
                        order.status = "Submitted"
                        events.append(OrderEvent(order))
                executions = self._executions(order, quote)
                if order.tif in tif.IMMEDIATE:
                    tried.add(order.key)
                    wanted = order.quantity - order.filled
                    if order.tif == tif.FOK and sum(q for _, q in executions) < wanted:
                        continue
                if not executions:
                    continue
                tried.add(order.key)
                order.met_quote = version
                for price, quantity in executions:
                    events += self._fill(order, price, quantity)
                progressed = True
                break
        for order in self._working(symbol):
            # Every working order has met this quote now: what it could not
            # get waits for the quote to change (a new order placed meanwhile
            # does not make the others look again at the same quote).
            order.resting = True
            order.met_quote = version
            waiting_stop = order.order_type in order_types.CONDITIONAL and not order.triggered
            if order.tif in tif.IMMEDIATE and not waiting_stop:
                events += self._cancel_tree(order)
        return events

    def _executions(self, order: Order, quote: Quote) -> list[tuple[float, float]]:
        """The executions (price, shares) a working, triggered order gets from
        `quote`: none when it is not marketable."""
        buy = order.action == "BUY"
        levels = depth.ladder(quote, buy, self.quotes.liquidity.get(order.symbol))
        left = order.quantity - order.filled
        limit = order_types.limit_of(order)
        if limit is not None and order.resting:
            shares = min(left, depth.available(levels, limit, buy))
            return [(limit, shares)] if shares > 0 else []
        return depth.sweep(levels, left, limit, buy)

    def _working(self, symbol: str) -> list[Order]:
        """The symbol's orders that work now, in time priority."""
        works: dict[tuple[str, bool], bool] = {}  # by (tif, outsideRth): the session's verdict
        working = []
        for o in self.live_orders():
            if (
                o.symbol != symbol
                or o.status not in ACTIVE
                or o.held
                or o.why_held == "child"
                or o.order_type in order_types.CLOSING_AUCTION
            ):
                continue
            verdict = works.get((o.tif, o.outside_rth))
            if verdict is None:
                verdict = works[(o.tif, o.outside_rth)] = self._in_session(o)
            if verdict:
                working.append(o)
        return sorted(working, key=lambda o: o.perm_id)

    def _marketable(self, order: Order) -> bool:
        if not self._in_session(order):
            return False
        quote = self.quotes[order.symbol]
        if order.order_type in order_types.CLOSING_AUCTION:
            return False
        if (
            order.order_type in order_types.CONDITIONAL
            and not order.triggered
            and not order_types.crossed(order, quote.last)
        ):
            return False
        return bool(self._executions(order, quote))

    def _fill(self, order: Order, price: float, quantity: float | None = None) -> list[Event]:
        """An execution of `quantity` (default: all that is left) at `price`."""
        remaining = order.quantity - order.filled
        qty = remaining if quantity is None else min(quantity, remaining)
        signed = qty if order.action == "BUY" else -qty
        commission = order.charge(qty, price, self.now().astimezone(EASTERN).date().isoformat())
        realized = self._apply_to_position(order.symbol, signed, price, commission)
        self.cash += -signed * price - commission
        if order.filled:
            paid = order.avg_fill_price * order.filled + price * qty
            order.avg_fill_price = round(paid / (order.filled + qty), 6)
        else:
            order.avg_fill_price = price
        order.filled += qty
        order.last_fill_price = price
        complete = order.filled >= order.quantity
        if complete:
            self._finish(order, "Filled")
        self.exec_seq += 1
        execution = Execution(
            exec_id=f"{self.exec_seq:08x}.{self.session:08x}.01.01",
            order_id=order.order_id,
            client_id=order.client_id,
            perm_id=order.perm_id,
            symbol=order.symbol,
            when=self.now().replace(microsecond=0),
            account=order.account,
            side="BOT" if order.action == "BUY" else "SLD",
            shares=qty,
            price=price,
            cum_qty=order.filled,
            avg_price=order.avg_fill_price,
            order_ref=order.order_ref,
            commission=commission,
            realized_pnl=realized,
            exchange=CONTRACTS[order.symbol].primary_exchange,
        )
        self.executions.append(execution)
        events: list[Event] = [FillEvent(order, execution), AccountEvent([order.symbol])]
        # Children of a parent that filled (a part) work for what it filled.
        for child in self._children(order):
            planned = child.planned_quantity = child.planned_quantity or child.quantity
            child.quantity = max(round(planned * order.filled / order.quantity), child.filled, 1)
            child.why_held = ""
            self._activate(child)
            events.append(OrderEvent(child))
        if not complete:  # a part: the rest works on (or, of an IOC, is cancelled)
            events += self._reduce_others(order, qty)
            self.save()
            return events
        # One exit of a bracket filled: the other is cancelled.
        if order.parent_id:
            parent = self.orders.get((order.client_id, order.parent_id))
            if parent is not None:
                for sibling in self._children(parent):
                    events += self._cancel_tree(sibling)
        if order.oca_group:
            events += self._apply_oca(order)
        self.save()
        return events

    def _reduce_others(self, order: Order, qty: float) -> list[Event]:
        """A part of `order` filled: IB reduces, by the shares filled, the
        other exit of its bracket and the other members of its OCA group of
        type 2 or 3 (type 1 waits for a complete fill); one reduced to what
        it has filled is cancelled."""
        others: list[Order] = []
        if order.parent_id:
            parent = self.orders.get((order.client_id, order.parent_id))
            if parent is not None:
                others += [c for c in self._children(parent) if c is not order]
        if order.oca_group and order.oca_type in (2, OCA_REDUCE_NO_BLOCK):
            others += [
                o
                for o in self.live_orders()
                if o is not order
                and not o.done
                and o.client_id == order.client_id
                and o.oca_group == order.oca_group
                and o not in others
            ]
        events: list[Event] = []
        for other in others:
            other.quantity = max(other.quantity - qty, other.filled)
            if other.quantity - other.filled <= 0:
                events += self._cancel_tree(other)
            else:
                events.append(OrderEvent(other))
        return events

    def _apply_oca(self, filled: Order) -> list[Event]:
        """A member of an OCA group filled completely, so IB cancels the rest
        of the group, whatever its type; types 2 and 3 differ from 1 only on
        partial fills, where IB reduces the others by the filled quantity
        (not simulated: a part leaves the group as it is).  Types 1 and 2
        block: one member at a time is routed (overfill protection).  Type 3
        does not: members marketable at the same moment were routed too and
        fill as well, an overfill IB warns about."""
        events: list[Event] = []
        for other in self.live_orders():
            if other is filled or other.done or other.oca_group != filled.oca_group:
                continue
            if other.client_id != filled.client_id:
                continue
            unblocked = filled.oca_type == other.oca_type == OCA_REDUCE_NO_BLOCK
            same_moment = other.symbol == filled.symbol and not other.held
            if unblocked and same_moment and self._marketable(other):
                continue  # routed alongside: it fills in this same pass
            events += self._cancel_tree(other)
        return events

    def correct_execution(self, exec_id: str | None, price: float | None) -> Execution:
        """Re-send a fill with the same execId stem and the next suffix (IB's correction)."""
        if not self.executions:
            raise KeyError("no execution to correct")
        original = self.executions[-1]
        if exec_id:
            matches = [e for e in self.executions if e.exec_id == exec_id]
            if not matches:
                raise KeyError(f"unknown execId {exec_id!r}")
            original = matches[0]
        stem, _, suffix = original.exec_id.rpartition(".")
        new_price = original.price if price is None else round(price, 4)
        corrected = Execution(**{**asdict(original)})
        corrected.exec_id = f"{stem}.{int(suffix) + 1:02d}"
        corrected.price = new_price
        corrected.avg_price = new_price
        self.executions = [e if e is not original else corrected for e in self.executions]
        return corrected
