"""The only package that imports ib_async and speaks to IB Gateway.

It runs inside the one Celery worker that owns the connection (see
``trading.worker``): an asyncio loop in a thread of its own holds the ``IB``
client, keeps it connected, places and cancels orders for the tasks, and
publishes a mirror of the account state into the cache for the web processes
(``trading.mirror``).  IB's camelCase stays in here; everything it hands out is
plain snake_case data (``trading.gateway.mapping``)."""
