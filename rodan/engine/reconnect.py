"""A worker takes up a returning broker within seconds, not after kombu's growing pause.

Celery's consumer reconnects through kombu's ``ensure_connection`` with its
default pauses: 2 s, then 2 s more after each failure, up to 30 s. After a
30-second RabbitMQ outage the worker thus tried again only 12 s after the
broker was back, and up to 30 s after longer outages, while its jobs waited.
A refused connection costs almost nothing, so the worker here tries every
``RETRY_PAUSE_MAX`` seconds at most.
"""

import functools

from celery.worker.consumer import Consumer as CeleryConsumer

#: The first pause, its growth after each failed attempt, and its ceiling, in seconds.
RETRY_PAUSE_START, RETRY_PAUSE_STEP, RETRY_PAUSE_MAX = 1, 1, 2


class Consumer(CeleryConsumer):
    def ensure_connected(self, conn):
        conn.ensure_connection = functools.partial(
            conn.ensure_connection,
            interval_start=RETRY_PAUSE_START,
            interval_step=RETRY_PAUSE_STEP,
            interval_max=RETRY_PAUSE_MAX,
        )
        return super().ensure_connected(conn)
