"""The embedded broker: kombu's filesystem transport, with a short worker-loop wait.

Celery drives transports without an event loop (like this one) from a
blocking loop (``celery.worker.loops.synloop``) that waits two seconds for a
message per cycle and sends the acknowledgement of a finished job only
between cycles. With late acks and prefetch one, every worker sat idle for up
to two seconds after each job. Shortening that wait lets the loop acknowledge,
and so take the next job, at once. Shorter waits (remote-control replies use
one second) are left alone, so ``inspect`` still collects every reply.
"""

from kombu.transport import filesystem

#: The wait of Celery's blocking worker loop, and what it is cut to.
WORKER_LOOP_WAIT = 2.0
SHORT_WAIT = 0.05


class Transport(filesystem.Transport):
    def drain_events(self, connection, timeout=None):
        if timeout is not None and timeout >= WORKER_LOOP_WAIT:
            timeout = SHORT_WAIT
        return super().drain_events(connection, timeout=timeout)
