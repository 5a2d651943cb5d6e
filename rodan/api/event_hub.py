"""One shared reader of the event log per server process, waking the streams that watch each project.

A stream costs nothing while nothing happens: it waits on an ``asyncio``
event, holding no thread and no database connection. A single poller task
reads the new events of the whole log every ``POLL_SECONDS`` (in one thread
of its own, with one connection) and hands each to the streams of its
project. The poller starts with the first stream and stops ``IDLE_SECONDS``
after the last one left, so an idle server reads nothing.
"""

import asyncio
import logging
from collections import defaultdict, deque
from concurrent.futures import ThreadPoolExecutor

from django.db import connection

from rodan.engine.events import LogReader

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.25
#: Seconds between the ticks that wake every stream (keep-alives, stream lifetimes).
TICK_SECONDS = 15.0
IDLE_SECONDS = 10.0
#: Events read per query; a fuller batch is followed by another read at once.
BATCH = 1000


class Subscription:
    """The events of one project that one stream has yet to send."""

    def __init__(self, project_uuid):
        self.project_uuid = project_uuid
        self._pending = deque()
        self._wake = asyncio.Event()

    def push(self, events):
        self._pending.extend(events)
        self._wake.set()

    def tick(self):
        """Wake the stream with nothing new (it sends a keep-alive and checks its time)."""
        self._wake.set()

    async def next_batch(self):
        """The events that arrived since the last call ([] when woken by a tick).

        No timeout of its own: one per wait (``asyncio.wait_for``) would cost a
        task per stream per wake-up; the poller's ticks bound the wait instead.
        """
        if not self._pending:
            self._wake.clear()
            await self._wake.wait()
        batch = list(self._pending)
        self._pending.clear()
        return batch


class Hub:
    """The poller of one event loop and the subscriptions it feeds."""

    def __init__(self, loop):
        self.loop = loop
        #: Every event with an id up to here has been handed out (or will never exist).
        self.cursor = None
        self._subscriptions = defaultdict(set)
        self._task = None
        self._ready = asyncio.Event()

    @property
    def stream_count(self):
        return sum(len(subs) for subs in self._subscriptions.values())

    async def subscribe(self, project_uuid):
        """A new subscription and the hub's cursor: the stream reads events up to it itself, later ones come here."""
        while True:
            if self._task is None:
                self._task = self.loop.create_task(self._poll())
            await self._ready.wait()
            if self._task is not None and self._ready.is_set():
                break  # still the running poller: register before anything else can run
        subscription = Subscription(project_uuid)
        self._subscriptions[project_uuid].add(subscription)
        return subscription, self.cursor

    def unsubscribe(self, subscription):
        streams = self._subscriptions.get(subscription.project_uuid)
        if streams is not None:
            streams.discard(subscription)
            if not streams:
                del self._subscriptions[subscription.project_uuid]

    def _fan_out(self, events):
        for event in events:
            for subscription in self._subscriptions.get(event.project_uuid, ()):
                subscription.push((event,))

    async def _poll(self):
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rodan-event-log")
        reader, idle_since, ticked = None, None, self.loop.time()
        try:
            while True:
                if self.loop.time() - ticked >= TICK_SECONDS:
                    ticked = self.loop.time()
                    for subscription in [sub for subs in self._subscriptions.values() for sub in subs]:
                        subscription.tick()
                if self._subscriptions:
                    idle_since = None
                elif idle_since is None:
                    idle_since = self.loop.time()
                elif self.loop.time() - idle_since > IDLE_SECONDS:
                    return
                try:
                    if reader is None:
                        reader = await self.loop.run_in_executor(executor, LogReader.at_end)
                        self.cursor = reader.cursor
                        self._ready.set()
                    events = await self.loop.run_in_executor(executor, reader.read, BATCH)
                except Exception:
                    logger.exception("reading the event log failed; retrying")
                    await self.loop.run_in_executor(executor, connection.close)
                    await asyncio.sleep(1)
                    continue
                self._fan_out(events)
                self.cursor = reader.cursor
                if len(events) < BATCH:
                    await asyncio.sleep(POLL_SECONDS)
        finally:
            self._ready.clear()
            self._task, self.cursor = None, None
            executor.submit(connection.close)
            executor.shutdown(wait=False)


_current = None


def hub():
    """The hub of the running event loop (one per server process)."""
    global _current
    loop = asyncio.get_running_loop()
    if _current is None or _current.loop is not loop:
        _current = Hub(loop)
    return _current


def open_streams():
    """How many streams this process holds open (for the health route)."""
    return _current.stream_count if _current is not None else 0
