from django.apps import AppConfig


class V2ApiConfig(AppConfig):
    name = "v2api"
    verbose_name = "Alpaca-compatible API (/v2)"

    def ready(self) -> None:
        from v2api import schema  # noqa: F401  (OpenAPI: Alpaca's auth headers, fields)
