"""Order requests made exactly once: an Idempotency-Key and its answer."""

from __future__ import annotations

import base64
import hashlib

from django.db import models


class IdempotencyRecord(models.Model):
    """The first answer to a POST /order/* carrying an Idempotency-Key.  The
    unique key makes concurrent duplicates collide in the database: exactly
    one request places the order, the others replay its answer."""

    key = models.CharField(max_length=255, unique=True)
    endpoint = models.CharField(max_length=64)
    request_hash = models.CharField(max_length=64, help_text="sha256 of the endpoint and body")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="null: running")
    # JSON text, not a JSONField: PostgreSQL's jsonb reorders keys, and a
    # replay must be the same document as the first answer.
    response = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.key} {self.endpoint} -> {self.status_code or 'running'}"


class ApiToken(models.Model):
    """A bearer token for the API.  Only its SHA-256 is stored; the token is
    shown once, when it is created (admin or `manage.py create_api_token`)."""

    READ, TRADE, LIVE = "read", "trade", "live"
    SCOPES = [
        (READ, "read: account, positions, orders, executions"),
        (TRADE, "trade: read, and place and cancel paper orders"),
        (LIVE, "live: trade, also against a live account (needs LIVE_TRADING=1)"),
    ]

    name = models.CharField(max_length=100, unique=True)
    scope = models.CharField(max_length=8, choices=SCOPES, default=READ)
    prefix = models.CharField(
        max_length=16, editable=False, help_text="first characters, to recognise it"
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.name} ({self.scope}, {self.prefix}…)"

    @property
    def can_trade(self) -> bool:
        return self.scope in (self.TRADE, self.LIVE)

    @property
    def key_id(self) -> str:
        """The token's key id for Alpaca's APCA-API-KEY-ID header (/v2): derived
        from the stored hash, so nothing more is stored and every token has
        one.  The secret (APCA-API-SECRET-KEY) is the token itself."""
        if not self.key_hash:
            return ""  # not created yet
        digest = hashlib.sha256(f"apca-key-id:{self.key_hash}".encode()).digest()
        return "PK" + base64.b32encode(digest).decode()[:18]


class TradingControl(models.Model):
    """The kill switch (one row): when halted, new orders are refused; cancels
    still work."""

    halted = models.BooleanField(default=False)
    reason = models.CharField(max_length=200, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "trading control (kill switch)"
        verbose_name_plural = "trading control (kill switch)"

    def __str__(self) -> str:
        return f"trading {'HALTED' if self.halted else 'enabled'}"


class OrderRequestLog(models.Model):
    """The audit trail: every order or cancel request, recorded before it is
    queued, and its outcome after.  trading.audit is its only writer."""

    class State(models.TextChoices):
        QUEUED = "queued", "queued (sent to the gateway worker, no answer yet)"
        DONE = "done", "done (placed or cancelled)"
        REFUSED = "refused", "refused before queueing (kill switch, limits, live, gateway down)"
        # The worker's outcomes (trading.wire.OutcomeKind), one state each.
        UNAVAILABLE = "unavailable", "gateway unavailable"
        TIMEOUT = "timeout", "no acknowledgement in time"
        EXPIRED = "expired", "expired unsent"
        REJECTED = "rejected", "rejected by IB"
        INSUFFICIENT_FUNDS = "no_buying_power", "rejected by IB: margin or buying power"
        NOT_FOUND = "not_found", "order not found"
        LIVE_REFUSED = "live_refused", "refused: live account"
        LIMIT_EXCEEDED = "limit_exceeded", "refused by the worker: a pre-trade limit"
        STATE_STORE = "state_store", "Redis unreachable"
        WORKER_ERROR = "worker_error", "worker error"
        # What the next worker found of a request whose worker died mid-order.
        ORPHAN_FILLED = "orphan_filled", "orphan: filled"
        ORPHAN_CANCELLED = "orphan_cancelled", "orphan: cancelled by reconciliation"
        ORPHAN_DONE = "orphan_done", "orphan: already finished"
        NOT_PLACED = "not_placed", "orphan: never reached IB"

    endpoint = models.CharField(max_length=32)
    client = models.CharField(max_length=100, help_text="token name, or 'anonymous (local demo)'")
    remote_addr = models.CharField(max_length=64, blank=True, default="")
    idempotency_key = models.CharField(max_length=255, blank=True, default="")
    body = models.JSONField()
    state = models.CharField(
        max_length=16, choices=State.choices, default=State.QUEUED, db_index=True
    )
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    perm_ids = models.JSONField(default=list, blank=True)
    error_code = models.IntegerField(null=True, blank=True, help_text="IB's error code")
    error = models.TextField(blank=True, default="")
    warnings = models.JSONField(
        default=list, blank=True, help_text="IB's warnings on the order: [{code, message}]"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    latency_ms = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.endpoint} by {self.client}: {self.state}"
