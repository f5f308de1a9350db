"""``Idempotency-Key`` on /v2 through trading.idempotency (the same records,
replays and refusals as on the root endpoints).  The one difference: the
first request's error is rendered here, with the request, so that it is
stored and replayed in /v2's dialect (trading.idempotency renders errors
without the request, in the root's)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from trading import idempotency
from trading.error_handler import exception_handler

Handler = Callable[[idempotency.Claim | None], Response]


def run_once(request: Request, body: Any, handler: Handler) -> Response:
    def rendered(claim: idempotency.Claim | None) -> Response:
        try:
            return handler(claim)
        except exceptions.APIException as exc:
            if claim is not None and claim.record is None:
                raise  # refused before the key was claimed: nothing to store
            response = exception_handler(exc, {"request": request})
            assert response is not None  # an APIException always has an answer
            return response

    key = request.headers.get(idempotency.HEADER)
    return idempotency.run_once(key, request.path, body, rendered)
