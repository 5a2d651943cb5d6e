"""Running a private system's messages in the process that sent them (``rodan run``).

A worker process pays seconds to start (Python, Django, every job family)
for jobs that often take a fraction of one. So ``rodan run`` on its own
embedded broker takes its messages off the queues itself and hands each to
the task it names, as a worker's pool would: the same claim, execution and
dispatch of successors (``rodan.engine.execution``), one message at a time,
beside any worker processes consuming the same queues. Celery's hard time
limit, which kills a worker's child process, has no equivalent here; each
RunJob's soft limit holds, as ``execution`` enforces it itself.
"""

from rodan.celery import app
from rodan.engine import tasks  # noqa: F401 - the tasks messages name, as a worker imports them


class LocalWorker:
    """Consumes ``queues`` of the configured broker from this process."""

    def __init__(self, queues):
        self.connection = app.connection_for_read()
        channel = self.connection.default_channel
        self.queues = [app.amqp.queues[name](channel) for name in queues]
        for queue in self.queues:
            queue.declare()

    def run_one(self):
        """Run the oldest waiting message of the first queue that has one; False when none waits."""
        for queue in self.queues:
            message = queue.get(no_ack=False, accept=["json"])
            if message is not None:
                args, kwargs, _ = message.decode()
                app.tasks[message.headers["task"]](*args, **kwargs)
                message.ack()
                return True
        return False

    def close(self):
        self.connection.release()
