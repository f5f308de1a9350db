"""The Celery application: one app for the web processes (which only send tasks)
and the gateway worker (the one process that holds the IB connection)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ibkr_project.settings")

app = Celery("ibkr_project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
