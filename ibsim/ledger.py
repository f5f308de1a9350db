"""The simulated account's state: orders, executions, positions and cash,
their persistence across restarts, and the account values IB reports.  Pure
state, no sockets; the matching and the order handling build on it."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import tempfile
import zlib
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ibsim import depth, margin
from ibsim import protocol as p
from ibsim.clock import Clock
from ibsim.quotes import QuoteBoard
from ibsim.records import Execution, Order, Position
from ibsim.tif import MULTI_DAY
from ibsim.universe import BY_CON_ID, CONTRACTS, START_PRICES


class Ledger:
    def __init__(
        self,
        account: str = "DU1234567",
        cash: float = 1_000_000.0,
        state_dir: str | None = None,
        seed: int = 7,
        prices: dict[str, float] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.account = account
        self.clock = clock or Clock()
        # The moment the book is at: the clock's now, or while the book catches
        # up with a moved clock, the session boundary being processed.
        self.at: dt.datetime | None = None
        self.market_session = self.clock.session()
        self.processed_at = self.clock.now()  # session events fired up to here
        # Orders that expire by time (DAY, GTD, OPG): key -> epoch seconds.
        self.expiries: dict[tuple[int, int], float] = {}
        self.fired: list[tuple[dt.datetime, str]] = []  # session events, as they happened
        self.state_path = Path(state_dir) / "state.json" if state_dir else None
        self.seed = seed
        self.start_prices = dict(START_PRICES)
        self.start_prices.update(prices or {})
        self.quotes = QuoteBoard(self.start_prices, seed, wall=lambda: self.now().timestamp())
        self.rngs = {s: random.Random(seed ^ zlib.crc32(s.encode())) for s in CONTRACTS}
        self.cash = cash
        self.positions: dict[str, Position] = {}
        self.orders: dict[tuple[int, int], Order] = {}
        self.by_perm: dict[int, Order] = {}
        # The orders not finished yet, oldest first (see live_orders): what
        # matching and the clock look at, however many orders have finished.
        self._live: dict[tuple[int, int], Order] = {}
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
        self.warn_next: int | None = None  # warn_next_order: a code for the next accepted order
        # Warnings of accepted orders not yet sent (held legs wait for their release).
        self.pending_warnings: dict[tuple[int, int], list[tuple[int, str]]] = {}
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
            order.met_quote = -1  # quote versions start afresh with the process
            self.add_order(order)
            if order.expires_at is not None:
                self.expiries[order.key] = order.expires_at

    def add_order(self, order: Order) -> None:
        self.orders[order.key] = order
        self.by_perm[order.perm_id] = order
        self._live[order.key] = order

    def live_orders(self) -> list[Order]:
        """The orders not finished, oldest first: matching a new order costs
        the same after 10^5 finished ones.  An order leaves it as it finishes
        (ibsim.matching's _finish, where every order's end is written)."""
        return list(self._live.values())

    def forget_live(self, order: Order) -> None:
        self._live.pop(order.key, None)

    def save(self) -> None:
        if not self.state_path:
            return
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "next_perm_id": self.next_perm_id,
            "cash": self.cash,
            "positions": {s: asdict(v) for s, v in self.positions.items()},
            "next_ids": self.next_ids,
            # Only GTC and GTD orders survive a restart, like at IB.
            "orders": [asdict(o) for o in self.live_orders() if not o.done and o.tif in MULTI_DAY],
        }
        fd, tmp = tempfile.mkstemp(dir=self.state_path.parent, prefix=".state")
        with os.fdopen(fd, "w") as fh:
            json.dump(state, fh)
        os.replace(tmp, self.state_path)

    def new_session(self) -> None:
        """A gateway (re)start: executions and completed orders are forgotten,
        DAY orders cancelled; positions, cash, GTC and GTD orders kept."""
        self.session = int(dt.datetime.now().timestamp()) & 0xFFFFFFFF
        if self.session <= self._last_session:
            self.session = self._last_session + 1
        self._last_session = self.session
        self.exec_seq = 0
        self.executions = []
        for key, order in list(self.orders.items()):
            if order.done or order.tif not in MULTI_DAY:
                del self.orders[key]
                self._live.pop(key, None)
                self.by_perm.pop(order.perm_id, None)
                self.pending_warnings.pop(key, None)
                self.expiries.pop(key, None)
        self.save()

    def now(self) -> dt.datetime:
        """The book's time: what executions and completed orders are stamped with."""
        return self.at or self.clock.now()

    # --- prices --------------------------------------------------------

    @property
    def prices(self) -> dict[str, float]:
        """The last price of each symbol (what positions are valued at)."""
        return {symbol: quote.last for symbol, quote in self.quotes.quotes.items()}

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

    # --- account --------------------------------------------------------

    def margin_state(self) -> margin.Margin:
        quantities = {s: pos.quantity for s, pos in self.positions.items()}
        return margin.requirement(self.cash, quantities, self.prices)

    def order_impact(self, symbol: str, action: str, quantity: float) -> margin.Impact:
        """What an order would do to the account filled now, at the market
        (the buying-power check and what-if)."""
        buy = action == "BUY"
        quote = self.quotes[symbol]
        levels = depth.ladder(quote, buy, self.quotes.liquidity.get(symbol))
        quantities = {s: pos.quantity for s, pos in self.positions.items()}
        return margin.impact(
            self.cash,
            quantities,
            self.prices,
            symbol,
            quantity if buy else -quantity,
            depth.estimate(levels, quantity, buy),
        )

    def account_values(self) -> list[tuple[str, str, str]]:
        last = self.prices
        gross = sum(abs(pos.quantity * last[s]) for s, pos in self.positions.items())
        stock = sum(pos.quantity * last[s] for s, pos in self.positions.items())
        unrealized = sum(
            pos.quantity * (last[s] - pos.avg_cost) for s, pos in self.positions.items()
        )
        realized = sum(pos.realized_pnl for pos in self.positions.values())
        state = self.margin_state()
        nlv = state.equity
        init, maint = state.init, state.maint
        available = nlv - init
        money = {
            "NetLiquidation": nlv,
            "TotalCashValue": self.cash,
            "SettledCash": self.cash,
            "CashBalance": self.cash,
            "AvailableFunds": available,
            "ExcessLiquidity": nlv - maint,
            "BuyingPower": available / margin.INITIAL_RATE,
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
            self.quotes[symbol].last,
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

    def resolve_contract(
        self,
        con_id: int,
        symbol: str,
        sec_type: str,
        exchange: str,
        primary: str,
        currency: str,
    ) -> p.ContractSpec | None:
        """The contract a request names, or None (IB's error 200)."""
        contract = self.contract_for(con_id, symbol)
        if (
            contract is None
            or (symbol and symbol.upper() != contract.symbol)
            or sec_type not in ("STK", "")
            or currency not in ("USD", "")
            or exchange not in ("SMART", contract.primary_exchange, "")
            or primary not in (contract.primary_exchange, "")
        ):
            return None
        return contract

    def contract_for(self, con_id: int, symbol: str) -> p.ContractSpec | None:
        if con_id:
            return BY_CON_ID.get(con_id)
        return CONTRACTS.get(symbol.upper())
