"""Appending to the event log, reading it back in order, and pruning it.

Every state change appends an event in its own transaction (``record``), so
an event exists exactly when its change committed. Readers follow the log by
id. On PostgreSQL ids come from a sequence and are taken before commit, so a
reader may see event n+1 while n is still being committed; ``LogReader``
holds back everything after such a gap until the transactions that were in
flight when it first saw the gap have ended (then a missing id was rolled
back and is skipped). SQLite commits one writer at a time, so its ids never
arrive out of order.
"""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from rodan.models import Event

logger = logging.getLogger(__name__)

#: Seconds a gap may hold back a reader before it is skipped anyway (a stuck transaction).
GAP_TIMEOUT = 10.0
#: How far below the newest id ``LogReader.at_end`` looks for events still being committed.
RECENT_IDS = 1000


def record(kind, object_uuid, project_uuid, status, error_summary="", **data):
    """Append one event (call inside the transaction that made the change)."""
    return Event.objects.create(
        kind=kind,
        object_uuid=object_uuid,
        project_uuid=project_uuid,
        status=status,
        error_summary=error_summary or "",
        data=data,
    )


def record_many(events):
    """Append several events built as unsaved ``Event`` objects, in order."""
    return Event.objects.bulk_create(events)


def last_id():
    """The id of the newest event, 0 when the log is empty."""
    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


def oldest_id():
    """The id of the oldest event still kept, or None when the log is empty."""
    return Event.objects.order_by("id").values_list("id", flat=True).first()


def prune(now=None):
    """Delete events older than ``RODAN_EVENT_RETENTION`` seconds; return how many."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.RODAN_EVENT_RETENTION)
    deleted, _ = Event.objects.filter(created__lt=cutoff).delete()
    return deleted


def _in_flight_transactions():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_snapshot_xip(pg_current_snapshot())::text")
        return [row[0] for row in cursor.fetchall()]


def _any_still_running(xids):
    if not xids:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_xact_status(x::xid8) FROM unnest(%s::text[]) AS x", [xids])
        return any(row[0] == "in progress" for row in cursor.fetchall())


def record_resource(resource):
    """Append a ``resource`` event: an upload's processing status changed."""
    resource_type = resource.resource_type.mimetype if resource.resource_type_id else None
    return record(
        "resource", resource.uuid, resource.project_id, resource.processing_status,
        name=resource.name, resource_type=resource_type,
    )


def record_package(package, status, percent_completed, error_summary=""):
    """Append a ``resultspackage`` event: a results package's status changed."""
    run = package.workflow_run
    return record(
        "resultspackage", package.uuid, run.project_id, status, error_summary,
        workflow_run=run.uuid.hex, percent_completed=percent_completed,
    )


def project_events(project_uuid, after, up_to, limit=None):
    """A project's events with ``after < id <= up_to``, in order (catch-up below a reader's safe cursor)."""
    events = Event.objects.filter(project_uuid=project_uuid, id__gt=after, id__lte=up_to).order_by("id")
    return list(events[:limit] if limit else events)


class LogReader:
    """Reads the whole log after a cursor, in id order, never stepping over an event still being committed.

    Its cursor is a safe ceiling: every event with a lower id that will ever
    exist already does, so ``project_events(p, after, reader.cursor)`` misses nothing.
    """

    def __init__(self, cursor=0):
        self.cursor = cursor
        self._gap = None  # (missing id, in-flight transaction ids, monotonic time first seen)

    @classmethod
    def at_end(cls):
        """A reader that starts at the end of the log, without stepping over an event still being committed.

        The newest id is read before the in-flight transactions: any of them
        that holds a lower id was already running. While some are, the cursor
        goes back to just below the first missing id of the recent log, and
        ``read`` waits there as for any gap.
        """
        newest = last_id()
        if connection.vendor != "postgresql" or not _in_flight_transactions():
            return cls(newest)
        floor = max(newest - RECENT_IDS, 0)
        present = set(Event.objects.filter(id__gt=floor, id__lte=newest).values_list("id", flat=True))
        missing = next((i for i in range(floor + 1, newest + 1) if i not in present), None)
        return cls(newest if missing is None else missing - 1)

    def read(self, limit=1000):
        """The next events after the cursor (and advance it past them)."""
        expected, delivered = self.cursor + 1, []
        for row in Event.objects.filter(id__gt=self.cursor).order_by("id")[:limit]:
            if row.id != expected and not self._gap_closed(expected):
                break
            delivered.append(row)
            expected = row.id + 1
        if delivered:
            self.cursor = delivered[-1].id
            self._gap = None
        return delivered

    def _gap_closed(self, missing):
        if connection.vendor != "postgresql":
            return True
        now = time.monotonic()
        if self._gap is None or self._gap[0] != missing:
            self._gap = (missing, _in_flight_transactions(), now)
            return False
        _, xids, since = self._gap
        if not _any_still_running(xids):
            return True
        if now - since > GAP_TIMEOUT:
            logger.warning("event %s still missing after %.0f s; skipping it", missing, GAP_TIMEOUT)
            return True
        return False
