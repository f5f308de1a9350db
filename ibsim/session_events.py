"""The market's day as the book lives it: the clock moves (in real time, by
`advance_clock`, by `set_clock`) and the book catches up — the session
boundaries on the way (pre-market, the opening auction, the close, the end
of after-hours) and the expiry of DAY, GTD and OPG orders, in time order.
Orders that can no longer work wait PreSubmitted; orders that can start
working are Submitted and meet the market.  Rules in ibsim.tif, the calendar
in ibsim.sessions."""

from __future__ import annotations

import datetime as dt

from ibsim import order_types, sessions, tif
from ibsim.matching import Matching
from ibsim.records import ACTIVE, Event, Order, OrderEvent


class SessionEvents(Matching):
    def pass_time(self) -> list[Event]:
        """Bring the book to the clock's now, firing every session boundary and
        expiry since it last looked, each at its own time."""
        now = self.clock.now()
        since, self.processed_at = self.processed_at, now
        if now <= since:
            return []
        due = [
            # Overdue ones too (the clock was open, or set back): at once.
            dt.datetime.fromtimestamp(max(when, since.timestamp()), dt.UTC)
            for key, when in self.expiries.items()
            if when <= now.timestamp() and (self.clock.calendar or self.orders[key].tif == tif.GTD)
        ]
        points: list[tuple[dt.datetime, sessions.Boundary | None]] = [(at, None) for at in due]
        if self.clock.calendar:
            points += [(b.at, b) for b in sessions.boundaries(since, now)]
        events: list[Event] = []
        # In time order; at the same moment the boundary first (the auction
        # fills OPG orders before their time runs out).
        for at, boundary in sorted(points, key=lambda point: (point[0], point[1] is None)):
            events += self._at(at, boundary)
        if self.market_session != self.clock.session(now):
            events += self._at(now)  # the clock just left the always-open market
        return events

    def jump(self) -> list[Event]:
        """The clock was set: no auction or session event on the way, but what
        expired by the new time is cancelled, and the new session applies."""
        now = self.processed_at = self.clock.now()
        self.quotes.restart_tape()
        return self._at(now)

    def _at(self, at: dt.datetime, boundary: sessions.Boundary | None = None) -> list[Event]:
        """The book at `at`: a boundary's event, the expiries due, statuses and
        matching for the session in force."""
        self.at = at
        try:
            self.market_session = self.clock.session(at)
            events: list[Event] = []
            if boundary is not None:
                self.fired.append((at, boundary.event))
                if boundary.event == sessions.OPENING_AUCTION:
                    events += self._opening_auction()
                elif boundary.event == sessions.CLOSE:
                    events += self._closing_auction()
            events += self._expire(at)
            events += self._refresh_statuses()
            for symbol in sorted({o.symbol for o in self.live_orders() if o.status in ACTIVE}):
                events += self.match(symbol)
            return events
        finally:
            self.at = None

    def _expire(self, at: dt.datetime) -> list[Event]:
        """Cancel the orders whose time ran out by `at` (error 202, as IB
        cancels an expired order); without the calendar only GTD times count."""
        due = [
            self.orders[key]
            for key, when in sorted(self.expiries.items(), key=lambda item: item[1])
            if when <= at.timestamp()
        ]
        events: list[Event] = []
        for order in due:
            if self.clock.calendar or order.tif == tif.GTD:
                events += self._cancel_tree(order)
        return events

    def _opening_auction(self) -> list[Event]:
        """09:30: OPG orders meet the opening price, the last price (quotes do
        not move while the market is closed; a pre-market trade sets it).  A
        market-on-open fills there, a limit-on-open when its limit allows;
        the rest of them are cancelled."""
        events: list[Event] = []
        for order in sorted(self._auction_orders(), key=lambda o: o.perm_id):
            price = self.quotes[order.symbol].last
            limit = order.lmt_price or 0.0
            buy = order.action == "BUY"
            crosses = order.order_type == "MKT" or (limit >= price if buy else limit <= price)
            if crosses:
                events += self._fill(order, price)
            else:
                events += self._cancel_tree(order)
        return events

    def _closing_auction(self) -> list[Event]:
        """The close: MOC orders fill at the closing price, the last; LOC
        orders when their limit allows (the rest expire with the day)."""
        events: list[Event] = []
        due = [
            o
            for o in self.live_orders()
            if o.order_type in order_types.CLOSING_AUCTION
            and o.status in ACTIVE
            and not o.held
            and o.why_held != "child"
        ]
        for order in sorted(due, key=lambda o: o.perm_id):
            price = self.quotes[order.symbol].last
            limit = order_types.limit_of(order)
            buy = order.action == "BUY"
            if limit is None or (limit >= price if buy else limit <= price):
                events += self._fill(order, price)
        return events

    def _auction_orders(self) -> list[Order]:
        return [
            o
            for o in self.live_orders()
            if o.tif == tif.OPG and o.status in ACTIVE and not o.held and o.why_held != "child"
        ]

    def _refresh_statuses(self) -> list[Event]:
        """Orders whose session started or ended change status (PreSubmitted
        while they cannot work, Submitted when they can); clients are told."""
        events: list[Event] = []
        for order in sorted(self.live_orders(), key=lambda o: o.perm_id):
            if order.status not in ACTIVE or order.held:
                continue
            if not self._in_session(order):
                order.resting = False  # when it works again it meets the market as new
            status, why_held = self._status_for(order)
            if (status, why_held) != (order.status, order.why_held):
                order.status, order.why_held = status, why_held
                events.append(OrderEvent(order))
        return events

    def set_expiry(self, order: Order) -> None:
        """Work out when the order's time in force runs out (at placement or
        when a modification changes its TIF)."""
        when = tif.expiry(order.tif, order.outside_rth, order.good_till_date, self.now())
        order.expires_at = None if when is None else when.timestamp()
        if order.expires_at is None:
            self.expiries.pop(order.key, None)
        else:
            self.expiries[order.key] = order.expires_at
