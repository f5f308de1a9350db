"""The TWS API socket protocol: framing, version negotiation and the encoders
of every message the simulator sends, for the server version negotiated on
each connection.

Field layouts follow the decoders of ib_async 2.1.0 (server version 178) and
ib_insync 0.9.86 (176); a field list here is exactly what those decoders read.
"""

from __future__ import annotations

import builtins
import math
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

MIN_SERVER_VERSION = 157  # the oldest layout encoded here (ib_insync/ib_async minimum)
MAX_SERVER_VERSION = 178
UNSET_DOUBLE = 1.7976931348623157e308
UNSET_DOUBLE_TEXT = "1.7976931348623157E308"
NO_SECURITY_DEFINITION = "No security definition has been found for the request"  # error 200

# Incoming message ids (client -> server).
IN_REQ_MKT_DATA = 1
IN_CANCEL_MKT_DATA = 2
IN_PLACE_ORDER = 3
IN_CANCEL_ORDER = 4
IN_REQ_OPEN_ORDERS = 5
IN_REQ_ACCOUNT_UPDATES = 6
IN_REQ_EXECUTIONS = 7
IN_REQ_IDS = 8
IN_REQ_CONTRACT_DETAILS = 9
IN_REQ_AUTO_OPEN_ORDERS = 15
IN_REQ_ALL_OPEN_ORDERS = 16
IN_REQ_MANAGED_ACCTS = 17
IN_REQ_CURRENT_TIME = 49
IN_REQ_GLOBAL_CANCEL = 58
IN_REQ_MARKET_DATA_TYPE = 59
IN_REQ_POSITIONS = 61
IN_REQ_ACCOUNT_SUMMARY = 62
IN_CANCEL_ACCOUNT_SUMMARY = 63
IN_CANCEL_POSITIONS = 64
IN_START_API = 71
IN_REQ_ACCOUNT_UPDATES_MULTI = 76
IN_CANCEL_ACCOUNT_UPDATES_MULTI = 77
IN_REQ_COMPLETED_ORDERS = 99

# Outgoing message ids (server -> client).
OUT_TICK_PRICE = 1
OUT_TICK_SIZE = 2
OUT_ORDER_STATUS = 3
OUT_ERROR = 4
OUT_OPEN_ORDER = 5
OUT_ACCOUNT_VALUE = 6
OUT_PORTFOLIO_VALUE = 7
OUT_ACCOUNT_UPDATE_TIME = 8
OUT_NEXT_VALID_ID = 9
OUT_CONTRACT_DATA = 10
OUT_EXECUTION_DATA = 11
OUT_MANAGED_ACCTS = 15
OUT_TICK_STRING = 46
OUT_CURRENT_TIME = 49
OUT_CONTRACT_DATA_END = 52
OUT_OPEN_ORDER_END = 53
OUT_ACCOUNT_DOWNLOAD_END = 54
OUT_EXECUTION_DATA_END = 55
OUT_TICK_SNAPSHOT_END = 57
OUT_MARKET_DATA_TYPE = 58
OUT_COMMISSION_REPORT = 59
OUT_POSITION_DATA = 61
OUT_POSITION_END = 62
OUT_ACCOUNT_SUMMARY = 63
OUT_ACCOUNT_SUMMARY_END = 64
OUT_ACCOUNT_UPDATE_MULTI = 73
OUT_ACCOUNT_UPDATE_MULTI_END = 74
OUT_TICK_REQ_PARAMS = 81
OUT_COMPLETED_ORDER = 101
OUT_COMPLETED_ORDERS_END = 102


class ProtocolError(Exception):
    """The peer sent something a gateway would not accept."""


def frame(fields: Iterable[Any]) -> bytes:
    """One length-prefixed message of NUL-terminated fields."""
    payload = "".join(f"{encode_field(f)}\0" for f in fields).encode()
    return struct.pack(">I", len(payload)) + payload


