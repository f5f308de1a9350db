from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("schema", SpectacularAPIView.as_view(), name="schema"),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("redoc", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("", include("trading.urls")),
]

if settings.BENCH_NOOP_ENDPOINT:
    from ibkr_project.noop import NoopView

    urlpatterns.append(path("bench/noop", NoopView.as_view(), name="bench-noop"))

handler400 = "ibkr_project.errors.bad_request"
handler404 = "ibkr_project.errors.not_found"
handler500 = "ibkr_project.errors.server_error"
