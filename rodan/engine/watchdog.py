"""A worker that cannot start the messages it took ends itself, so its supervisor starts a fresh one.

Celery's blocking prefork pool (the one the embedded broker gets, having no
event loop) hands jobs to its children through one pipe guarded by one lock.
A child killed while waiting on that pipe holds the lock for ever: every
later child waits on it and the worker takes messages it never runs, with
no error anywhere. Whatever the cause (a blocked pool, children that cannot
start), the symptom is the same: a message the worker reserved is not
accepted by any pool process though not every process is busy. A healthy pool
accepts one within milliseconds, so once one has waited ``stall_seconds``
that way the worker kills its pool and exits with ``EXIT_STALLED``; ``rodan up`` and
``rodan worker`` start it again. The RunJobs of the messages it held are
marked unsent first, so the scheduler sends them again at its next pass
(``rodan.engine.reaper``) rather than after the heartbeat timeout.
"""

import logging
import os
import signal
import threading
import time

from celery import bootsteps
from celery.worker import state
from django.conf import settings

logger = logging.getLogger(__name__)

#: The exit status of a worker that found itself unable to start its messages.
EXIT_STALLED = 75


def stall_seconds():
    """How long a reserved message may wait for a pool process: half the heartbeat timeout."""
    return settings.RODAN_HEARTBEAT_TIMEOUT / 2


class Watchdog(bootsteps.StartStopStep):
    """A worker step: a thread that watches the worker's reserved messages."""

    requires = ("celery.worker.components:Pool",)

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.stopping = threading.Event()
        self.thread = None

    def start(self, worker):
        self.thread = threading.Thread(target=self.watch, args=(worker,), name="rodan-watchdog", daemon=True)
        self.thread.start()

    def stop(self, worker):
        self.stopping.set()

    def watch(self, worker):
        waiting_since = {}  # request id -> when first seen reserved and not accepted
        limit = stall_seconds()
        while not self.stopping.wait(min(1.0, limit / 4)):
            now = time.monotonic()
            if len(state.active_requests) >= worker.concurrency:  # every process busy: messages may wait
                waiting_since = {}
                continue
            unstarted = {request.id: request for request in list(state.reserved_requests) if request.time_start is None}
            waiting_since = {rid: waiting_since.get(rid, now) for rid in unstarted}
            stalled = [rid for rid, since in waiting_since.items() if now - since > limit]
            if stalled and not self.stopping.is_set():
                self.give_up(worker, stalled, unstarted.values(), limit)

    @staticmethod
    def give_up(worker, stalled, unstarted, limit):
        logger.critical(
            "%d message(s) waited over %g s for a pool process (%s): the pool is blocked; "
            "exiting so that a fresh worker takes over",
            len(stalled), limit, ", ".join(stalled),
        )
        _hand_back(unstarted)
        pool = getattr(getattr(worker, "pool", None), "_pool", None)
        for process in list(getattr(pool, "_pool", None) or []):
            try:
                os.kill(process.pid, signal.SIGKILL)
            except (ProcessLookupError, TypeError):
                pass
        os._exit(EXIT_STALLED)


def _hand_back(requests):
    """Mark the RunJobs of the messages this worker took and never started unsent: the scheduler sends them next."""
    from django.db import connection

    from rodan.engine import lifecycle

    try:
        for request in requests:
            if request.name == "rodan.run_job":
                lifecycle.mark_unsent(*request.args[:2])
    except Exception:  # the database is unreachable: the scheduler finds them after the heartbeat timeout anyway
        logger.exception("could not hand back the messages this worker held")
    finally:
        connection.close()