def encode_field(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if value == UNSET_DOUBLE:
            return UNSET_DOUBLE_TEXT
        return repr(round(value, 8)) if math.isfinite(value) else ""
    return str(value)


def split_frame(payload: bytes) -> list[str]:
    fields = payload.decode(errors="backslashreplace").split("\0")
    if fields and fields[-1] == "":
        fields.pop()
    return fields


def negotiate(version_text: str) -> int:
    """Answer the client's "v<min>..<max>[ options]" with the highest common version."""
    text = version_text.strip()
    if not text.startswith("v"):
        raise ProtocolError(f"bad version range {version_text!r}")
    span = text[1:].split(" ", 1)[0]
    low_text, _, high_text = span.partition("..")
    try:
        low = int(low_text)
        high = int(high_text or low_text)
    except ValueError as exc:
        raise ProtocolError(f"bad version range {version_text!r}") from exc
    version = min(high, MAX_SERVER_VERSION)
    if version < max(low, MIN_SERVER_VERSION):
        raise ProtocolError(f"no common version with {version_text!r}")
    return version


class FieldReader:
    """Reads the fields of one incoming message in order."""

    def __init__(self, fields: list[str]) -> None:
        self.fields = fields
        self.pos = 0

    def str(self) -> str:
        if self.pos >= len(self.fields):
            raise ProtocolError("message too short")
        value = self.fields[self.pos]
        self.pos += 1
        return value

    def int(self, default: int = 0) -> int:
        text = self.str()
        return int(text) if text not in ("", "2147483647") else default

    def float(self) -> float | None:
        text = self.str()
        if text in ("", UNSET_DOUBLE_TEXT, "1.7976931348623157e+308"):
            return None
        value = float(text)
        return value if value != UNSET_DOUBLE else None

    def bool(self) -> bool:
        return self.str() not in ("", "0", "false", "False")

    def skip(self, count: builtins.int = 1) -> None:
        self.pos += count


# --- value objects the encoders read -------------------------------------


@dataclass(frozen=True)
class ContractSpec:
    symbol: str
    con_id: int
    sec_type: str
    primary_exchange: str
    long_name: str
    industry: str
    category: str
    stock_type: str
    currency: str = "USD"
    min_tick: float = 0.01


def contract_fields(c: ContractSpec, exchange: str = "SMART") -> list[Any]:
    """conId, symbol, secType, lastTradeDate, strike, right, multiplier,
    exchange, currency, localSymbol, tradingClass."""
    return [c.con_id, c.symbol, c.sec_type, "", 0.0, "", "", exchange, c.currency, c.symbol, "NMS"]


def price_text(value: float | None) -> str:
    return "" if value is None else encode_field(float(value))


# --- encoders ---------------------------------------------------------------


def error(version: int, req_id: int, code: int, message: str) -> list[Any]:
    fields: list[Any] = [OUT_ERROR, 2, req_id, code, message]
    if version >= 166:
        fields.append("")  # advancedOrderRejectJson
    return fields


def contract_details(
    version: int, req_id: int, c: ContractSpec, trading_hours: str, liquid_hours: str
) -> list[Any]:
    """contractData; the hours in IB's text, US/Eastern (ibsim.hours)."""
    market_rule = "26"
    fields: list[Any] = [OUT_CONTRACT_DATA]
    if version < 164:
        fields.append(8)
    fields += [
        req_id,
        c.symbol,
        c.sec_type,
        "",  # lastTradeDate
        0.0,  # strike
        "",  # right
        "SMART",
        c.currency,
        c.symbol,  # localSymbol
        "NMS",  # marketName
        "NMS",  # tradingClass
        c.con_id,
        c.min_tick,
    ]
    if version < 164:
        fields.append(1)  # mdSizeMultiplier
    fields += [
        "",  # multiplier
        "ACTIVETIM,AD,ADJUST,ALERT,ALGO,ALLOC,AVGCOST,BASKET,DAY,GTC,LIT,LMT,MIT,MKT,"
        "MOC,MTL,OCA,REL,STP,STPLMT,TRAIL,WHATIF",
        f"SMART,AMEX,NYSE,CBOE,ISE,CHX,ARCA,NASDAQ,IEX,{c.primary_exchange}",
        1,  # priceMagnifier
        0,  # underConId
        c.long_name,
        c.primary_exchange,
        "",  # contractMonth
        c.industry,
        c.category,
        "",  # subcategory
        "US/Eastern",  # timeZoneId
        trading_hours,
        liquid_hours,
        "",  # evRule
        "",  # evMultiplier
        1,  # numSecIds
        "ISIN",
        f"US{c.con_id:09d}0",
        1,  # aggGroup
        "",  # underSymbol
        "",  # underSecType
        f"{market_rule},{market_rule}",
        "",  # realExpirationDate
        c.stock_type,
    ]
    if version == 163:
        fields.append(100)
    if version >= 164:
        fields += ["0.0001", "0.0001", "100"]
    return fields


@dataclass
class ExecutionView:
    exec_id: str
    order_id: int
    client_id: int
    perm_id: int
    contract: ContractSpec
    time_text: str
    account: str
    exchange: str
    side: str  # BOT / SLD
    shares: float
    price: float
    cum_qty: float
    avg_price: float
    order_ref: str
    commission: float
    realized_pnl: float | None


def exec_details(version: int, req_id: int, e: ExecutionView) -> list[Any]:
    fields: list[Any] = [
        OUT_EXECUTION_DATA,
        req_id,
        e.order_id,
        *contract_fields(e.contract, exchange=e.exchange),
        e.exec_id,
        e.time_text,
        e.account,
        e.exchange,
        e.side,
        encode_field(float(e.shares)),
        encode_field(float(e.price)),
        e.perm_id,
        e.client_id,
        0,  # liquidation
        encode_field(float(e.cum_qty)),
        encode_field(float(e.avg_price)),
        e.order_ref,
        "",  # evRule
        "",  # evMultiplier
        "",  # modelCode
        2,  # lastLiquidity: removed liquidity
    ]
    if version >= 178:
        fields.append(False)  # pendingPriceRevision
    return fields


def commission_report(e: ExecutionView) -> list[Any]:
    pnl = UNSET_DOUBLE if e.realized_pnl is None else e.realized_pnl
    return [
        OUT_COMMISSION_REPORT,
        1,
        e.exec_id,
        encode_field(float(e.commission)),
        "USD",
        encode_field(float(pnl)),
        UNSET_DOUBLE_TEXT,  # yield
        "",  # yieldRedemptionDate
    ]


def position(account: str, c: ContractSpec, quantity: float, avg_cost: float) -> list[Any]:
    return [
        OUT_POSITION_DATA,
        3,
        account,
        *contract_fields(c, exchange=c.primary_exchange),
        encode_field(float(quantity)),
        encode_field(float(avg_cost)),
    ]


def portfolio_value(
    account: str,
    c: ContractSpec,
    quantity: float,
    market_price: float,
    avg_cost: float,
    realized_pnl: float,
) -> list[Any]:
    market_value = round(quantity * market_price, 2)
    unrealized = round(market_value - quantity * avg_cost, 2) if quantity else 0.0
    return [
        OUT_PORTFOLIO_VALUE,
        8,
        c.con_id,
        c.symbol,
        c.sec_type,
        "",
        0.0,
        "",
        "",
        c.primary_exchange,
        c.currency,
        c.symbol,
        "NMS",
        encode_field(float(quantity)),
        encode_field(float(market_price)),
        encode_field(float(market_value)),
        encode_field(float(avg_cost)),
        encode_field(float(unrealized)),
        encode_field(float(realized_pnl)),
        account,
    ]


# --- market data ----------------------------------------------------------
# The same layouts for every version from 157 to 178.  Sizes are sent as
# whole numbers of shares (the Decimal text IB sends from version 163).


def tick_price(req_id: int, tick_type: int, price: float, size: int, attribs: int) -> list[Any]:
    """tickPrice: [1, 6, reqId, tickType, price, size, attribMask]; attribMask
    bit 0 canAutoExecute, bit 1 pastLimit, bit 2 preOpen."""
    return [OUT_TICK_PRICE, 6, req_id, tick_type, encode_field(float(price)), size, attribs]


def tick_size(req_id: int, tick_type: int, size: int) -> list[Any]:
    return [OUT_TICK_SIZE, 6, req_id, tick_type, size]


def tick_string(req_id: int, tick_type: int, value: str) -> list[Any]:
    return [OUT_TICK_STRING, 6, req_id, tick_type, value]


def tick_snapshot_end(req_id: int) -> list[Any]:
    return [OUT_TICK_SNAPSHOT_END, 1, req_id]


def market_data_type(req_id: int, data_type: int) -> list[Any]:
    return [OUT_MARKET_DATA_TYPE, 1, req_id, data_type]


def tick_req_params(
    req_id: int, min_tick: float, bbo_exchange: str, snapshot_permissions: int
) -> list[Any]:
    """No version field: [81, reqId, minTick, bboExchange, snapshotPermissions]."""
    return [OUT_TICK_REQ_PARAMS, req_id, encode_field(min_tick), bbo_exchange, snapshot_permissions]
