"""Idempotency-Key handling for POST /order/*.

The same key with the same body replays the first answer and places nothing;
with a different body it is refused (409); concurrent duplicates wait for the
first one's answer.  Transient failures (503: nothing was sent) release the
key so the client can retry with it.  Keys are kept for IDEMPOTENCY_KEY_TTL
(at least 24 hours)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.response import Response

from trading.exceptions import (
    IdempotencyConflict,
    IdempotencyInProgress,
    InvalidIdempotencyKey,
)
from trading.models import IdempotencyRecord

HEADER = "Idempotency-Key"
RELEASED_STATUSES = {503}  # nothing reached IB: the same key may try again


def _hash(endpoint: str, body: Any) -> str:
    text = json.dumps([endpoint, body], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _expire_old() -> None:
    cutoff = timezone.now() - dt.timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL)
    IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()


def run_once(
    key: str | None, endpoint: str, body: Any, handler: Callable[[], Response]
) -> Response:
    if key is None:
        return handler()
    if not (0 < len(key) <= 255 and key.isprintable()):
        raise InvalidIdempotencyKey()
    digest = _hash(endpoint, body)
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                key=key, endpoint=endpoint, request_hash=digest
            )
    except IntegrityError:
        return _replay(key, digest)
    try:
        response = handler()
    except exceptions.APIException as exc:
        from trading.exceptions import exception_handler

        rendered = exception_handler(exc, {})
        assert rendered is not None
        response = rendered
    except BaseException:
        record.delete()  # a bug or a crash: nothing recorded, the key is free again
        raise
    if response.status_code in RELEASED_STATUSES:
        record.delete()
        return response
    record.status_code = response.status_code
    record.response = json.dumps(response.data, ensure_ascii=False)
    record.finished_at = timezone.now()
    record.save(update_fields=["status_code", "response", "finished_at"])
    if record.pk % 100 == 0:
        _expire_old()
    return response


def _replay(key: str, digest: str) -> Response:
    deadline = time.monotonic() + settings.ORDER_ACK_TIMEOUT + 5
    while True:
        record = IdempotencyRecord.objects.filter(key=key).first()
        if record is None:
            raise IdempotencyInProgress()  # released by a transient failure: retry
        if record.request_hash != digest:
            raise IdempotencyConflict()
        if record.status_code is not None:
            return Response(
                json.loads(record.response or "null"),
                status=record.status_code,
                headers={"Idempotent-Replayed": "true"},
            )
        if time.monotonic() > deadline:
            raise IdempotencyInProgress()
        time.sleep(0.05)
