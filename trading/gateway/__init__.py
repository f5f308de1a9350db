"""The gateway worker: the only package that imports ib_async and speaks to
IB Gateway.

It runs inside the one Celery worker that owns the connection (loaded by
``CELERY_IMPORTS``, ``tasks.py``): an asyncio loop in a thread of its own holds
the ``IB`` client, keeps it connected, places and cancels orders for the order
bus, publishes a mirror of the account state for the web processes and feeds
the journal.  ``runtime.py`` composes the parts; trading/README.md lists them.
IB's camelCase stays in here: ``mapping.py`` turns it into our data."""
