"""Order requests made exactly once: an Idempotency-Key and its answer."""

from __future__ import annotations

from django.db import models


class IdempotencyRecord(models.Model):
    """The first answer to a POST /order/* carrying an Idempotency-Key.  The
    unique key makes concurrent duplicates collide in the database: exactly
    one request places the order, the others replay its answer."""

    key = models.CharField(max_length=255, unique=True)
    endpoint = models.CharField(max_length=64)
    request_hash = models.CharField(max_length=64, help_text="sha256 of the endpoint and body")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="null: running")
    response = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.key} {self.endpoint} -> {self.status_code or 'running'}"
