"""Execution data as the gateway runtime hands it to the journal
(``GatewayRuntime.execution_data``): plain dicts, times timezone-aware."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

import factory

from ibsim.universe import CONTRACTS


def con_id(symbol: str) -> int | None:
    """The symbol's conId as the simulator's IB numbers its stock."""
    contract = CONTRACTS.get(symbol)
    return contract.con_id if contract else None


class ExecutionDataFactory(factory.DictFactory):  # type: ignore[misc]
    """``ExecutionDataFactory(symbol="MSFT", side="SELL")`` -> a fresh fill whose
    execId (``<seq>.<session>.01.01``) and permId nobody used before."""

    exec_id = factory.Sequence(lambda n: f"{n + 1:08x}.6578b1c2.01.01")
    perm_id = factory.Sequence(lambda n: 900_000_000 + n)
    order_id = factory.Sequence(lambda n: n + 1)
    client_id = 0
    order_ref = ""
    account = "DU1234567"
    symbol = "AAPL"
    con_id = factory.LazyAttribute(lambda o: con_id(o.symbol))
    sec_type = "STK"
    exchange = "NASDAQ"
    currency = "USD"
    side = "BUY"
    quantity = 10.0
    price = 230.5
    cum_quantity = factory.SelfAttribute("quantity")
    avg_price = factory.SelfAttribute("price")
    executed_at = factory.LazyFunction(lambda: dt.datetime.now(dt.UTC).isoformat())
    ib_time = "20240115 09:30:25 US/Eastern"


def execution_data(**overrides: Any) -> dict[str, Any]:
    return cast(dict[str, Any], ExecutionDataFactory(**overrides))


def revision(exec_id: str, number: int) -> str:
    """The same fill's execId with another revision suffix."""
    return f"{exec_id.rpartition('.')[0]}.{number:02d}"


def order_data(**overrides: Any) -> dict[str, Any]:
    """Order data as ``GatewayRuntime.order_data`` shapes it."""
    data: dict[str, Any] = {
        "perm_id": 700_000_001,
        "order_id": 11,
        "client_id": 0,
        "order_ref": "ref-1",
        "account": "DU1234567",
        "symbol": "AAPL",
        "sec_type": "STK",
        "action": "BUY",
        "order_type": "LMT",
        "quantity": 10.0,
        "limit_price": 230.0,
        "stop_price": None,
        "tif": "DAY",
        "parent_perm_id": None,
        "status": "Submitted",
        "filled": 0.0,
        "avg_fill_price": None,
    }
    data.update(overrides)
    data.setdefault("con_id", con_id(data["symbol"]))
    return data
