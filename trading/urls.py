from django.urls import path

from trading import views

urlpatterns = [
    path("health", views.HealthView.as_view(), name="health"),
    path("account", views.AccountView.as_view(), name="account"),
    path("positions", views.PositionsView.as_view(), name="positions"),
    path("orders", views.OrdersView.as_view(), name="orders"),
    path("executions", views.ExecutionsView.as_view(), name="executions"),
    path("order/limit", views.LimitOrderView.as_view(), name="order-limit"),
    path("order/market", views.MarketOrderView.as_view(), name="order-market"),
    path("order/stop", views.StopOrderView.as_view(), name="order-stop"),
    path("order/bracket", views.BracketOrderView.as_view(), name="order-bracket"),
    path("order/cancel", views.CancelOrderView.as_view(), name="order-cancel"),
]
