"""The one error handler (trading.error_handler): every error body in the
URL's dialect, rendered by the serializer the schema documents for it."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError
from rest_framework import exceptions
from rest_framework.test import APIRequestFactory

from trading.error_handler import error_body, exception_handler
from trading.exceptions import LimitExceeded
from trading.serializers import AlpacaErrorOut, ErrorOut


def handled(exc: Exception, path: str) -> tuple[int, dict[str, Any]]:
    request = APIRequestFactory().post(path)
    response = exception_handler(exc, {"request": request})
    assert response is not None
    return response.status_code, response.data


def declared(serializer: type[ErrorOut] | type[AlpacaErrorOut]) -> set[str]:
    return set(serializer().fields)


def test_invalid_input_at_the_root_is_400_with_detail_and_the_messages_by_field() -> None:
    status, body = handled(
        exceptions.ValidationError({"quantity": ["Must be positive."]}), "/order/limit"
    )

    assert status == 400
    assert body == {
        "detail": "quantity: Must be positive.",
        "errors": {"quantity": ["Must be positive."]},
    }
    assert set(body) <= declared(ErrorOut)


def test_the_same_error_under_v2_is_422_in_alpacas_shape() -> None:
    status, body = handled(exceptions.ValidationError({"qty": ["Must be positive."]}), "/v2/orders")

    assert status == 422
    assert body == {"code": 42210000, "message": "qty: Must be positive."}
    assert set(body) == declared(AlpacaErrorOut)


@pytest.mark.parametrize(
    ("path", "keys"), [("/orders", {"detail"}), ("/v2/orders", {"code", "message"})]
)
def test_a_database_failure_is_503_in_each_dialect(path: str, keys: set[str]) -> None:
    status, body = handled(OperationalError("connection refused"), path)

    assert status == 503
    assert set(body) == keys


def test_a_limit_is_400_at_the_root_403_under_v2_and_djangos_own_errors_share_the_bodies() -> None:
    assert handled(LimitExceeded("order notional over the limit"), "/order/market")[0] == 400
    assert handled(LimitExceeded("order notional over the limit"), "/v2/orders")[0] == 403
    assert error_body("/v2/nowhere", 404, "Not found.") == {
        "code": 40410000,
        "message": "Not found.",
    }
    assert error_body("/nowhere", 404, "Not found.") == {"detail": "Not found."}
