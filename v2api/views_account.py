"""/v2's account activities and P&L, and closing positions: thin views, as
v2api.views (the GET of positions is its; DELETE is added here)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from trading.idempotency import Claim
from trading.schema import IDEMPOTENCY_KEY
from v2api import activities, examples, idempotent, pnl, positions, views
from v2api import serializers_account as forms
from v2api.activities import FILL
from v2api.schema import TAG, errors
from v2api.serializers import AlpacaOrderOut
from v2api.views import SYMBOL_OR_ASSET_ID, V2View, _actor

ACTIVITY_TYPE = OpenApiParameter(
    "activity_type",
    str,
    OpenApiParameter.PATH,
    enum=[FILL],
    description="FILL (Alpaca's other activity types are not available from IB: 422)",
)


def _query(form_class: type[forms.QuerySerializer], request: Request) -> dict[str, Any]:
    form = form_class(data=request.query_params)
    form.is_valid(raise_exception=True)
    return dict(form.validated_data)


class ActivitiesView(V2View):
    @extend_schema(
        tags=[TAG],
        summary="Account activities: the fills (FILL) from the journal, paged",
        operation_id="v2_account_activities",
        parameters=[forms.AlpacaAllActivitiesQuery],
        examples=[examples.FILL, examples.ACTIVITY_UNAVAILABLE],
        responses={200: forms.AlpacaFillActivityOut(many=True), **errors(422, 503)},
    )
    def get(self, request: Request) -> Response:
        rows = activities.activities_list(**_query(forms.AlpacaAllActivitiesQuery, request))
        return Response(forms.AlpacaFillActivityOut(rows, many=True).data)


class ActivitiesByTypeView(V2View):
    @extend_schema(
        tags=[TAG],
        summary="Account activities of one type: FILL (the fills from the journal), paged",
        operation_id="v2_account_activities_by_type",
        parameters=[ACTIVITY_TYPE, forms.AlpacaActivitiesQuery],
        examples=[examples.FILL, examples.ACTIVITY_UNAVAILABLE],
        responses={200: forms.AlpacaFillActivityOut(many=True), **errors(422, 503)},
    )
    def get(self, request: Request, activity_type: str) -> Response:
        query = _query(forms.AlpacaActivitiesQuery, request)
        rows = activities.activities_list(activity_types=[activity_type], **query)
        return Response(forms.AlpacaFillActivityOut(rows, many=True).data)


class PnlView(V2View):
    @extend_schema(
        tags=[TAG],
        summary="The account's P&L (IB's reqPnL): daily, unrealized, realized",
        examples=[examples.PNL, examples.GATEWAY_DOWN],
        responses={200: forms.AlpacaPnlOut, **errors(503)},
    )
    def get(self, request: Request) -> Response:
        return Response(forms.AlpacaPnlOut(pnl.pnl_get()).data)


class PositionsCloseView(views.PositionsView):
    @extend_schema(
        tags=[TAG],
        summary="Close every position, one market order each (207: a status per symbol)",
        operation_id="v2_positions_close_all",
        parameters=[forms.AlpacaCloseAllQuery, IDEMPOTENCY_KEY],
        examples=[*examples.CLOSE_ALL, examples.GATEWAY_DOWN],
        responses={
            207: OpenApiResponse(
                forms.AlpacaClosePositionResultOut(many=True),
                description="Each symbol: 200 and the closing order, or the refusal",
            ),
            **errors(503),
        },
    )
    def delete(self, request: Request) -> Response:
        query = _query(forms.AlpacaCloseAllQuery, request)

        def close_all(claim: Claim | None) -> Response:
            results = positions.positions_close_all(actor=_actor(request), claim=claim, **query)
            body = forms.AlpacaClosePositionResultOut(results, many=True).data
            return Response(body, status=207)

        return idempotent.run_once(request, query, close_all)


class PositionCloseView(views.PositionView):
    @extend_schema(
        tags=[TAG],
        summary="Close a position (all, qty shares or a percentage): a market order",
        operation_id="v2_position_close",
        parameters=[SYMBOL_OR_ASSET_ID, forms.AlpacaClosePositionQuery, IDEMPOTENCY_KEY],
        examples=[
            examples.CLOSE,
            examples.HALTED,
            examples.POSITION_NOT_FOUND,
            examples.CLOSE_INVALID,
            examples.WORKER_FAILED,
            examples.GATEWAY_DOWN,
            examples.GATEWAY_TIMEOUT,
        ],
        responses={
            200: AlpacaOrderOut,
            **errors(403, 404, 422, 500, 503, 504),
        },
    )
    def delete(self, request: Request, symbol_or_asset_id: str) -> Response:
        query = _query(forms.AlpacaClosePositionQuery, request)

        def close(claim: Claim | None) -> Response:
            order = positions.position_close(
                symbol_or_asset_id=symbol_or_asset_id, actor=_actor(request), claim=claim, **query
            )
            return Response(AlpacaOrderOut(order).data)

        body = {"symbol_or_asset_id": symbol_or_asset_id, **query}
        return idempotent.run_once(request, body, close)
