"""Events the gateway worker publishes, so other apps (the journal) can react
without importing the gateway package.

Sent from the worker's event-dispatch thread (never from the IB event loop),
with plain snake_case dicts as payloads. See trading/README.md for the keys.
"""

from django.dispatch import Signal

# fill: dict -- one execution (execDetails), commission fields may be None.
execution_received = Signal()
# report: dict -- one commission report (exec_id, commission, currency, realized_pnl).
commission_received = Signal()
# order: dict -- an order's status or terms changed (openOrder / orderStatus).
order_status_changed = Signal()
# server_version: int -- the worker (re)connected to the gateway.
gateway_connected = Signal()
