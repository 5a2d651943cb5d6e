"""The periodic safety net: no RunJob stays "Processing" forever.

It finds RunJobs whose worker died (heartbeat silent for longer than
RODAN_HEARTBEAT_TIMEOUT, or its process gone on this host) and dispatches
them again with a new token, or fails them with a clear error once they have
used RODAN_MAX_ATTEMPTS. It re-sends RunJobs whose message no worker holds
(never published, or taken by a worker that died or froze before claiming
it) within RODAN_HEARTBEAT_TIMEOUT, frees interactive jobs whose working
user expired, resumes runs a full disk stopped once there is room again,
schedules whatever is ready, and prunes old events.

Silence counts only while the database could hear: after the reaper lost
the database, or the database server (re)started, heartbeats and claims are
judged from the moment it answered again, so an outage never makes live
workers look dead.
"""

import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from rodan import database, notifications, storage
from rodan.engine import events, lifecycle
from rodan.engine.execution import claim_is_dead
from rodan.engine.scheduler import ACTIVE_RUN_STATUSES, _lock, queue_of
from rodan.packages import expire_packages
from rodan.models import ReaperPass, RunJob, WorkflowRun
from rodan.models.status import RunJobStatus, RunStatus

logger = logging.getLogger(__name__)


def queue_depth(queue, connection=None):
    """Messages waiting in ``queue`` on the broker: 0 when it does not exist yet, None when the broker cannot say.

    ``connection``: an open broker connection to reuse (one per queue otherwise).
    """
    from amqp.exceptions import NotFound

    from rodan.celery import app

    try:
        if connection is None:
            with app.connection_for_write() as conn:
                return queue_depth(queue, conn)
        with connection.channel() as channel:
            return channel.queue_declare(queue=queue, passive=True).message_count
    except NotFound:  # RabbitMQ: an undeclared queue holds nothing
        return 0
    except Exception:  # unreachable, or a transport that cannot count
        return None


def queue_length(queue):
    """Messages waiting in ``queue``, counting a queue the broker cannot measure as empty."""
    return queue_depth(queue) or 0


def _recover_dead_claims(now, heard_until):
    claimed = RunJob.objects.filter(status=RunJobStatus.PROCESSING).exclude(claimed_by="")
    redispatched = 0
    for run_job in _lock(claimed.select_related("job", "workflow_run")):
        if not claim_is_dead(run_job, now, heard_until):
            continue
        if run_job.attempts >= settings.RODAN_MAX_ATTEMPTS:
            lifecycle.fail(
                run_job,
                f"The worker running this job ({run_job.claimed_by}) stopped responding, "
                f"{run_job.attempts} times in all; giving up.",
                "Worker processes stop without finishing when they run out of memory, are killed, "
                "or their machine goes away. Retry the run after fixing the cause.",
            )
            logger.error("RunJob %s failed: its workers kept dying", run_job.pk)
        else:
            logger.warning("RunJob %s: worker %s is gone; dispatching again", run_job.pk, run_job.claimed_by)
            lifecycle.redispatch(run_job)
            redispatched += 1
    return redispatched


#: RunJobs that looked held by no one at the last pass: a message between queue and claim looks so for an instant.
_suspects = set()


