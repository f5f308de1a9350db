"""Browse the journal: read-only (history is never edited), fast on millions
of rows (no full-table counts), CSV export of the selection."""

from __future__ import annotations

import csv
import datetime as dt
import json
from typing import Any

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Max, Min, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.functional import cached_property

from journal.models import Execution, Order, SyncRun

EXPORT_FIELDS = [
    "exec_id",
    "executed_at",
    "symbol",
    "side",
    "quantity",
    "price",
    "commission",
    "commission_currency",
    "realized_pnl",
    "perm_id",
    "order_id",
    "order_ref",
    "account",
    "exchange",
    "currency",
    "source",
]


ESTIMATE_ABOVE = 10_000  # rows: exact counts below, the planner's estimate above


class EstimatedCountPaginator(Paginator):  # type: ignore[type-arg]
    """Counts exactly when the answer is small; on PostgreSQL, a big list's size
    comes from the planner's estimate (EXPLAIN) instead of a scan of every row."""

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if connection.vendor == "postgresql" and isinstance(queryset, QuerySet):
            sql, params = queryset.query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
                plan = cursor.fetchone()[0]
            if isinstance(plan, str):
                plan = json.loads(plan)
            estimate = int(plan[0]["Plan"]["Plan Rows"])
            if estimate > ESTIMATE_ABOVE:
                return estimate
        return int(super().count)


class FastDatesQuerySet(QuerySet[Any]):
    """The date hierarchy's periods from index probes (MIN/MAX, then one EXISTS
    per year, month or day) instead of a DISTINCT over every row."""

    def datetimes(  # type: ignore[override]
        self, field_name: str, kind: str, order: str = "ASC", tzinfo: Any = None
    ) -> list[dt.datetime]:
        bounds = self.aggregate(first=Min(field_name), last=Max(field_name))
        first, last = bounds["first"], bounds["last"]
        if first is None or last is None:
            return []
        first, last = first.astimezone(dt.UTC), last.astimezone(dt.UTC)
        current = _truncate(first, kind)
        periods = []
        while current <= last:
            following = _advance(current, kind)
            span = {f"{field_name}__gte": current, f"{field_name}__lt": following}
            if self.filter(**span).exists():
                periods.append(current)
            current = following
        return periods if order == "ASC" else periods[::-1]


def _truncate(when: dt.datetime, kind: str) -> dt.datetime:
    when = when.replace(hour=0, minute=0, second=0, microsecond=0)
    if kind in ("month", "year"):
        when = when.replace(day=1)
    if kind == "year":
        when = when.replace(month=1)
    return when


def _advance(when: dt.datetime, kind: str) -> dt.datetime:
    if kind == "day":
        return when + dt.timedelta(days=1)
    if kind == "month":
        return when.replace(year=when.year + when.month // 12, month=when.month % 12 + 1)
    return when.replace(year=when.year + 1)


class SourceFilter(admin.SimpleListFilter):
    title = "source"
    parameter_name = "source"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("trades()", "captured live"), ("reqExecutions", "found by a sync")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(source=value) if value else queryset


def distinct_symbols(table: str) -> list[str]:
    """Distinct symbols without reading every row: on PostgreSQL a recursive
    "loose index scan" over the (symbol, executed_at) index."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"""
                WITH RECURSIVE s(symbol) AS (
                    (SELECT symbol FROM {table} ORDER BY symbol LIMIT 1)
                    UNION ALL
                    SELECT (SELECT symbol FROM {table} WHERE symbol > s.symbol
                            ORDER BY symbol LIMIT 1)
                    FROM s WHERE s.symbol IS NOT NULL
                )
                SELECT symbol FROM s WHERE symbol IS NOT NULL
                """  # the table name comes from the model, never from input
            )
        else:
            cursor.execute(f"SELECT DISTINCT symbol FROM {table} ORDER BY symbol")
        return [row[0] for row in cursor.fetchall()]


class SymbolFilter(admin.SimpleListFilter):
    title = "symbol"
    parameter_name = "symbol"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(s, s) for s in distinct_symbols(model_admin.model._meta.db_table)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(symbol=value) if value else queryset


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.action(description="Export selected executions as CSV")
def export_csv(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[Execution],  # type: ignore[type-arg]
) -> HttpResponse:
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="executions.csv"'
    writer = csv.writer(response)
    writer.writerow(EXPORT_FIELDS)
    for row in queryset.order_by("executed_at", "id").iterator():
        writer.writerow([getattr(row, name) for name in EXPORT_FIELDS])
    return response


@admin.register(Execution)
class ExecutionAdmin(ReadOnlyAdmin):
    list_display = (
        "executed_at",
        "symbol",
        "side",
        "quantity",
        "price",
        "commission",
        "realized_pnl",
        "order_ref",
        "perm_id",
        "exec_id",
        "source",
    )
    list_filter = ("side", SymbolFilter, "executed_at", SourceFilter)
    search_fields = ("=symbol", "order_ref", "=exec_id", "=perm_id")
    date_hierarchy = "executed_at"
    actions = [export_csv]
    ordering = ("-executed_at", "-id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Execution]:
        queryset = super().get_queryset(request)
        return FastDatesQuerySet(self.model, query=queryset.query.chain(), using=queryset.db)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Execution], search_term: str
    ) -> tuple[QuerySet[Execution], bool]:
        # permId is a number: search it only with a number, uppercase symbols.
        term = search_term.strip()
        if term.isdigit():
            return queryset.filter(perm_id=int(term)), False
        if term:
            return (
                queryset.filter(symbol=term.upper())
                | queryset.filter(order_ref=term)
                | queryset.filter(exec_id=term)
            ), False
        return queryset, False


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = (
        "placed_at",
        "symbol",
        "action",
        "order_type",
        "quantity",
        "limit_price",
        "stop_price",
        "status",
        "filled",
        "order_ref",
        "perm_id",
        "parent_perm_id",
        "finished_at",
    )
    list_filter = ("status", "action", "order_type", "placed_at")
    search_fields = ("=symbol", "order_ref", "=perm_id")
    date_hierarchy = "placed_at"


@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdmin):
    list_display = (
        "started_at",
        "trigger",
        "ok",
        "fetched",
        "inserted",
        "updated",
        "orders",
        "finished_at",
        "error",
    )
    list_filter = ("ok", "trigger", "started_at")
