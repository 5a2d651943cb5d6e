"""The Celery application, configured for long image jobs.

Messages are "run RunJob X with token T" and nothing else (JSON only). Acks
are late and a message whose worker process died is handed back, prefetch is
one so a long job never holds others hostage, and the database decides
whether a (re)delivered message may still run (``rodan.engine.execution``).
On RabbitMQ a RunJob's message is acknowledged when it starts instead, and
the worker takes only as many messages as it has idle processes
(``rodan.engine.acks``): jobs may outlast RabbitMQ's ``consumer_timeout``.
"""

import os

from celery import Celery

from rodan.jobs.base import DEFAULT_QUEUE

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rodan.settings")

app = Celery("rodan")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,
    task_default_queue=DEFAULT_QUEUE,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
    worker_enable_prefetch_count_reduction=False,  # rodan.engine.acks owns the prefetch count
    worker_consumer="rodan.engine.reconnect:Consumer",  # back within seconds of the broker
    include=["rodan.engine.tasks"],
)
app.steps["consumer"].add("rodan.engine.acks:AckOnStart")
# A worker whose pool cannot start the messages it took exits, to be started afresh by its supervisor.
app.steps["worker"].add("rodan.engine.watchdog:Watchdog")

