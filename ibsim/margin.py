"""The account's one margin model, and what an order would do to it: the
numbers the account values report (ibsim.ledger), the buying-power check on
new orders and a what-if order's answer all come from here.  Pure functions.

The model: a margin account whose initial and maintenance requirements are
both 25% of the gross position value (longs and shorts alike, at the last
price), and whose equity with loan value is its net liquidation value (cash
plus the market value of the positions).  An order is priced at the market,
as IB prices a what-if: walking the book from the touch for its whole
quantity (a limit order as a market one), the commission by the per-order
rule (ibsim.records).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ibsim.order_messages import WhatIfView
from ibsim.records import commission_for

INITIAL_RATE = 0.25
MAINTENANCE_RATE = 0.25


@dataclass(frozen=True)
class Margin:
    """One state of the account's margin."""

    init: float
    maint: float
    equity: float  # equity with loan value


def requirement(cash: float, positions: Mapping[str, float], last: Mapping[str, float]) -> Margin:
    """The account's margin at `last` prices (positions: symbol -> signed shares)."""
    gross = sum(abs(quantity * last[symbol]) for symbol, quantity in positions.items())
    stock = sum(quantity * last[symbol] for symbol, quantity in positions.items())
    return Margin(INITIAL_RATE * gross, MAINTENANCE_RATE * gross, cash + stock)


@dataclass(frozen=True)
class Impact:
    """An order's effect on the account, were it filled now: IB's what-if."""

    before: Margin
    after: Margin
    commission: float

    @property
    def rejected(self) -> bool:
        """IB refuses an order that raises the initial margin above the
        equity with loan value it would leave (a reducing order always passes)."""
        return self.after.init > self.before.init and self.after.init > self.after.equity

    def view(self) -> WhatIfView:
        """What-if's OrderState.  Fixed pricing leaves nothing to estimate:
        the minimum and maximum commission are the commission."""
        return WhatIfView(
            init_before=self.before.init,
            maint_before=self.before.maint,
            equity_before=self.before.equity,
            init_after=self.after.init,
            maint_after=self.after.maint,
            equity_after=self.after.equity,
            commission=self.commission,
            min_commission=self.commission,
            max_commission=self.commission,
        )

    def reason(self) -> str:
        """Error 201's text for a refused order, IB's wording."""
        return (
            "Order rejected - reason:YOUR ORDER IS NOT ACCEPTED. IN ORDER TO OBTAIN THE "
            f"DESIRED POSITION YOUR EQUITY WITH LOAN VALUE [{self.after.equity:.2f} USD] "
            f"MUST EXCEED THE INITIAL MARGIN [{self.after.init:.2f} USD]"
        )


def impact(
    cash: float,
    positions: Mapping[str, float],
    last: Mapping[str, float],
    symbol: str,
    signed: float,
    fills: list[tuple[float, float]],
) -> Impact:
    """The account before and after an order of `signed` shares of `symbol`
    (positive: a buy) filled as `fills` (price, shares)."""
    value = sum(price * shares for price, shares in fills)
    commission = commission_for(abs(signed), value)
    after_positions = dict(positions)
    after_positions[symbol] = after_positions.get(symbol, 0.0) + signed
    cash_after = cash - (value if signed > 0 else -value) - commission
    return Impact(
        before=requirement(cash, positions, last),
        after=requirement(cash_after, after_positions, last),
        commission=commission,
    )
