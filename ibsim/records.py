"""The book's records: orders, executions and positions, the events the book
emits for the server to route, and the rules every part of it shares
(commissions, IB's time text, the order states)."""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from ibsim import protocol as p
from ibsim.order_messages import OrderView
from ibsim.universe import CONTRACTS

EASTERN = ZoneInfo("US/Eastern")
ACTIVE = ("PreSubmitted", "Submitted")
DONE = ("Filled", "Cancelled", "ApiCancelled", "Inactive")
OCA_REDUCE_NO_BLOCK = 3  # IB's ocaType 3: no overfill protection
WALK_BAND = 0.02  # the walk stays within +/-2% of the start price


COMMISSION_PER_SHARE = 0.005  # IBKR Pro fixed pricing, US stocks (USD)
COMMISSION_MIN = 1.0  # per order
COMMISSION_MAX_RATE = 0.01  # per order: 1% of the trade value


def commission_for(shares: float, value: float) -> float:
    """IBKR Pro fixed pricing for an order of US stock: USD 0.005 a share, at
    least USD 1.00 and at most 1% of the trade value, per order."""
    per_share = max(COMMISSION_PER_SHARE * abs(shares), COMMISSION_MIN)
    return round(min(per_share, COMMISSION_MAX_RATE * abs(value)), 4)


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
    # Working since before the last quote change: a resting order fills at its
    # own limit when the touch reaches it; a new (or modified, or just
    # triggered) order takes the touch.
    resting: bool = False
    good_till_date: str = ""  # as the client sent it (GTD orders)
    # Trailing orders (ibsim.order_types): the stop as it ratchets, the
    # percent (when no amount in auxPrice), TRAIL LIMIT's limit offset.
    trail_stop_price: float | None = None
    trailing_percent: float | None = None
    lmt_price_offset: float | None = None
    # The quantity a bracket child was placed with (its parent's partial
    # fills give it a part of it, ibsim.matching).
    planned_quantity: float | None = None
    expires_at: float | None = None  # epoch seconds: when DAY, GTD or OPG time runs out
    # The quote version (QuoteBoard.versions) the order last took liquidity
    # from: a resting order meets each quote once.
    met_quote: int = -1
    # What the commission's minimum and maximum are measured on: the order's
    # executions since it was placed, last modified, or last worked on an
    # earlier day (IB counts a modified order, and one that persists
    # overnight, as a new order for its minimum).
    billed_shares: float = 0.0
    billed_value: float = 0.0
    billed: float = 0.0
    billed_day: str = ""  # the US/Eastern date of the first of those executions

    @property
    def key(self) -> tuple[int, int]:
        return (self.client_id, self.order_id)

    @property
    def done(self) -> bool:
        return self.status in DONE

    def charge(self, shares: float, price: float, day: str) -> float:
        """The commission of one execution: what the order's executions so
        far owe under the per-order rule, less what they were charged — the
        first execution carries the minimum, later ones the shares beyond it
        (and the cap keeps the total within 1% of the value)."""
        if day != self.billed_day:
            self.restart_billing()
            self.billed_day = day
        self.billed_shares += shares
        self.billed_value += shares * price
        total = commission_for(self.billed_shares, self.billed_value)
        charge = round(max(total - self.billed, 0.0), 4)
        self.billed = round(self.billed + charge, 4)
        return charge

    def restart_billing(self) -> None:
        self.billed_shares = self.billed_value = self.billed = 0.0
        self.billed_day = ""

    def view(self, parent_perm_id: int = 0) -> OrderView:
        return OrderView(
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
            good_till_date=self.good_till_date,
            trail_stop_price=self.trail_stop_price,
            trailing_percent=self.trailing_percent,
            lmt_price_offset=self.lmt_price_offset,
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
    # IB's warnings on an accepted order (code, text), sent to the placing
    # client before the order's first openOrder; never a rejection.
    warnings: list[tuple[int, str]] = field(default_factory=list)
    # The order as it was when the event happened: one batch of events can
    # take an order through several states (Submitted at the open, then Filled).
    state: Order = field(init=False)

    def __post_init__(self) -> None:
        self.state = copy.copy(self.order)


@dataclass
class FillEvent:
    order: Order
    execution: Execution
    state: Order = field(init=False)  # after this execution (a part: still working)

    def __post_init__(self) -> None:
        self.state = copy.copy(self.order)


@dataclass
class AccountEvent:
    symbols: list[str] = field(default_factory=list)


@dataclass
class QuoteEvent:
    """These symbols' quotes moved (market data subscribers are told)."""

    symbols: list[str] = field(default_factory=list)


Event = OrderEvent | FillEvent | AccountEvent | QuoteEvent


class RejectError(Exception):
    def __init__(self, code: int, message: str, order: Order | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.order = order  # a refused modification: the order works on unchanged
