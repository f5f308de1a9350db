"""The execution journal: every fill kept for good, with its commission, and
the orders the fills belong to.  Upserts are idempotent on the execId stem, so
live capture and the scheduled sync can race without ever duplicating a row."""

from __future__ import annotations

from django.db import models


class Execution(models.Model):
    exec_id = models.CharField(
        max_length=64, unique=True, help_text="IB's execId (newest revision)"
    )
    exec_stem = models.CharField(
        max_length=64, unique=True, help_text="execId without its revision suffix"
    )
    revision = models.PositiveIntegerField(
        default=1, help_text="execId suffix: 1, 2 (corrected)..."
    )
    perm_id = models.BigIntegerField(db_index=True)
    order_id = models.BigIntegerField()
    client_id = models.IntegerField()
    order_ref = models.CharField(max_length=128, blank=True, default="")
    account = models.CharField(max_length=32)
    symbol = models.CharField(max_length=16)
    con_id = models.BigIntegerField(
        null=True, blank=True, help_text="IB's conId; null: stored before conIds were kept"
    )
    sec_type = models.CharField(max_length=8, default="STK")
    exchange = models.CharField(max_length=16, blank=True, default="")
    currency = models.CharField(max_length=8, default="USD")
    side = models.CharField(max_length=4, choices=[("BUY", "BUY"), ("SELL", "SELL")])
    quantity = models.DecimalField(max_digits=18, decimal_places=4)
    price = models.DecimalField(max_digits=18, decimal_places=6)
    cum_quantity = models.DecimalField(max_digits=18, decimal_places=4)
    avg_price = models.DecimalField(max_digits=18, decimal_places=6)
    executed_at = models.DateTimeField(help_text="Execution time, UTC")
    ib_time = models.CharField(max_length=48, blank=True, default="", help_text="IB's raw time")
    commission = models.DecimalField(max_digits=14, decimal_places=6, null=True, blank=True)
    commission_currency = models.CharField(max_length=8, blank=True, default="")
    realized_pnl = models.DecimalField(
        max_digits=18, decimal_places=6, null=True, blank=True, help_text="null: IB sent 'unset'"
    )
    source = models.CharField(max_length=24, help_text="live, sync or reqExecutions")
    first_seen = models.DateTimeField(auto_now_add=True)
    last_synced = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-executed_at", "-id"]
        indexes = [
            models.Index(fields=["-executed_at", "-id"], name="exec_time_idx"),
            models.Index(fields=["symbol", "-executed_at"], name="exec_symbol_time_idx"),
            models.Index(fields=["side", "-executed_at"], name="exec_side_time_idx"),
            models.Index(fields=["order_ref", "-executed_at"], name="exec_ref_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.side} {self.quantity} {self.symbol} @ {self.price} ({self.exec_id})"


class PendingCommission(models.Model):
    """A commission report that arrived before its execution was stored."""

    exec_id = models.CharField(max_length=64, unique=True)
    commission = models.DecimalField(max_digits=14, decimal_places=6)
    currency = models.CharField(max_length=8)
    realized_pnl = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"commission {self.commission} {self.currency} for {self.exec_id}"


class Order(models.Model):
    perm_id = models.BigIntegerField(unique=True)
    order_id = models.BigIntegerField()
    client_id = models.IntegerField()
    order_ref = models.CharField(max_length=128, blank=True, default="", db_index=True)
    account = models.CharField(max_length=32, blank=True, default="")
    symbol = models.CharField(max_length=16, db_index=True)
    con_id = models.BigIntegerField(
        null=True, blank=True, help_text="IB's conId; null: stored before conIds were kept"
    )
    sec_type = models.CharField(
        max_length=8, blank=True, default="", help_text="IB's secType; empty: not known"
    )
    action = models.CharField(max_length=4)
    order_type = models.CharField(max_length=16)
    quantity = models.DecimalField(max_digits=18, decimal_places=4)
    limit_price = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    stop_price = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    tif = models.CharField(max_length=8, blank=True, default="")
    parent_perm_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=24)
    status_history = models.JSONField(default=list, help_text="[[ISO time, status], ...]")
    filled = models.DecimalField(max_digits=18, decimal_places=4, default=0)
    avg_fill_price = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    placed_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expired = models.BooleanField(
        default=False,
        help_text="IB cancelled it at the end of its day (time in force DAY), not on request",
    )
    # What /v2 shows of a finished order as of a working one (v2api.mapping):
    # its OCA group (an oco's legs), a trailing stop's percent and last stop
    # price, whether it could trade outside regular hours.
    oca_group = models.CharField(max_length=64, blank=True, default="")
    trail_percent = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    trail_stop_price = models.DecimalField(max_digits=18, decimal_places=6, null=True, blank=True)
    outside_rth = models.BooleanField(default=False)

    class Meta:
        ordering = ["-placed_at"]

    def __str__(self) -> str:
        return f"{self.action} {self.quantity} {self.symbol} {self.order_type} ({self.perm_id})"


class SyncRun(models.Model):
    TRIGGERS = [("schedule", "schedule"), ("connect", "after (re)connect"), ("manual", "manual")]

    trigger = models.CharField(max_length=16, choices=TRIGGERS, default="schedule")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    fetched = models.PositiveIntegerField(null=True, blank=True, help_text="null: fetch failed")
    inserted = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    orders = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        state = "ok" if self.ok else f"failed: {self.error[:60]}"
        return f"sync {self.started_at:%Y-%m-%d %H:%M:%S} {state}"
