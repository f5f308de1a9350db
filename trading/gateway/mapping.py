"""Pure translation tables between IB's vocabulary and ours (tested alone)."""

# Execution side as IB reports it -> the side our API speaks.
SIDES = {"BOT": "BUY", "SLD": "SELL"}

# Order statuses that mean "still working" (shown by GET /orders).
PENDING_STATUSES = frozenset({"PendingSubmit", "ApiPending", "PreSubmitted", "Submitted"})
DONE_STATUSES = frozenset({"Filled", "Cancelled", "ApiCancelled", "Inactive"})

# IB error codes, grouped by what the service does with them.
INFORMATIONAL = frozenset(
    {
        2104,  # market data farm connection is OK
        2106,  # HMDS data farm connection is OK
        2107,  # HMDS data farm connection is inactive but should be available upon demand
        2108,  # market data farm connection is inactive
        2158,  # sec-def data farm connection is OK
        399,  # order message: warning about the order (e.g. outside RTH), not a rejection
    }
)
CONNECTIVITY_LOST = frozenset({1100, 2110})  # IB <-> gateway link lost
CONNECTIVITY_RESTORED = frozenset({1101, 1102})  # restored (data lost / maintained)
NO_SECURITY = frozenset({200})  # no security definition: unknown symbol
ORDER_REJECTED = frozenset(
    {
        103,  # duplicate order id
        104,  # can't modify a filled order
        110,  # price does not conform to the minimum price variation
        201,  # order rejected - reason: ...
        203,  # security not available or allowed for this account
        321,  # error validating request
        387,  # unsupported order type
    }
)
CANCEL_REFUSED = frozenset(
    {
        10147,  # order to cancel not found
        10148,  # order cannot be cancelled in its state
    }
)
ORDER_CANCELLED = 202  # "Order Canceled - reason:" (a confirmation, not a failure)


def side_from_ib(side: str) -> str:
    return SIDES.get(side, side)


def status_for_api(status: str) -> str:
    """The guide shows IB's statuses upper-cased: SUBMITTED, PRESUBMITTED..."""
    return status.upper()


def trigger_for_api(order_type: str, lmt_price: float | None, aux_price: float | None) -> object:
    """The guide's ``trigger``: the limit price of a limit order, the stop (trigger)
    price of stop-like orders, "—" for market orders.  Prices are None when unset."""
    if order_type == "LMT" and lmt_price is not None:
        return lmt_price
    if order_type in ("STP", "STP LMT", "TRAIL", "TRAIL LIMIT", "MIT", "LIT") and aux_price:
        return aux_price
    if lmt_price:
        return lmt_price
    return "—"
