"""The simulated account and order book: prices, orders, matching, fills,
positions and cash.  Pure state, no sockets: the server feeds it requests and
forwards the events it returns to the right connections."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import random
import tempfile
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ibsim import protocol as p
from ibsim.universe import BY_CON_ID, CONTRACTS, START_PRICES

EASTERN = ZoneInfo("US/Eastern")
ACTIVE = ("PreSubmitted", "Submitted")
DONE = ("Filled", "Cancelled", "ApiCancelled", "Inactive")
SUPPORTED_TYPES = ("MKT", "LMT", "STP", "STP LMT")
WALK_BAND = 0.02  # the walk stays within +/-2% of the start price


def commission_for(quantity: float, price: float) -> float:
    """IBKR Pro fixed pricing for US stocks: USD 0.005 a share, at least USD 1.00,
    at most 1% of the trade value."""
    value = abs(quantity) * price
    return round(min(max(0.005 * abs(quantity), 1.0), 0.01 * value), 4)


def eastern_text(when: dt.datetime) -> str:
    return when.astimezone(EASTERN).strftime("%Y%m%d %H:%M:%S") + " US/Eastern"


@dataclass
class Order:
    order_id: int
    client_id: int
    perm_id: int
    symbol: str
    action: str
    quantity: float
    order_type: str
    lmt_price: float | None
    aux_price: float | None
    tif: str
    oca_group: str
    oca_type: int
    account: str
    order_ref: str
    transmit: bool
    parent_id: int
    outside_rth: bool
    status: str = "PendingSubmit"
    held: bool = False  # transmit=0, waiting for the transmitting leg
    triggered: bool = False  # stop orders: the stop price has been crossed
    filled: float = 0.0
    avg_fill_price: float = 0.0
    last_fill_price: float = 0.0
    completed_time: str = ""
    completed_status: str = ""
    why_held: str = ""

    @property
    def key(self) -> tuple[int, int]:
        return (self.client_id, self.order_id)

    @property
    def done(self) -> bool:
        return self.status in DONE

    def view(self, parent_perm_id: int = 0) -> p.OrderView:
        return p.OrderView(
            order_id=self.order_id,
            client_id=self.client_id,
            perm_id=self.perm_id,
            contract=CONTRACTS[self.symbol],
            action=self.action,
            quantity=self.quantity,
            order_type=self.order_type,
            lmt_price=self.lmt_price,
            aux_price=self.aux_price,
            tif=self.tif,
            oca_group=self.oca_group,
            oca_type=self.oca_type,
            account=self.account,
            order_ref=self.order_ref,
            parent_id=self.parent_id,
            parent_perm_id=parent_perm_id,
            outside_rth=self.outside_rth,
            status=self.status,
            filled=self.filled,
            avg_fill_price=self.avg_fill_price,
            last_fill_price=self.last_fill_price,
            why_held=self.why_held,
            completed_time=self.completed_time,
            completed_status=self.completed_status,
        )


@dataclass
class Execution:
    exec_id: str
    order_id: int
    client_id: int
    perm_id: int
    symbol: str
    when: dt.datetime
    account: str
    side: str  # BOT / SLD
    shares: float
    price: float
    cum_qty: float
    avg_price: float
    order_ref: str
    commission: float
    realized_pnl: float | None
    exchange: str = "NASDAQ"

    def view(self) -> p.ExecutionView:
        return p.ExecutionView(
            exec_id=self.exec_id,
            order_id=self.order_id,
            client_id=self.client_id,
            perm_id=self.perm_id,
            contract=CONTRACTS[self.symbol],
            time_text=eastern_text(self.when),
            account=self.account,
            exchange=self.exchange,
            side=self.side,
            shares=self.shares,
            price=self.price,
            cum_qty=self.cum_qty,
            avg_price=self.avg_price,
            order_ref=self.order_ref,
            commission=self.commission,
            realized_pnl=self.realized_pnl,
        )


@dataclass
class Position:
    quantity: float = 0.0
    avg_cost: float = 0.0  # per share, commissions included, as IB reports it
    realized_pnl: float = 0.0


# Events the book emits; the server routes them to connections.
@dataclass
class OrderEvent:
    order: Order
    error: tuple[int, str] | None = None  # sent before the status (202 on cancel)


@dataclass
class FillEvent:
    order: Order
    execution: Execution


@dataclass
class AccountEvent:
    symbols: list[str] = field(default_factory=list)


Event = OrderEvent | FillEvent | AccountEvent


class RejectError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Book:
    def __init__(
        self,
        account: str = "DU1234567",
        cash: float = 1_000_000.0,
        state_dir: str | None = None,
        seed: int = 7,
        prices: dict[str, float] | None = None,
    ) -> None:
        self.account = account
        self.state_path = Path(state_dir) / "state.json" if state_dir else None
        self.seed = seed
        self.start_prices = dict(START_PRICES)
        self.start_prices.update(prices or {})
        self.prices = dict(self.start_prices)
        self.rngs = {s: random.Random(seed ^ zlib.crc32(s.encode())) for s in CONTRACTS}
        self.cash = cash
        self.positions: dict[str, Position] = {}
        self.orders: dict[tuple[int, int], Order] = {}
        self.by_perm: dict[int, Order] = {}
        self.executions: list[Execution] = []
        self.next_ids: dict[int, int] = {}
        # permIds: never reused, also across restarts: persisted when there is a
        # state directory, else seeded from the clock at 100 ids a second (wraps
        # after about 200 days).
        self.next_perm_id = 100_000_000 + int(dt.datetime.now().timestamp() * 100) % 1_900_000_000
        self.session = 0
        self._last_session = 0
        self.exec_seq = 0
        self.reject_next: str | None = None
        self.orders_total = 0
        self.place_messages = 0
        self.orders_by_ref: dict[str, int] = {}
        self._load()
        self.new_session()

    # --- persistence ---------------------------------------------------

    def _load(self) -> None:
        if not self.state_path or not self.state_path.exists():
            return
        state = json.loads(self.state_path.read_text())
        self.next_perm_id = max(self.next_perm_id, int(state["next_perm_id"]))
        self.cash = float(state["cash"])
        self.positions = {s: Position(**v) for s, v in state["positions"].items()}
        self.next_ids = {int(k): int(v) for k, v in state["next_ids"].items()}
        for raw in state["orders"]:
            order = Order(**raw)
            self.orders[order.key] = order
            self.by_perm[order.perm_id] = order

    def save(self) -> None:
        if not self.state_path:
            return
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "next_perm_id": self.next_perm_id,
            "cash": self.cash,
            "positions": {s: asdict(v) for s, v in self.positions.items()},
            "next_ids": self.next_ids,
            # Only GTC orders survive a restart, like at IB.
            "orders": [asdict(o) for o in self.orders.values() if not o.done and o.tif == "GTC"],
        }
        fd, tmp = tempfile.mkstemp(dir=self.state_path.parent, prefix=".state")
        with os.fdopen(fd, "w") as fh:
            json.dump(state, fh)
        os.replace(tmp, self.state_path)

    def new_session(self) -> None:
        """A gateway (re)start: executions and completed orders are forgotten,
        DAY orders cancelled; positions, cash and GTC orders kept."""
        self.session = int(dt.datetime.now().timestamp()) & 0xFFFFFFFF
        if self.session <= self._last_session:
            self.session = self._last_session + 1
        self._last_session = self.session
        self.exec_seq = 0
        self.executions = []
        for key, order in list(self.orders.items()):
            if order.done or order.tif != "GTC":
                del self.orders[key]
                self.by_perm.pop(order.perm_id, None)
        self.save()

    # --- prices --------------------------------------------------------

    def step_walk(self) -> list[str]:
        """One step of each symbol's seeded, mean-reverting walk, bounded to
        +/-2% of its start price.  Returns the symbols whose price changed."""
        changed = []
        for symbol, start in self.start_prices.items():
            rng = self.rngs.setdefault(symbol, random.Random(self.seed))
            price = self.prices[symbol]
            drift = 0.1 * (start - price)
            shock = rng.gauss(0.0, start * 0.0015)
            new = min(max(price + drift + shock, start * (1 - WALK_BAND)), start * (1 + WALK_BAND))
            new = round(new, 2)
            if new != price:
                self.prices[symbol] = new
                changed.append(symbol)
        return changed

    def set_price(self, symbol: str, price: float) -> list[Event]:
        symbol = self._symbol(symbol)
        if not (math.isfinite(price) and price > 0):
            raise ValueError("price must be a positive number")
        self.prices[symbol] = round(price, 4)
        return self.match(symbol)

    def _symbol(self, symbol: str) -> str:
        key = symbol.upper()
        if key not in CONTRACTS:
            raise KeyError(f"unknown symbol {symbol!r}")
        return key

    # --- ids ------------------------------------------------------------

    def next_valid_id(self, client_id: int) -> int:
        return self.next_ids.get(client_id, 1)

    def allocate_perm_id(self) -> int:
        perm = self.next_perm_id
        self.next_perm_id += 1
        return perm

    # --- orders ---------------------------------------------------------

    def parent_perm_id(self, order: Order) -> int:
        if not order.parent_id:
            return 0
        parent = self.orders.get((order.client_id, order.parent_id))
        return parent.perm_id if parent else 0

    def visible_orders(self, client_id: int, everyone: bool) -> list[Order]:
        return [
            o
            for o in self.orders.values()
            if o.status in ACTIVE and not o.held and (everyone or o.client_id == client_id)
        ]

    def completed_orders(self) -> list[Order]:
        return [o for o in self.orders.values() if o.done]

    def place(self, client_id: int, spec: dict[str, Any]) -> list[Event]:
        """A placeOrder message: a new order, or a modification of an existing one."""
        self.place_messages += 1
        order_id = int(spec["order_id"])
        existing = self.orders.get((client_id, order_id))
        symbol = spec["symbol"]
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
        order = Order(
            order_id=order_id,
            client_id=client_id,
            perm_id=self.allocate_perm_id(),
            symbol=symbol,
            action=spec["action"],
            quantity=float(spec["quantity"]),
            order_type=spec["order_type"],
            lmt_price=spec.get("lmt_price"),
            aux_price=spec.get("aux_price"),
            tif=spec.get("tif") or "DAY",
            oca_group=spec.get("oca_group") or "",
            oca_type=int(spec.get("oca_type") or 0),
            account=spec.get("account") or self.account,
            order_ref=ref,
            transmit=bool(spec.get("transmit", True)),
            parent_id=int(spec.get("parent_id") or 0),
            outside_rth=bool(spec.get("outside_rth")),
        )
        if order.parent_id and (client_id, order.parent_id) not in self.orders:
            raise RejectError(201, "Order rejected - reason:Parent order is not found.")
        self.orders[order.key] = order
        self.by_perm[order.perm_id] = order
        if not order.transmit:
            order.held = True
            self.save()
            return []
        events: list[Event] = []
        for leg in self._group_of(order):
            leg.held = False
            self._activate(leg)
            events.append(OrderEvent(leg))
        if order.oca_group and order.oca_type == 1 and self._oca_filled(order):
            # A member of its one-cancels-all group has filled already.
            self._finish(order, "Cancelled")
            events.append(
                OrderEvent(order, error=(202, "Order Canceled - reason:OCA group filled"))
            )
        events += self.match(order.symbol)
        self.save()
        return events

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
        if kind not in SUPPORTED_TYPES:
            raise RejectError(
                201, f"Order rejected - reason:Order type {kind} is not supported by the simulator."
            )
        for name, needed in (
            ("lmt_price", kind in ("LMT", "STP LMT")),
            ("aux_price", "STP" in kind),
        ):
            value = spec.get(name)
            if not needed:
                continue
            if value is None or not math.isfinite(value) or value <= 0:
                label = "limit" if name == "lmt_price" else "stop"
                raise RejectError(201, f"Order rejected - reason:The {label} price is missing.")
            if abs(round(value / 0.01) * 0.01 - value) > 1e-9:
                raise RejectError(
                    110,
                    "The price does not conform to the minimum price variation for this contract.",
                )
        if (spec.get("tif") or "DAY") not in ("DAY", "GTC", "IOC"):
            raise RejectError(201, f"Order rejected - reason:Invalid TIF {spec.get('tif')!r}")

    def _group_of(self, order: Order) -> list[Order]:
        """The transmitting leg and the held legs it releases (its parent and siblings)."""
        root = order.parent_id or order.order_id
        legs = [
            o
            for o in self.orders.values()
            if o.client_id == order.client_id
            and o.held
            and (o.order_id == root or o.parent_id == root)
        ]
        legs.sort(key=lambda o: (o.parent_id != 0, o.order_id))
        if order not in legs:
            legs.append(order)
        return legs

    def _activate(self, order: Order) -> None:
        parent = self.orders.get((order.client_id, order.parent_id)) if order.parent_id else None
        if parent is not None and parent.status != "Filled":
            order.status = "PreSubmitted"
            order.why_held = "child"
        elif order.order_type in ("STP", "STP LMT") and not order.triggered:
            order.status = "PreSubmitted"
            order.why_held = ""
        else:
            order.status = "Submitted"
            order.why_held = ""

    def _modify(self, order: Order, spec: dict[str, Any]) -> list[Event]:
        if order.done:
            raise RejectError(104, f"Can't modify a filled order.  state: {order.status}")
        self._validate(spec)
        if spec["symbol"] != order.symbol or spec["action"] != order.action:
            raise RejectError(
                201, "Order rejected - reason:The contract or side of an order cannot be modified."
            )
        order.quantity = float(spec["quantity"])
        order.order_type = spec["order_type"]
        order.lmt_price = spec.get("lmt_price")
        order.aux_price = spec.get("aux_price")
        order.tif = spec.get("tif") or order.tif
        order.order_ref = spec.get("order_ref") or order.order_ref
        order.outside_rth = bool(spec.get("outside_rth"))
        events: list[Event] = []
        if order.held and spec.get("transmit", True):
            for leg in self._group_of(order):
                leg.held = False
                self._activate(leg)
                events.append(OrderEvent(leg))
        elif not order.held:
            events.append(OrderEvent(order))
        events += self.match(order.symbol)
        self.save()
        return events

    def find_for_cancel(self, client_id: int, order_id: int) -> Order | None:
        own = self.orders.get((client_id, order_id))
        if client_id != 0 or (own is not None and not own.done):
            return own
        # The master client may cancel any client's working order with that id.
        live = [o for o in self.orders.values() if o.order_id == order_id and not o.done]
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
        for order in list(self.orders.values()):
            if not order.done:
                events += self._cancel_tree(order)
        self.save()
        return events

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
            for o in self.orders.values()
            if o.client_id == order.client_id and o.parent_id == order.order_id and not o.done
        ]

    def _finish(self, order: Order, status: str) -> None:
        order.status = status
        order.held = False
        order.why_held = ""
        order.completed_status = status
        order.completed_time = eastern_text(dt.datetime.now(dt.UTC))

    # --- matching -------------------------------------------------------

    def match(self, symbol: str) -> list[Event]:
        events: list[Event] = []
        price = self.prices[symbol]
        progressed = True
        while progressed:
            progressed = False
            working = [
                o
                for o in self.orders.values()
                if o.symbol == symbol and o.status in ACTIVE and not o.held
            ]
            for order in sorted(working, key=lambda o: o.perm_id):
                if order.why_held == "child":
                    continue
                fill_price = self._fill_price(order, price)
                if (
                    order.order_type in ("STP", "STP LMT")
                    and order.triggered
                    and (order.status == "PreSubmitted")
                ):
                    order.status = "Submitted"
                    events.append(OrderEvent(order))
                if fill_price is None:
                    continue
                events += self._fill(order, fill_price)
                progressed = True
                break
        return events

    def _fill_price(self, order: Order, price: float) -> float | None:
        buy = order.action == "BUY"
        if order.order_type in ("STP", "STP LMT") and not order.triggered:
            stop = order.aux_price or 0.0
            if (buy and price >= stop) or (not buy and price <= stop):
                order.triggered = True
            else:
                return None
        if order.order_type in ("MKT", "STP"):
            return price
        limit = order.lmt_price or 0.0
        if (buy and price <= limit) or (not buy and price >= limit):
            return price  # at the limit or better
        return None

    def _fill(self, order: Order, price: float) -> list[Event]:
        qty = order.quantity - order.filled
        signed = qty if order.action == "BUY" else -qty
        commission = commission_for(qty, price)
        realized = self._apply_to_position(order.symbol, signed, price, commission)
        self.cash += -signed * price - commission
        order.filled += qty
        order.avg_fill_price = price
        order.last_fill_price = price
        self._finish(order, "Filled")
        self.exec_seq += 1
        execution = Execution(
            exec_id=f"{self.exec_seq:08x}.{self.session:08x}.01.01",
            order_id=order.order_id,
            client_id=order.client_id,
            perm_id=order.perm_id,
            symbol=order.symbol,
            when=dt.datetime.now(dt.UTC).replace(microsecond=0),
            account=order.account,
            side="BOT" if order.action == "BUY" else "SLD",
            shares=qty,
            price=price,
            cum_qty=order.filled,
            avg_price=price,
            order_ref=order.order_ref,
            commission=commission,
            realized_pnl=realized,
            exchange=CONTRACTS[order.symbol].primary_exchange,
        )
        self.executions.append(execution)
        events: list[Event] = [FillEvent(order, execution), AccountEvent([order.symbol])]
        # Children of a filled parent start working.
        for child in self._children(order):
            child.why_held = ""
            self._activate(child)
            events.append(OrderEvent(child))
        # One exit of a bracket filled: the other is cancelled.
        if order.parent_id:
            parent = self.orders.get((order.client_id, order.parent_id))
            if parent is not None:
                for sibling in self._children(parent):
                    events += self._cancel_tree(sibling)
        if order.oca_group:
            events += self._apply_oca(order, qty)
        self.save()
        return events

    def _apply_oca(self, filled: Order, qty: float) -> list[Event]:
        events: list[Event] = []
        for other in list(self.orders.values()):
            if other is filled or other.done or other.oca_group != filled.oca_group:
                continue
            if other.client_id != filled.client_id:
                continue
            if filled.oca_type in (2, 3):
                other.quantity -= qty
                if other.quantity - other.filled > 1e-9:
                    events.append(OrderEvent(other))
                    continue
            events += self._cancel_tree(other)
        return events

    def _apply_to_position(
        self, symbol: str, signed: float, price: float, commission: float
    ) -> float | None:
        pos = self.positions.setdefault(symbol, Position())
        realized: float | None = None
        old = pos.quantity
        if old == 0 or (old > 0) == (signed > 0):
            total = old + signed
            pos.avg_cost = (abs(old) * pos.avg_cost + abs(signed) * price + commission) / abs(total)
            pos.quantity = total
            return None
        closing = min(abs(signed), abs(old))
        direction = 1.0 if old > 0 else -1.0
        share_of_commission = commission * closing / abs(signed)
        realized = round(direction * (price - pos.avg_cost) * closing - share_of_commission, 4)
        pos.realized_pnl += realized
        pos.quantity = old + signed
        rest = abs(signed) - closing
        if abs(pos.quantity) < 1e-9:
            pos.quantity = 0.0
            pos.avg_cost = 0.0
        elif rest > 0:  # flipped through zero: the rest opens a new position
            pos.avg_cost = (rest * price + commission - share_of_commission) / rest
        return realized

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

    # --- account --------------------------------------------------------

    def account_values(self) -> list[tuple[str, str, str]]:
        gross = sum(abs(pos.quantity * self.prices[s]) for s, pos in self.positions.items())
        stock = sum(pos.quantity * self.prices[s] for s, pos in self.positions.items())
        unrealized = sum(
            pos.quantity * (self.prices[s] - pos.avg_cost) for s, pos in self.positions.items()
        )
        realized = sum(pos.realized_pnl for pos in self.positions.values())
        nlv = self.cash + stock
        init = maint = 0.25 * gross
        available = nlv - init
        money = {
            "NetLiquidation": nlv,
            "TotalCashValue": self.cash,
            "SettledCash": self.cash,
            "CashBalance": self.cash,
            "AvailableFunds": available,
            "ExcessLiquidity": nlv - maint,
            "BuyingPower": 4 * available,
            "EquityWithLoanValue": nlv,
            "GrossPositionValue": gross,
            "StockMarketValue": stock,
            "InitMarginReq": init,
            "MaintMarginReq": maint,
            "FullInitMarginReq": init,
            "FullMaintMarginReq": maint,
            "FullAvailableFunds": available,
            "FullExcessLiquidity": nlv - maint,
            "UnrealizedPnL": unrealized,
            "RealizedPnL": realized,
        }
        rows = [("AccountCode", self.account, ""), ("AccountType", "INDIVIDUAL", "")]
        rows += [(k, f"{v:.2f}", "USD") for k, v in money.items()]
        rows.append(("Cushion", f"{(nlv - maint) / nlv if nlv else 0:.4f}", ""))
        rows.append(("Currency", "USD", "USD"))
        return rows

    def position_rows(self, include_flat: bool = False) -> list[tuple[str, Position]]:
        return [
            (s, pos)
            for s, pos in sorted(self.positions.items())
            if include_flat or abs(pos.quantity) > 1e-9
        ]

    def portfolio_fields(self, symbol: str) -> list[Any]:
        pos = self.positions.get(symbol, Position())
        return p.portfolio_value(
            self.account,
            CONTRACTS[symbol],
            pos.quantity,
            self.prices[symbol],
            pos.avg_cost,
            pos.realized_pnl,
        )

    def set_position(self, symbol: str, quantity: float, avg_cost: float) -> None:
        symbol = self._symbol(symbol)
        self.positions[symbol] = Position(float(quantity), float(avg_cost))
        self.save()

    def set_cash(self, cash: float) -> None:
        self.cash = float(cash)
        self.save()

    def contract_for(self, con_id: int, symbol: str) -> p.ContractSpec | None:
        if con_id:
            return BY_CON_ID.get(con_id)
        return CONTRACTS.get(symbol.upper())
