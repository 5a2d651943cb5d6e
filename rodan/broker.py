"""The embedded broker: kombu's filesystem transport, made safe and quick for Celery workers.

Two changes to kombu's transport:

- **Messages appear whole.** kombu creates a message file, then writes it. A
  worker listing the folder in between takes the still-empty file, fails to
  decode it and the message is lost (seen as a run that never resumed). Here
  a message is written under a name no queue matches, then renamed into place;
  a rename within one folder is atomic.
- **A short worker-loop wait.** Celery drives transports without an event
  loop (like this one) from a blocking loop (``celery.worker.loops.synloop``)
  that waits two seconds for a message per cycle and sends the
  acknowledgement of a finished job only between cycles. With late acks and
  prefetch one, every worker sat idle for up to two seconds after each job.
  Shortening that wait lets the loop acknowledge, and so take the next job,
  at once. Shorter waits (remote-control replies use one second) are left
  alone, so ``inspect`` still collects every reply.
"""

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

#: The wait of Celery's blocking worker loop, and what it is cut to.
WORKER_LOOP_WAIT = 2.0
SHORT_WAIT = 0.05


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        """Put ``payload`` on ``queue``: written under a private name, then renamed to kombu's."""
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".{uuid.uuid4()}.partial")
        try:
            with open(partial, "wb") as stream:
                stream.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory: {exc}") from exc


class Transport(filesystem.Transport):
    Channel = Channel

    def drain_events(self, connection, timeout=None):
        if timeout is not None and timeout >= WORKER_LOOP_WAIT:
            timeout = SHORT_WAIT
        return super().drain_events(connection, timeout=timeout)
