"""The order messages the simulator sends: openOrder, orderStatus and
completedOrder, each for the server version negotiated on the connection.

Field layouts follow the decoders of ib_async 2.1.0 (server version 178) and
ib_insync 0.9.86 (176), block by block; ibsim.protocol has the framing and the
other messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ibsim.protocol import (
    OUT_COMPLETED_ORDER,
    OUT_OPEN_ORDER,
    OUT_ORDER_STATUS,
    ContractSpec,
    FieldReader,
    ProtocolError,
    contract_fields,
    encode_field,
    price_text,
)


@dataclass
class OrderView:
    """What openOrder, orderStatus and completedOrder report about one order."""

    order_id: int
    client_id: int
    perm_id: int
    contract: ContractSpec
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
    parent_id: int
    parent_perm_id: int
    outside_rth: bool
    status: str
    filled: float
    avg_fill_price: float
    last_fill_price: float
    why_held: str
    completed_time: str
    completed_status: str
    good_till_date: str = ""
    trail_stop_price: float | None = None
    trailing_percent: float | None = None
    lmt_price_offset: float | None = None


@dataclass(frozen=True)
class WhatIfView:
    """A what-if order's OrderState: the account's margin before and after
    the order and its commission (USD)."""

    init_before: float
    maint_before: float
    equity_before: float
    init_after: float
    maint_after: float
    equity_after: float
    commission: float
    min_commission: float
    max_commission: float
    warning_text: str = ""

    def state_fields(self) -> list[Any]:
        """initMarginBefore .. warningText, as openOrder carries them (the
        margins as text with cents, as IB sends them)."""
        money = [
            (self.init_before, self.init_after),
            (self.maint_before, self.maint_after),
            (self.equity_before, self.equity_after),
        ]
        return [
            *[f"{before:.2f}" for before, _ in money],
            *[f"{after - before:.2f}" for before, after in money],
            *[f"{after:.2f}" for _, after in money],
            encode_field(float(self.commission)),
            encode_field(float(self.min_commission)),
            encode_field(float(self.max_commission)),
            "USD",
            self.warning_text,
        ]


NO_STATE = [""] * 14  # the same fields of an order that is no what-if: unset


def open_order(version: int, o: OrderView, what_if: WhatIfView | None = None) -> list[Any]:
    fields: list[Any] = [OUT_OPEN_ORDER, o.order_id, *contract_fields(o.contract)]
    fields += [
        o.action,
        encode_field(float(o.quantity)),
        o.order_type,
        price_text(o.lmt_price),
        price_text(o.aux_price),
        o.tif,
        o.oca_group,
        o.account,
        "O",  # openClose
        0,  # origin: customer
        o.order_ref,
        o.client_id,
        o.perm_id,
        o.outside_rth,
        False,  # hidden
        0,  # discretionaryAmt
        "",  # goodAfterTime
        "",  # deprecated sharesAllocation
        "",  # faGroup
        "",  # faMethod
        "",  # faPercentage
    ]
    if version < 177:
        fields.append("")  # faProfile
    fields += [
        "",  # modelCode
        o.good_till_date,
        "",  # rule80A
        "",  # percentOffset
        "",  # settlingFirm
        0,  # shortSaleSlot
        "",  # designatedLocation
        -1,  # exemptCode
        0,  # auctionStrategy
        "",  # startingPrice
        "",  # stockRefPrice
        "",  # delta
        "",  # stockRangeLower
        "",  # stockRangeUpper
        "",  # displaySize
        False,  # blockOrder
        False,  # sweepToFill
        False,  # allOrNone
        "",  # minQty
        o.oca_type,
        False,  # eTradeOnly
        False,  # firmQuoteOnly
        "",  # nbboPriceCap
        o.parent_id,
        0,  # triggerMethod
        "",  # volatility
        0,  # volatilityType
        "",  # deltaNeutralOrderType (empty: no delta-neutral block)
        "",  # deltaNeutralAuxPrice
        False,  # continuousUpdate
        0,  # referencePriceType
        price_text(o.trail_stop_price),  # trailStopPrice
        o.trailing_percent,  # trailingPercent
        "",  # basisPoints
        "",  # basisPointsType
        "",  # comboLegsDescrip
        0,  # combo legs
        0,  # order combo legs
        0,  # smart combo routing params
        "",  # scaleInitLevelSize
        "",  # scaleSubsLevelSize
        "",  # scalePriceIncrement (unset: no scale block)
        "",  # hedgeType (empty: no hedgeParam)
        False,  # optOutSmartRouting
        "",  # clearingAccount
        "IB",  # clearingIntent
        False,  # notHeld
        False,  # delta-neutral contract present
        "",  # algoStrategy (empty: no params)
        False,  # solicited
        what_if is not None,
        o.status,
        # initMargin, maintMargin, equityWithLoan: before, change, after;
        # commission, min, max, currency, warningText
        *(NO_STATE if what_if is None else what_if.state_fields()),
        False,  # randomizeSize
        False,  # randomizePrice
        0,  # conditions
        "None",  # adjustedOrderType
        "",  # triggerPrice
        price_text(o.trail_stop_price),  # trailStopPrice
        price_text(o.lmt_price_offset),  # lmtPriceOffset
        "",  # adjustedStopPrice
        "",  # adjustedStopLimitPrice
        "",  # adjustedTrailingAmount
        0,  # adjustableTrailingUnit
        "",  # softDollarTier name
        "",  # softDollarTier value
        "",  # softDollarTier displayName
        "",  # cashQty
        False,  # dontUseAutoPriceForHedge
        False,  # isOmsContainer
        False,  # discretionaryUpToLimitPrice
        False,  # usePriceMgmtAlgo
    ]
    if version >= 159:
        fields.append("")  # duration
    if version >= 160:
        fields.append("")  # postToAts
    if version >= 162:
        fields.append(False)  # autoCancelParent
    if version >= 170:
        fields += ["", "", "", "", ""]  # minTradeQty .. midOffsetAtHalf
    return fields


def order_status(o: OrderView) -> list[Any]:
    remaining = max(o.quantity - o.filled, 0.0)
    if o.status in ("Cancelled", "ApiCancelled", "Inactive"):
        remaining = 0.0 if o.status != "Inactive" else remaining
    return [
        OUT_ORDER_STATUS,
        o.order_id,
        o.status,
        encode_field(float(o.filled)),
        encode_field(float(remaining)),
        encode_field(float(o.avg_fill_price)),
        o.perm_id,
        o.parent_id,
        encode_field(float(o.last_fill_price)),
        o.client_id,
        o.why_held,
        0,  # mktCapPrice
    ]


def completed_order(version: int, o: OrderView) -> list[Any]:
    fields: list[Any] = [OUT_COMPLETED_ORDER, *contract_fields(o.contract)]
    fields += [
        o.action,
        encode_field(float(o.quantity)),
        o.order_type,
        price_text(o.lmt_price),
        price_text(o.aux_price),
        o.tif,
        o.oca_group,
        o.account,
        "O",
        0,
        o.order_ref,
        o.perm_id,
        o.outside_rth,
        False,  # hidden
        0,  # discretionaryAmt
        "",  # goodAfterTime
        "",  # faGroup
        "",  # faMethod
        "",  # faPercentage
    ]
    if version < 177:
        fields.append("")  # faProfile
    fields += [
        "",  # modelCode
        o.good_till_date,
        "",  # rule80A
        "",  # percentOffset
        "",  # settlingFirm
        0,  # shortSaleSlot
        "",  # designatedLocation
        -1,  # exemptCode
        "",  # startingPrice
        "",  # stockRefPrice
        "",  # delta
        "",  # stockRangeLower
        "",  # stockRangeUpper
        "",  # displaySize
        False,  # sweepToFill
        False,  # allOrNone
        "",  # minQty
        o.oca_type,
        0,  # triggerMethod
        "",  # volatility
        0,  # volatilityType
        "",  # deltaNeutralOrderType
        "",  # deltaNeutralAuxPrice
        False,  # continuousUpdate
        0,  # referencePriceType
        price_text(o.trail_stop_price),  # trailStopPrice
        o.trailing_percent,  # trailingPercent
        "",  # comboLegsDescrip
        0,  # combo legs
        0,  # order combo legs
        0,  # smart combo routing params
        "",  # scaleInitLevelSize
        "",  # scaleSubsLevelSize
        "",  # scalePriceIncrement
        "",  # hedgeType
        "",  # clearingAccount
        "IB",  # clearingIntent
        False,  # notHeld
        False,  # delta-neutral contract present
        "",  # algoStrategy
        False,  # solicited
        o.status,
        False,  # randomizeSize
        False,  # randomizePrice
        0,  # conditions
        price_text(o.trail_stop_price),  # trailStopPrice
        price_text(o.lmt_price_offset),  # lmtPriceOffset
        "",  # cashQty
        False,  # dontUseAutoPriceForHedge
        False,  # isOmsContainer
        "",  # autoCancelDate
        encode_field(float(o.filled)),
        0,  # refFuturesConId
        False,  # autoCancelParent
        "",  # shareholder
        False,  # imbalanceOnly
        False,  # routeMarketableToBbo
        o.parent_perm_id,
        o.completed_time,
        o.completed_status,
    ]
    if version >= 170:
        fields += ["", "", "", "", ""]
    return fields


def read_place_order(version: int, msg: FieldReader) -> dict[str, Any]:
    """The fields of a placeOrder message (after its id) the simulator uses,
    in the order ib_async and ib_insync write them.  A combo (secType BAG)
    is read no further than its legs, which shift every later field."""
    spec: dict[str, Any] = {"order_id": msg.int(), "con_id": msg.int(), "symbol": msg.str()}
    spec["sec_type"] = msg.str()
    msg.skip(4)  # lastTradeDate, strike, right, multiplier
    spec["exchange"] = msg.str()
    msg.skip(1)  # primaryExchange
    spec["currency"] = msg.str()
    msg.skip(2)  # localSymbol, tradingClass
    msg.skip(2)  # secIdType, secId
    spec["action"] = msg.str()
    spec["quantity"] = msg.float()
    spec["order_type"] = msg.str()
    spec["lmt_price"] = msg.float()
    spec["aux_price"] = msg.float()
    spec["tif"] = msg.str()
    spec["oca_group"] = msg.str()
    spec["account"] = msg.str()
    msg.skip(2)  # openClose, origin
    spec["order_ref"] = msg.str()
    spec["transmit"] = msg.bool()
    spec["parent_id"] = msg.int()
    msg.skip(4)  # blockOrder, sweepToFill, displaySize, triggerMethod
    spec["outside_rth"] = msg.bool()
    msg.skip(1)  # hidden
    if spec["sec_type"] == "BAG":
        return spec
    msg.skip(3)  # "", discretionaryAmt, goodAfterTime
    spec["good_till_date"] = msg.str()
    msg.skip(3)  # faGroup, faMethod, faPercentage
    if version < 177:
        msg.skip(1)  # faProfile
    msg.skip(4)  # modelCode, shortSaleSlot, designatedLocation, exemptCode
    spec["oca_type"] = msg.int()
    _read_tail(spec, msg)
    return spec


def _read_tail(spec: dict[str, Any], msg: FieldReader) -> None:
    """trailStopPrice, trailingPercent, whatIf and lmtPriceOffset, behind the
    blocks that follow ocaType (each present or not by a field before it, as
    both clients write them).  What cannot be read stays unset."""
    spec["what_if"] = False
    try:
        # rule80A, settlingFirm, allOrNone, minQty, percentOffset, eTradeOnly,
        # firmQuoteOnly, nbboPriceCap, auctionStrategy, startingPrice,
        # stockRefPrice, delta, stockRangeLower, stockRangeUpper,
        # overridePercentageConstraints, volatility, volatilityType
        msg.skip(17)
        delta_neutral_type = msg.str()
        msg.skip(1)  # deltaNeutralAuxPrice
        if delta_neutral_type:
            # conId, settlingFirm, clearingAccount, clearingIntent, openClose,
            # shortSale, shortSaleSlot, designatedLocation
            msg.skip(8)
        msg.skip(2)  # continuousUpdate, referencePriceType
        spec["trail_stop_price"] = msg.float()
        spec["trailing_percent"] = msg.float()
        msg.skip(2)  # scaleInitLevelSize, scaleSubsLevelSize
        increment = msg.float()
        if increment is not None and increment > 0:
            msg.skip(7)  # the scale block
        msg.skip(3)  # scaleTable, activeStartTime, activeStopTime
        if msg.str():  # hedgeType
            msg.skip(1)  # hedgeParam
        msg.skip(4)  # optOutSmartRouting, clearingAccount, clearingIntent, notHeld
        if msg.bool():  # deltaNeutralContract
            msg.skip(3)
        if msg.str():  # algoStrategy
            msg.skip(2 * msg.int())  # its params
        msg.skip(1)  # algoId
        spec["what_if"] = msg.bool()
        # orderMiscOptions, solicited, randomizeSize, randomizePrice
        msg.skip(4)
        if spec["order_type"] in ("PEG BENCH", "PEGBENCH"):
            msg.skip(5)
        if msg.int():  # conditions: their layouts vary; no offset read behind them
            return
        msg.skip(2)  # adjustedOrderType, triggerPrice
        spec["lmt_price_offset"] = msg.float()
    except ProtocolError:
        return
