"""Start the gateway runtime when the gateway worker starts, stop it on shutdown.
Connected from TradingConfig.ready(); the runtime (and ib_async) is imported
only inside the handlers, which run in the worker process alone."""

from typing import Any

from celery.signals import worker_ready, worker_shutdown


@worker_ready.connect
def start_gateway(**kwargs: Any) -> None:
    from trading.gateway import intake
    from trading.gateway.runtime import get_runtime

    intake.start(get_runtime())


@worker_shutdown.connect
def stop_gateway(**kwargs: Any) -> None:
    from trading.gateway import intake
    from trading.gateway.runtime import stop_runtime

    intake.stop()
    stop_runtime()
