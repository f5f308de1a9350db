"""The one handler that renders every error of the API with the right status
(settings: REST_FRAMEWORK's EXCEPTION_HANDLER), in the dialect of the URL:

- the guide's endpoints at the root: ``{"detail": "..."}`` (and ``errors``,
  the messages by field, for invalid input);
- Alpaca's Trading API at ``/v2`` (v2api): ``{"code": <int>, "message": "..."}``,
  the same exceptions with the statuses Alpaca answers (``ALPACA_STATUSES``).

Apart from trading.exceptions because it imports DRF's views, whose settings
import the authentication classes of trading.auth."""

from __future__ import annotations

from typing import Any

from django.db import InterfaceError, OperationalError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from trading.exceptions import (
    DatabaseUnavailable,
    InsufficientFunds,
    InvalidIdempotencyKey,
    LimitExceeded,
    OrderRejected,
)
from trading.serializers import AlpacaErrorOut, ErrorOut

ALPACA_PREFIX = "/v2"
# Where Alpaca answers the same error with another status than the root does.
# Everything else keeps its status (401, 403, 404, 409, 5xx...); 400 is left
# for a body that is not JSON at all, as Alpaca answers it.
ALPACA_STATUSES: dict[type[Exception], int] = {
    exceptions.ValidationError: 422,  # invalid input: Alpaca's "unprocessable"
    InvalidIdempotencyKey: 422,
    InsufficientFunds: 403,  # IB's margin check: Alpaca's "insufficient buying power"
    OrderRejected: 422,  # IB refused the order (unknown symbol, IB's own checks)
    LimitExceeded: 403,  # a pre-trade limit: forbidden, like Alpaca's buying-power refusals
}


def alpaca_code(status: int) -> int:
    """Alpaca's error code for a status: 40310000 for 403, 42210000 for 422..."""
    return status * 100_000 + 10_000


def is_alpaca_path(path: str) -> bool:
    return path == ALPACA_PREFIX or path.startswith(ALPACA_PREFIX + "/")


def error_body(path: str, status: int, message: str) -> dict[str, Any]:
    """An error's body in the dialect of ``path`` (also for the errors Django
    answers itself: ibkr_project.errors), rendered by its serializer."""
    if is_alpaca_path(path):
        return dict(AlpacaErrorOut({"code": alpaca_code(status), "message": message}).data)
    return dict(ErrorOut({"detail": message}).data)


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


def alpaca_status(exc: Exception, status: int) -> int:
    for error_class, alpaca in ALPACA_STATUSES.items():
        if isinstance(exc, error_class):
            return alpaca
    return status


def alpaca_error(exc: exceptions.APIException) -> tuple[int, dict[str, Any]]:
    """The status and body /v2 answers for an error (also for one item of a
    multi-status answer: v2api's cancel-all)."""
    status = alpaca_status(exc, exc.status_code)
    return status, error_body(ALPACA_PREFIX, status, _flatten(exc.detail))


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """``context["request"]`` decides the dialect (the root's without one)."""
    if isinstance(exc, OperationalError | InterfaceError):
        # The database is down or its connection broke: a 503 to retry, not a 500.
        exc = DatabaseUnavailable()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug: Django renders a 500
    data = response.data
    request = context.get("request")
    if request is not None and is_alpaca_path(request.path_info):
        response.status_code = alpaca_status(exc, response.status_code)
        response.data = error_body(ALPACA_PREFIX, response.status_code, _flatten(data))
        return response
    body: dict[str, Any] = {"detail": _flatten(data)}
    if isinstance(exc, exceptions.ValidationError) and isinstance(data, dict):
        # Field-level messages stay available for clients that want them.
        body["errors"] = data
    response.data = dict(ErrorOut(body).data)
    return response
