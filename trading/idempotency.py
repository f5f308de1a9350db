"""Idempotency-Key handling for POST /order/*.

The same key with the same body replays the first answer and places nothing;
with a different body it is refused (409); concurrent duplicates wait for the
first one's answer.  Transient failures (503: nothing was sent) release the
key so the client can retry with it.  Keys are kept for IDEMPOTENCY_KEY_TTL
(at least 24 hours).

The key's record is written by the service, in the same transaction as the
request's audit row (``Claim.make``, trading.audit): one commit before the
order is queued, not two.  A duplicate key fails that transaction, so a
replayed request leaves no audit row, as before."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.response import Response

from trading.error_handler import exception_handler
from trading.exceptions import (
    IdempotencyConflict,
    IdempotencyInProgress,
    IdempotencyUnresolved,
    InvalidIdempotencyKey,
)
from trading.models import IdempotencyRecord

log = logging.getLogger("trading.idempotency")

HEADER = "Idempotency-Key"
# A key is 1 to 255 visible ASCII characters, spaces allowed inside (HTTP
# strips them at the ends, so a key cannot start or end with one).  The schema
# states the same pattern (trading.schema.IDEMPOTENCY_KEY).
KEY_MAX_LENGTH = 255
KEY_PATTERN = rf"^[\x21-\x7e](?:[\x20-\x7e]{{0,{KEY_MAX_LENGTH - 2}}}[\x21-\x7e])?\Z"
KEY_RULE = f"{HEADER} must be 1 to {KEY_MAX_LENGTH} visible ASCII characters (spaces only inside)"
_KEY = re.compile(KEY_PATTERN)
RELEASED_STATUSES = {503}  # nothing reached IB: the same key may try again


def _hash(endpoint: str, body: Any) -> str:
    text = json.dumps([endpoint, body], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _expire_old() -> None:
    cutoff = timezone.now() - dt.timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL)
    IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()


class KeyTaken(Exception):
    """Raised by ``Claim.make`` inside the caller's transaction: another request
    holds the key (``run_once`` replays its answer)."""


@dataclass
class Claim:
    """A request's hold on its Idempotency-Key, made by the service inside the
    transaction that records the request (``make``)."""

    key: str
    endpoint: str
    request_hash: str
    record: IdempotencyRecord | None = None

    def make(self) -> None:
        try:
            self.record = IdempotencyRecord.objects.create(
                key=self.key, endpoint=self.endpoint, request_hash=self.request_hash
            )
        except IntegrityError as exc:  # the transaction is rolled back whole
            raise KeyTaken() from exc

    def release(self) -> None:
        """Free the key for a retry (nothing was sent)."""
        if self.record is not None and self.record.pk is not None:
            IdempotencyRecord.objects.filter(pk=self.record.pk).delete()


def run_once(
    key: str | None, endpoint: str, body: Any, handler: Callable[[Claim | None], Response]
) -> Response:
    """Run ``handler`` once per key: it gets the ``Claim`` to hand to the
    service (None without a key), which makes it with the audit row."""
    if key is None:
        return handler(None)
    if not _KEY.match(key):
        raise InvalidIdempotencyKey(KEY_RULE)
    digest = _hash(endpoint, body)
    claim = Claim(key=key, endpoint=endpoint, request_hash=digest)
    try:
        response = handler(claim)
    except KeyTaken:
        return _replay(key, digest)
    except exceptions.APIException as exc:
        if claim.record is None:
            raise  # refused before the key was claimed (the database down): nothing held
        rendered = exception_handler(exc, {})
        assert rendered is not None
        response = rendered
    except BaseException:
        # A bug or a crash: nothing recorded, the key is free again (if the
        # database is what failed, the original error is the one to see).
        with contextlib.suppress(DatabaseError):
            claim.release()
        raise
    record = claim.record
    if record is None:
        log.error("%s answered without claiming its Idempotency-Key", endpoint)
        return response
    if response.status_code in RELEASED_STATUSES:
        claim.release()
        return response
    record.status_code = response.status_code
    record.response = json.dumps(response.data, ensure_ascii=False)
    record.finished_at = timezone.now()
    record.save(update_fields=["status_code", "response", "finished_at"])
    if record.pk % 100 == 0:
        _expire_old()
    return response


def _answer_due(record: IdempotencyRecord) -> dt.datetime:
    """When the first request's answer was due at the latest: by then it has an
    answer, or the web process that took it stopped without one."""
    return record.created_at + dt.timedelta(seconds=settings.ORDER_ACK_TIMEOUT + 5)


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
        if timezone.now() > _answer_due(record):
            raise IdempotencyUnresolved()
        if time.monotonic() > deadline:
            raise IdempotencyInProgress()
        time.sleep(0.05)
