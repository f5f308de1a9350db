"""What /v2 needs to remember that IB does not: which client_order_ids are
taken.  Alpaca refuses a second order with the same client_order_id (422);
the unique key makes two concurrent requests with one id collide in the
database before either reaches IB, so exactly one order is placed."""

from __future__ import annotations

from django.db import models


class ClientOrderId(models.Model):
    """A client_order_id, reserved before its order is sent (v2api.services);
    released again when nothing reached IB (refused, gateway down)."""

    client_order_id = models.CharField(max_length=128, unique=True)
    perm_id = models.BigIntegerField(
        null=True, blank=True, help_text="IB's permId once placed; null while being placed"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "client order id"

    def __str__(self) -> str:
        return f"{self.client_order_id} -> {self.perm_id or 'placing'}"
