"""Living through database outages: a restart or a dropped connection is waited out, not turned into a failure.

PostgreSQL restarted (``pg_ctl restart -m fast``) terminates every
connection; the next query on one raises ``OperationalError`` or
``InterfaceError``, and Django does not reconnect inside a thread on its
own. A worker whose job is running must not fail that job for it, nor lose
its claim: the steps that talk to the database close the broken connection
and try again until the database answers, for up to
``RODAN_DATABASE_OUTAGE_SECONDS``.
"""

import logging
import time

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection

logger = logging.getLogger(__name__)

#: What a lost or refused database connection raises (psycopg's errors are wrapped in these by Django).
OUTAGE_ERRORS = (OperationalError, InterfaceError)


def is_outage(exc):
    return isinstance(exc, OUTAGE_ERRORS)


class DatabaseUnavailable(Exception):
    """The database stayed unreachable for longer than ``RODAN_DATABASE_OUTAGE_SECONDS``."""


def _reachable():
    try:
        connection.close()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except OUTAGE_ERRORS:
        return False


def wait_until_reachable(deadline):
    """Reconnect, retrying with a growing pause, until the database answers or ``deadline`` (monotonic) passes."""
    pause = 0.2
    while not _reachable():
        if time.monotonic() >= deadline:
            raise DatabaseUnavailable(
                f"The database was unreachable for over {settings.RODAN_DATABASE_OUTAGE_SECONDS:g} seconds."
            )
        time.sleep(pause)
        pause = min(pause * 2, 5)


def outage_deadline():
    return time.monotonic() + settings.RODAN_DATABASE_OUTAGE_SECONDS


def retrying(step, *args, **kwargs):
    """``step(*args, **kwargs)``, run again after a reconnection whenever the database connection is lost.

    ``step`` must be safe to repeat: a transaction that did not commit, or
    one that undoes its own side effects when it fails.
    """
    deadline = outage_deadline()
    while True:
        try:
            return step(*args, **kwargs)
        except OUTAGE_ERRORS as exc:
            if connection.in_atomic_block:
                raise  # the outermost transaction's caller repeats it
            logger.warning("database unreachable (%s); waiting for it to come back", str(exc).strip() or type(exc).__name__)
            wait_until_reachable(deadline)


def server_started_at():
    """When the PostgreSQL server last started (None on other databases): heartbeats could not land before it."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_postmaster_start_time()")
        return cursor.fetchone()[0]
