"""/v2's market views: the clock, the calendar, assets.  Thin: a query
serializer, one selector, an output serializer."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from v2api import examples
from v2api import selectors_market as selectors
from v2api import serializers_market as serializers
from v2api.schema import TAG, errors
from v2api.serializers import QuerySerializer
from v2api.views import V2View

SYMBOL_OR_ASSET_ID = OpenApiParameter(
    "symbol_or_asset_id",
    str,
    OpenApiParameter.PATH,
    description="A symbol (either case), or the id of an asset GET /v2/assets lists",
    examples=[examples.SYMBOL_PARAMETER, examples.ASSET_ID_PARAMETER],
)


def _query(serializer: type[QuerySerializer], request: Request) -> dict[str, Any]:
    form = serializer(data=request.query_params)
    form.is_valid(raise_exception=True)
    return dict(form.validated_data)


class ClockView(V2View):
    @extend_schema(
        tags=[TAG],
        summary="The market clock: the gateway's time, open or not, the next open and close",
        responses={200: serializers.AlpacaClockOut, **errors(503)},
        examples=[examples.CLOCK, examples.GATEWAY_DOWN],
    )
    def get(self, request: Request) -> Response:
        return Response(serializers.AlpacaClockOut(selectors.clock_get()).data)


class CalendarView(V2View):
    @extend_schema(
        tags=[TAG],
        summary="Trading days with their hours (NYSE: holidays closed, early closes 13:00)",
        parameters=[serializers.AlpacaCalendarQuery],
        responses={200: serializers.AlpacaCalendarDayOut(many=True), **errors(422)},
        examples=[examples.CALENDAR, examples.CALENDAR_INVALID],
    )
    def get(self, request: Request) -> Response:
        days = selectors.calendar_list(**_query(serializers.AlpacaCalendarQuery, request))
        return Response(serializers.AlpacaCalendarDayOut(days, many=True).data)


class AssetsView(V2View):
    @extend_schema(
        tags=[TAG],
        summary="Assets the service knows: ASSET_SYMBOLS, positions, working orders, "
        "symbols looked up before (IB's contract details)",
        parameters=[serializers.AlpacaAssetsQuery],
        responses={200: serializers.AlpacaAssetOut(many=True), **errors(422, 503, 504)},
        examples=[
            examples.ASSET,
            examples.ASSETS_INVALID,
            examples.GATEWAY_DOWN,
            examples.GATEWAY_TIMEOUT,
        ],
    )
    def get(self, request: Request) -> Response:
        rows = selectors.assets_list(**_query(serializers.AlpacaAssetsQuery, request))
        return Response(serializers.AlpacaAssetOut(rows, many=True).data)


class AssetView(V2View):
    @extend_schema(
        tags=[TAG],
        summary="One asset, by symbol (any IB knows) or asset id",
        parameters=[SYMBOL_OR_ASSET_ID],
        responses={200: serializers.AlpacaAssetOut, **errors(404, 503, 504)},
        examples=[
            examples.ASSET,
            examples.ASSET_NOT_FOUND,
            examples.GATEWAY_DOWN,
            examples.GATEWAY_TIMEOUT,
        ],
    )
    def get(self, request: Request, symbol_or_asset_id: str) -> Response:
        row = selectors.asset_get(symbol_or_asset_id=symbol_or_asset_id)
        return Response(serializers.AlpacaAssetOut(row).data)
