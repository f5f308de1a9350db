"""What /v2 needs to remember that IB does not: which client_order_ids are
taken.  Alpaca refuses a second order with the same client_order_id (422);
the unique key makes two concurrent requests with one id collide in the
database before either reaches IB, so exactly one order is placed."""

from __future__ import annotations

from django.db import models


class ClientOrderId(models.Model):
    """A client_order_id, reserved before its order is sent, in the audit
    row's transaction (v2api.services); released again when nothing reached
    IB (refused, gateway down).  The order is found by IB's orderRef, which
    carries it; ``perm_id`` is set once the order is replaced (IB's orderRef
    is then the new order's)."""

    client_order_id = models.CharField(max_length=128, unique=True)
    perm_id = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="IB's permId, set when the order is replaced (else found by its orderRef)",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "client order id"

    def __str__(self) -> str:
        return f"{self.client_order_id} -> {self.perm_id or 'orderRef'}"


class OrderReplacement(models.Model):
    """A replacement of an order (PATCH /v2/orders/{id}).  IB changes the
    order in place (same permId); Alpaca's client sees a new order that
    ``replaces`` the old one, the old one ``replaced`` (``replaced_by``).  The
    order's ids are its permId and revision (v2api.ids); this row is revision
    ``revision``, written before the change is sent (two replacements of one
    revision collide here, in the database), ``confirmed`` once IB has
    acknowledged it.  ``before`` is the order as it stood (Alpaca's fields),
    what its old id still shows."""

    perm_id = models.BigIntegerField()
    revision = models.PositiveIntegerField()
    client_order_id = models.CharField(
        max_length=128, help_text="The new order's client_order_id (IB's orderRef after it)"
    )
    before = models.JSONField(help_text="The replaced order's qty, prices, time in force, id")
    confirmed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["perm_id", "revision"], name="one_replacement_a_revision"
            )
        ]

    def __str__(self) -> str:
        return f"{self.perm_id} revision {self.revision}"
