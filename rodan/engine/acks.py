"""On RabbitMQ, a RunJob's message is acknowledged when a pool process starts it.

RabbitMQ closes the channel of a consumer that keeps a message unacknowledged
longer than ``consumer_timeout`` (30 minutes by default), and the Celery
worker then exits: a job that runs for hours cannot hold its message. It need
not: once a pool process has the message it claims the RunJob, and from then
on the database and the heartbeats own recovery (the reaper dispatches the
RunJob again when its process dies or falls silent; if the process dies
before claiming, the reaper re-sends the unheld dispatch).

Acknowledged messages no longer fill the prefetch window, so the broker would
send a worker one more message for each process already busy, and that
message would wait, unacknowledged, behind a long job. The window is kept at
the number of idle processes instead: it is lowered before each early
acknowledgement, consumption is cancelled while every process is busy, and
both come back when a RunJob ends. A worker thus never holds a message it
cannot start at once, on RabbitMQ as under the late acknowledgement the
embedded broker keeps (it has no such timeout).
"""

import logging

from celery import bootsteps
from celery.worker.request import Request

logger = logging.getLogger(__name__)


class Window:
    """The prefetch window of a worker's main process: one message per idle pool process."""

    def __init__(self):
        self.consumer = None
        self.running = set()  # ids of RunJob requests acknowledged on start and not yet ended
        self.paused = False

    def attach(self, consumer):
        """Take over the prefetch count of a (re)started consumer, which the event loop makes consume."""
        self.consumer, self.paused = consumer, False
        idle = self.idle()
        self._set_prefetch(max(idle, 1))
        if idle <= 0:
            consumer.hub.call_soon(self.apply)

    def idle(self):
        return self.consumer.max_prefetch_count - len(self.running)

    def _set_prefetch(self, count):
        qos = self.consumer.qos
        qos.value = count  # the event loop resets the count to this value
        qos.set(count)

    def apply(self):
        """Match the window to the idle processes (called before an early acknowledgement is sent)."""
        idle, task_consumer = self.idle(), self.consumer.task_consumer
        if idle <= 0:
            if not self.paused:
                task_consumer.cancel()
                self.paused = True
            return
        self._set_prefetch(idle)
        if self.paused:
            task_consumer.consume()
            self.paused = False

    def started(self, request_id):
        self.running.add(request_id)
        self.apply()

    def ended(self, request_id):
        if request_id in self.running:
            self.running.discard(request_id)
            self.apply()


#: The worker main process's window, once its consumer runs on RabbitMQ (None elsewhere).
window = None


class AckOnStart(bootsteps.StartStopStep):
    """A consumer step: the window above, on RabbitMQ with an event loop (every prefork worker)."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def start(self, consumer):
        global window
        if consumer.connection.transport.driver_type != "amqp" or consumer.hub is None:
            return
        window = window or Window()
        window.attach(consumer)


class RunJobRequest(Request):
    """The worker's request for ``rodan.run_job``: acknowledged on start when a window is active.

    The task is declared ``acks_late``, so every way a request ends passes
    through ``acknowledge``, ``reject`` or ``on_failure``: each ends it in
    the window. Without a window it behaves as Celery's own.
    """

    def on_accepted(self, pid, time_accepted):
        super().on_accepted(pid, time_accepted)
        if window is not None:
            window.started(self.id)
            super().acknowledge()  # scheduled on the event loop, after the window change

    def acknowledge(self):
        super().acknowledge()
        self._end()

    def reject(self, requeue=False):
        super().reject(requeue)
        self._end()

    def on_failure(self, exc_info, send_failed_event=True, return_ok=False):
        try:
            return super().on_failure(exc_info, send_failed_event, return_ok)
        finally:
            self._end()

    def _end(self):
        if window is not None:
            window.ended(self.id)