def _recover_lost_messages(now, heard_until):
    """Re-send, under the same token, the dispatched RunJobs no worker holds and no queue can still hold.

    Unsent ones (the broker refused them, or a worker that froze handed them
    back) go at once. Otherwise a queue that holds M messages holds at most
    the M newest dispatches to it: an older unclaimed one, past half the
    heartbeat timeout, was taken by a worker that died or froze before
    claiming it, or lost. It is sent again if it still looks so at the next
    pass (a live worker claims what it takes within milliseconds), so within
    the heartbeat timeout while the reaper's interval is at most a quarter of
    it. Past the dispatch timeout, any unclaimed one is sent again, as stale
    messages may fill a queue. A copy that survives somewhere is dropped when
    it arrives (same token: the claim lets only one run).
    """
    unclaimed = RunJob.objects.filter(status=RunJobStatus.PROCESSING, claimed_by="")
    suspect_before = now - timedelta(seconds=settings.RODAN_HEARTBEAT_TIMEOUT / 2)
    hopeless_before = now - timedelta(seconds=settings.RODAN_DISPATCH_TIMEOUT)
    # Newest first, as the queues hold them: one transaction's dispatches share a time and go out in creation order.
    newest_first = (F("dispatched_at").desc(nulls_first=True), "-created")
    rows = _lock(unclaimed.select_related("job").order_by(*newest_first))
    queued, suspects, resent = {}, set(), 0
    for run_job in rows:
        queue = queue_of(run_job)
        if run_job.dispatched_at is not None:
            if queue not in queued:
                queued[queue] = queue_length(queue)
            queued[queue] -= 1
            # A worker cannot claim while the database is away: waiting counts from its return.
            waiting_since = max(run_job.dispatched_at, heard_until or run_job.dispatched_at)
            if waiting_since >= suspect_before:
                continue  # too recent to judge
            if waiting_since >= hopeless_before:
                if queued[queue] >= 0:
                    continue  # its queue may still hold it
                if run_job.pk not in _suspects:
                    suspects.add(run_job.pk)  # judged at the next pass
                    continue
        logger.warning("RunJob %s: no worker holds its message; sending it again", run_job.pk)
        lifecycle.resend(run_job)
        resent += 1
    _suspects.clear()
    _suspects.update(suspects)
    return resent


def _resume_after_disk_full():
    """Retry the failed runs whose every failure was the full disk, once MEDIA_ROOT has room again."""
    failed = RunJob.objects.filter(status=RunJobStatus.FAILED)
    stopped_by_disk = WorkflowRun.objects.filter(
        status=RunStatus.FAILED, pk__in=failed.filter(error_summary=storage.DISK_FULL_SUMMARY).values("workflow_run")
    ).exclude(pk__in=failed.exclude(error_summary=storage.DISK_FULL_SUMMARY).values("workflow_run"))
    if not stopped_by_disk.exists() or not storage.has_room():
        return 0
    resumed = 0
    for run in stopped_by_disk:
        try:
            lifecycle.retry_run(run)
        except lifecycle.InvalidTransition:
            continue  # someone retried or cancelled it meanwhile
        logger.warning("run %s: the disk has room again; resuming the jobs it failed", run.pk)
        resumed += 1
    return resumed


def reap(database_back_at=None):
    """One pass of the safety net; returns counts of what it did.

    ``database_back_at``: when this process reached the database again after losing it, if it did.
    """
    now = timezone.now()
    heard_until = max(filter(None, [database_back_at, database.server_started_at()]), default=None)
    with transaction.atomic():
        redispatched = _recover_dead_claims(now, heard_until) + _recover_lost_messages(now, heard_until)
    expired = lifecycle.release_expired(now)
    for run_id in WorkflowRun.objects.filter(status__in=ACTIVE_RUN_STATUSES).values_list("pk", flat=True):
        with transaction.atomic():
            lifecycle.settle_run(run_id)
    return {
        "redispatched": redispatched,
        "expired_working_users": expired,
        "resumed_after_disk_full": _resume_after_disk_full(),
        "scheduled": lifecycle.schedule(),
        "expired_packages": expire_packages(now),
        "pruned_events": events.prune(now),
    }


def run_forever(stop=None):
    """Reap every RODAN_REAPER_INTERVAL seconds until ``stop`` is set (the scheduler process).

    The reaper runs in its own process, not as a Celery task: it must work
    precisely when every worker is busy or gone.
    """
    from django.db import close_old_connections, connection

    stop = stop or threading.Event()
    lost_database, database_back_at = False, None
    while not stop.wait(settings.RODAN_REAPER_INTERVAL):
        try:
            close_old_connections()
            if lost_database:
                database_back_at = timezone.now()
            result = reap(database_back_at)
            result["mailed"] = notifications.deliver()  # mail about runs (rodan.notifications)
            lost_database = False
            if ReaperPass.record(result):  # shown to admins (rodan.monitoring)
                logger.info("reaper: %s", result)
        except Exception as exc:  # a database or broker outage: log it and try again next round
            if database.is_outage(exc):
                lost_database = True
                connection.close()
                logger.warning("reaper: the database is unreachable (%s); trying again", str(exc).strip())
            else:
                logger.exception("reaper pass failed")
