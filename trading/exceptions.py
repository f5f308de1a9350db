"""Domain exceptions and the one handler that renders every error as
``{"detail": "..."}`` with the right status code."""

from typing import Any

from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


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


def _flatten(data: Any) -> str:
    """Turn DRF's nested validation errors into one readable sentence."""
    if isinstance(data, dict):
        parts = []
        for field, value in data.items():
            text = _flatten(value)
            parts.append(text if field in ("detail", "non_field_errors") else f"{field}: {text}")
        return "; ".join(parts)
    if isinstance(data, list):
        return " ".join(_flatten(item) for item in data)
    return str(data)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug: Django renders a 500
    data = response.data
    if not (isinstance(data, dict) and set(data) == {"detail"} and isinstance(data["detail"], str)):
        errors = data
        response.data = {"detail": _flatten(data)}
        if isinstance(exc, exceptions.ValidationError):
            # Field-level messages stay available for clients that want them.
            response.data["errors"] = errors
    return response


class StateStoreUnavailable(DomainError):
    """Redis (the queue and the state mirror) cannot be reached."""

    status_code: int = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service's Redis is unreachable; try again shortly"
    default_code = "state_store_unavailable"


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


class InvalidIdempotencyKey(DomainError):
    default_detail = "Idempotency-Key must be 1 to 255 printable characters"
    default_code = "invalid_idempotency_key"
