from django.urls import path

from v2api import views, views_account, views_market

urlpatterns = [
    path("account", views.AccountView.as_view(), name="v2-account"),
    path(
        "account/configurations",
        views.AccountConfigurationView.as_view(),
        name="v2-account-configurations",
    ),
    path("positions", views_account.PositionsCloseView.as_view(), name="v2-positions"),
    path(
        "positions/<str:symbol_or_asset_id>",
        views_account.PositionCloseView.as_view(),
        name="v2-position",
    ),
    path("account/activities", views_account.ActivitiesView.as_view(), name="v2-activities"),
    path(
        "account/activities/<str:activity_type>",
        views_account.ActivitiesByTypeView.as_view(),
        name="v2-activities-by-type",
    ),
    path("account/pnl", views_account.PnlView.as_view(), name="v2-account-pnl"),
    path("clock", views_market.ClockView.as_view(), name="v2-clock"),
    path("calendar", views_market.CalendarView.as_view(), name="v2-calendar"),
    path("assets", views_market.AssetsView.as_view(), name="v2-assets"),
    path("assets/<str:symbol_or_asset_id>", views_market.AssetView.as_view(), name="v2-asset"),
    path("orders", views.OrdersView.as_view(), name="v2-orders"),
    path(
        "orders:by_client_order_id",
        views.OrderByClientOrderIdView.as_view(),
        name="v2-order-by-client-order-id",
    ),
    path("orders/preview", views.OrderPreviewView.as_view(), name="v2-order-preview"),
    path("orders/<str:order_id>", views.OrderView.as_view(), name="v2-order"),
]
