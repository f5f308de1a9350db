"""Pure translation of the mirror's account and positions into Alpaca's
account, account configuration and position objects (tests/v2/test_mapping.py).

Alpaca writes money and quantities as decimal strings; a value IB did not
report is null (unknown), never "0"."""

from __future__ import annotations

from typing import Any

from v2api.ids import account_uuid, asset_id
from v2api.mapping import decimal_text

# IB's security type -> Alpaca's asset class.  Positions of other types
# (futures, forex, bonds...) have no Alpaca class: /v2/positions leaves them
# out (GET /positions lists them).
ASSET_CLASSES = {"STK": "us_equity", "OPT": "us_option", "CRYPTO": "crypto"}
# Margin multipliers Alpaca knows: 1 (cash), 2 (Reg T overnight), 4 (intraday).
MULTIPLIERS = (1, 2, 4)


def _sum(values: list[float | None]) -> float | None:
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


def margin_multiplier(account: dict[str, Any]) -> int | None:
    """IB states its leverage in BuyingPower: 4 x AvailableFunds for a margin
    account during the day, 1 x for a cash account.  None when unknown."""
    power, funds = account.get("buying_power"), account.get("available_funds")
    if not power or not funds or funds <= 0:
        return None
    ratio = power / funds
    nearest = min(MULTIPLIERS, key=lambda m: abs(m - ratio))
    return nearest if abs(nearest - ratio) < 0.05 * nearest else None


def account_out(
    account: dict[str, Any], positions: list[dict[str, Any]], *, halted: bool
) -> dict[str, Any]:
    """Alpaca's account from the mirror's account values and positions;
    ``halted``: the kill switch (trading_blocked)."""
    values = [p.get("market_value") for p in positions if p["sec_type"] in ASSET_CLASSES]
    longs = [v for v in values if v is None or v > 0]
    shorts = [v for v in values if v is None or v < 0]
    multiplier = margin_multiplier(account)
    net_liquidation = decimal_text(account.get("net_liquidation"))
    return {
        "id": str(account_uuid(account["account"])),
        "account_number": account["account"],
        "status": "ACTIVE",
        "crypto_status": None,
        "currency": account.get("currency") or "USD",
        "buying_power": decimal_text(account.get("buying_power")),
        "regt_buying_power": None,
        "daytrading_buying_power": None,
        "non_marginable_buying_power": None,
        "options_buying_power": None,
        "cash": decimal_text(account.get("total_cash_value")),
        "accrued_fees": None,
        "pending_transfer_out": None,
        "pending_transfer_in": None,
        "portfolio_value": net_liquidation,
        "equity": net_liquidation,
        "last_equity": None,
        "long_market_value": decimal_text(_sum(longs)) if longs else "0",
        "short_market_value": decimal_text(_sum(shorts)) if shorts else "0",
        "initial_margin": None,
        "maintenance_margin": None,
        "last_maintenance_margin": None,
        "sma": None,
        "multiplier": str(multiplier) if multiplier else None,
        "pattern_day_trader": None,
        "trading_blocked": halted,
        "transfers_blocked": None,
        "account_blocked": None,
        "trade_suspended_by_user": halted,
        "shorting_enabled": None,
        "daytrade_count": None,
        "created_at": None,
        "options_approved_level": None,
        "options_trading_level": None,
    }


def configuration_out(account: dict[str, Any], *, halted: bool) -> dict[str, Any]:
    """Alpaca's account configuration as far as IB has one: none of it is a
    setting here (PATCH answers 403); the values say what this service does."""
    multiplier = margin_multiplier(account)
    return {
        "dtbp_check": None,
        "fractional_trading": False,
        "max_margin_multiplier": str(multiplier or 1),
        "no_shorting": False,
        "pdt_check": None,
        "suspend_trade": halted,
        "trade_confirm_email": "none",
        "ptp_no_exception_entry": False,
        "max_options_trading_level": None,
    }


def position_out(row: dict[str, Any]) -> dict[str, Any] | None:
    """Alpaca's position for one of the mirror's positions (None for a
    security type Alpaca has no class for)."""
    asset_class = ASSET_CLASSES.get(row["sec_type"])
    if asset_class is None:
        return None
    qty, avg_cost = float(row["qty"]), float(row["avg_cost"])
    cost_basis = qty * avg_cost
    unrealized = row.get("unrealized_pnl")
    plpc = unrealized / abs(cost_basis) if unrealized is not None and cost_basis else None
    return {
        "asset_id": asset_id(row.get("conId")),
        "symbol": row["symbol"],
        "exchange": "",
        "asset_class": asset_class,
        "asset_marginable": None,
        "avg_entry_price": decimal_text(avg_cost),
        "qty": decimal_text(qty),
        "qty_available": None,
        "side": "long" if qty > 0 else "short",
        "market_value": decimal_text(row.get("market_value")),
        "cost_basis": decimal_text(round(cost_basis, 6)),
        "unrealized_pl": decimal_text(unrealized),
        "unrealized_plpc": decimal_text(round(plpc, 10)) if plpc is not None else None,
        "unrealized_intraday_pl": None,
        "unrealized_intraday_plpc": None,
        "current_price": decimal_text(row.get("market_price")),
        "lastday_price": None,
        "change_today": None,
    }
