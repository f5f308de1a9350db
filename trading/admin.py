"""Admin: API tokens (created here or with `manage.py create_api_token`), the
kill switch, and the audit trail of order requests (read-only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

from journal.admin import ReadOnlyAdmin
from trading import auth
from trading.models import ApiToken, IdempotencyRecord, OrderRequestLog, TradingControl


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "scope", "prefix", "key_id", "created_at", "last_used_at", "revoked")
    list_filter = ("scope", "revoked")
    search_fields = ("name", "prefix")
    readonly_fields = ("prefix", "key_id", "created_at", "last_used_at")
    fields = ("name", "scope", "revoked", "prefix", "key_id", "created_at", "last_used_at")

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        token, raw = auth.token_create(name=obj.name, scope=obj.scope)
        obj.pk, obj.prefix, obj.key_hash = token.pk, token.prefix, token.key_hash
        obj.created_at = token.created_at
        messages.warning(
            request,
            f"The token for {obj.name!r} is {raw} — copy it now, it is not shown again. "
            f"For Alpaca's clients (/v2): APCA-API-KEY-ID={token.key_id}, "
            "APCA-API-SECRET-KEY=the token.",
        )


@admin.register(TradingControl)
class TradingControlAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("__str__", "halted", "reason", "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not TradingControl.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(OrderRequestLog)
class OrderRequestLogAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "endpoint",
        "client",
        "state",
        "http_status",
        "perm_ids",
        "error_code",
        "latency_ms",
        "idempotency_key",
    )
    list_filter = ("state", "endpoint", "http_status", "created_at")
    search_fields = ("client", "idempotency_key", "error")
    date_hierarchy = "created_at"


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(OrderRequestLogAdmin):
    list_display = ("created_at", "key", "endpoint", "status_code", "finished_at")  # type: ignore[assignment]
    list_filter = ("endpoint", "status_code")  # type: ignore[assignment]
    search_fields = ("key",)  # type: ignore[assignment]
