"""Domain exceptions, each with its status and default message, and the one
table from the worker's outcomes to them.  trading.error_handler renders
every error as ``{"detail": "..."}``."""

from rest_framework import exceptions, status

from trading.wire import Outcome, OutcomeKind


class DomainError(exceptions.APIException):
    """Base of every error the service raises on purpose."""

    status_code: int = status.HTTP_400_BAD_REQUEST
    default_detail = "Invalid request."
    default_code = "invalid"


class GatewayUnavailable(DomainError):
    status_code: int = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Failed to connect to IB Gateway"
    default_code = "gateway_unavailable"


class GatewayTimeout(DomainError):
    status_code: int = status.HTTP_504_GATEWAY_TIMEOUT
    default_detail = "IB Gateway did not answer in time"
    default_code = "gateway_timeout"


class OrderNotFound(DomainError):
    status_code: int = status.HTTP_404_NOT_FOUND
    default_detail = "Order not found or already filled"
    default_code = "order_not_found"


class OrderRejected(DomainError):
    status_code: int = status.HTTP_400_BAD_REQUEST
    default_detail = "Order rejected"
    default_code = "order_rejected"


class InsufficientFunds(OrderRejected):
    """IB refused the order for want of margin or buying power: 400 at the
    root as every IB rejection; 403 under /v2, as Alpaca answers it."""

    default_detail = "Order rejected: insufficient buying power"
    default_code = "insufficient_funds"


class StateStoreUnavailable(DomainError):
    """Redis (the queue and the state mirror) cannot be reached."""

    status_code: int = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service's Redis is unreachable; try again shortly"
    default_code = "state_store_unavailable"


class DatabaseUnavailable(DomainError):
    """The database (tokens, the journal, the audit log) cannot be reached:
    nothing is read from it or written to it, and no order is sent (an order's
    audit row is written before it goes to the worker)."""

    status_code: int = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service's database is unreachable; try again shortly"
    default_code = "database_unavailable"


class OrderExpired(DomainError):
    """The worker could not pick the order up before its deadline; it was dropped unplaced."""

    status_code: int = status.HTTP_504_GATEWAY_TIMEOUT
    default_detail = "The order was not placed: it could not be sent to IB before its deadline"
    default_code = "order_expired"


class TradingHalted(DomainError):
    status_code: int = status.HTTP_403_FORBIDDEN
    default_detail = "Trading is halted (kill switch): new orders are refused, cancels still work"
    default_code = "trading_halted"


class LiveTradingRefused(DomainError):
    status_code: int = status.HTTP_403_FORBIDDEN
    default_detail = (
        "The gateway is connected to a live account: orders are refused unless "
        "LIVE_TRADING=1 and the token has the 'live' scope"
    )
    default_code = "live_trading_refused"


class GlobalCancelRefused(DomainError):
    status_code = 403
    default_detail = (
        "Cancelling every client's orders (IB's global cancel) needs a token with the "
        "'live' scope, or GLOBAL_CANCEL_TRADE_SCOPE on for 'trade' tokens"
    )
    default_code = "global_cancel_refused"


class LimitExceeded(DomainError):
    status_code: int = status.HTTP_400_BAD_REQUEST
    default_detail = "The order breaks a pre-trade limit"
    default_code = "limit_exceeded"


class IdempotencyConflict(DomainError):
    status_code: int = status.HTTP_409_CONFLICT
    default_detail = "This Idempotency-Key was used with a different request body"
    default_code = "idempotency_conflict"


class IdempotencyInProgress(DomainError):
    status_code: int = status.HTTP_409_CONFLICT
    default_detail = "A request with this Idempotency-Key is still being processed; retry shortly"
    default_code = "idempotency_in_progress"


class IdempotencyUnresolved(DomainError):
    status_code: int = status.HTTP_409_CONFLICT
    default_detail = (
        "The first request with this Idempotency-Key never got its answer (the server "
        "stopped while it was being placed), so the order may have been placed: check "
        "GET /orders and GET /executions (orderRef) before sending it again with a new key"
    )
    default_code = "idempotency_unresolved"


class InvalidIdempotencyKey(DomainError):
    default_detail = "Idempotency-Key must be 1 to 255 printable characters"
    default_code = "invalid_idempotency_key"


class WorkerError(DomainError):
    """A bug in the gateway worker while it handled the request: ours, not the
    gateway's. Whether the order reached IB is unknown until GET /orders says."""

    status_code: int = status.HTTP_500_INTERNAL_SERVER_ERROR
    default_detail = (
        "The gateway worker failed while handling the request; check GET /orders before retrying"
    )
    default_code = "worker_error"


# The one place an outcome of the worker becomes an HTTP answer. A refusal
# means the same from either side: the web's LiveTradingRefused and the
# worker's LIVE_REFUSED are one exception, one status.
OUTCOME_ERRORS: dict[OutcomeKind, type[DomainError]] = {
    OutcomeKind.UNAVAILABLE: GatewayUnavailable,
    OutcomeKind.TIMEOUT: GatewayTimeout,
    OutcomeKind.EXPIRED: OrderExpired,
    OutcomeKind.REJECTED: OrderRejected,
    OutcomeKind.INSUFFICIENT_FUNDS: InsufficientFunds,
    OutcomeKind.NOT_FOUND: OrderNotFound,
    OutcomeKind.LIVE_REFUSED: LiveTradingRefused,
    OutcomeKind.LIMIT_EXCEEDED: LimitExceeded,
    OutcomeKind.STATE_STORE: StateStoreUnavailable,
    OutcomeKind.WORKER_ERROR: WorkerError,
}


def outcome_error(outcome: Outcome) -> DomainError:
    """The exception for a failed outcome; the worker's message, when it has
    one, reaches the client unchanged."""
    error_class = OUTCOME_ERRORS.get(outcome.kind, WorkerError)
    return error_class(detail=outcome.get("message") or None)
