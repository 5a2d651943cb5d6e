"""E-mail to a run's creator when the run finishes, fails, or waits for input.

The scheduler process sends it (``deliver``, once per pass of its loop),
never a web request, through Django's mail backend, and only to creators
whose preference ``send_email`` is on. One mail per run state change,
however many pages the run has and however many schedulers run:

1. ``collect`` reads the event log after a stored cursor with a
   ``LogReader`` (which never steps over an event still being committed) and
   inserts one ``RunNotification`` per (run, state, period), ignoring rows
   that already exist, and moves the cursor, in one transaction. Two
   schedulers reading the same events make one row.
2. ``send_pending`` connects to the mail server first; then, for each pending
   row, claims it (pending -> sending, a conditional update committed before
   the mail goes out: of two schedulers only one wins it), hands the mail to
   the server and marks it sent. A server that cannot be reached leaves
   every row pending for a later pass, and the loop goes on. A process that
   dies while sending leaves its row "sending": it is not sent again, since
   it may have gone out, so a crash costs at most that mail, never a copy.

"Waits for input" is one notification for the period between two status
changes of the run, whichever of its pages wait and when.
"""

import logging
import os
import re
import smtplib
import socket
import time
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.core import mail
from django.db import DatabaseError, transaction
from django.db.models import Count, F
from django.db.models.functions import Greatest
from django.utils import timezone

from rodan.engine import events
from rodan.models import Event, Resource, RunJob, UserPreference, WorkflowRun
from rodan.models.notification import NotificationCursor, RunNotification
from rodan.models.status import RunJobStatus, RunStatus

logger = logging.getLogger(__name__)

State = RunNotification.State
Delivery = RunNotification.Delivery

#: Events read, and notifications sent, per step.
BATCH = 500
#: Times one mail may be refused for a passing reason (a 4xx reply) before it is given up.
MAX_ATTEMPTS = 10
#: Longest pause, in seconds, after the mail server could not be reached.
MAX_PAUSE = 300
#: Failed or waiting RunJobs a mail names; the rest are counted.
LISTED = 3

_RUN_STATES = {RunStatus.FINISHED: State.FINISHED, RunStatus.FAILED: State.FAILED}
_reader = None


def deliver():
    """One pass: turn new events into notifications, then send the pending ones; returns how many were sent.

    Call it outside any transaction: each claim must commit before its mail goes out.
    """
    collect()
    return send_pending()


# -- events -> notifications -------------------------------------------------


def collect():
    """Add the notifications that the events after the cursor call for, and move the cursor past them."""
    global _reader
    stored = NotificationCursor.objects.get_or_create(pk=1)[0].last_event_id
    if _reader is None or stored > _reader.cursor:  # another scheduler got further: start there
        _reader = events.LogReader(stored)
    try:
        while batch := _reader.read(BATCH):
            with transaction.atomic():
                _queue(batch)
                NotificationCursor.objects.filter(pk=1).update(
                    last_event_id=Greatest(F("last_event_id"), _reader.cursor)
                )
    except BaseException:
        _reader = None  # its cursor may be past what was stored: read again from the stored one
        raise


def _queue(batch):
    """Insert one notification per (run, state, period) the events ask for; existing ones stay as they are."""
    periods, keys = {}, {}
    for event in batch:
        if event.kind == "workflowrun":
            periods[event.object_uuid] = event.id
            if event.status in _RUN_STATES:
                keys[(event.object_uuid, _RUN_STATES[event.status], event.id)] = None
        elif event.kind == "runjob" and event.status == RunJobStatus.WAITING_FOR_INPUT:
            run_id = uuid.UUID(event.data["workflow_run"])
            if run_id not in periods:
                periods[run_id] = _last_status_event(run_id, event.id)
            keys[(run_id, State.WAITING_FOR_INPUT, periods[run_id])] = None
    runs = set(WorkflowRun.objects.filter(pk__in={run_id for run_id, _, _ in keys}).values_list("pk", flat=True))
    RunNotification.objects.bulk_create(
        [RunNotification(workflow_run_id=r, state=s, period=p) for r, s, p in keys if r in runs],
        ignore_conflicts=True,
    )


def _last_status_event(run_id, before):
    """The id of the run's last status event before event ``before`` (0 if none is kept)."""
    earlier = Event.objects.filter(kind="workflowrun", object_uuid=run_id, id__lt=before).order_by("-id")
    return earlier.values_list("id", flat=True).first() or 0


# -- notifications -> mail ---------------------------------------------------


class _Outage:
    """After the mail server could not be reached, the next try waits 1, 2, 4 ... up to MAX_PAUSE seconds."""

    failures = 0
    until = 0.0

    def started(self, exc, waiting):
        self.failures += 1
        pause = min(MAX_PAUSE, 2 ** (self.failures - 1))
        self.until = time.monotonic() + pause
        logger.warning("The mail server cannot be reached (%s: %s); %d notification(s) wait; next try in %d s",
                       type(exc).__name__, exc, waiting, pause)

    def over(self):
        if self.failures:
            logger.info("The mail server answers again")
        self.failures, self.until = 0, 0.0


_outage = _Outage()


def send_pending():
    """Send the pending notifications, oldest first; returns how many were sent."""
    if transaction.get_connection().in_atomic_block:  # a claim rolled back after its mail went out would send it again
        raise RuntimeError("notifications are sent outside transactions, so that each claim commits first")
    if time.monotonic() < _outage.until:
        return 0
    due = list(RunNotification.objects.filter(delivery=Delivery.PENDING).order_by("tries", "id")[:BATCH])
    if not due:
        return 0
    connection = mail.get_connection()
    try:
        connection.open()
    except Exception as exc:  # refused, unknown host, time-out, TLS: the rows stay pending
        _outage.started(exc, len(due))
        return 0
    sent = 0
    try:
        for notification in due:
            outcome = _send_one(connection, notification)
            if outcome is None:  # the connection is gone: the rest wait for the next pass
                return sent
            sent += outcome
        _outage.over()
    finally:
        try:
            connection.close()
        except Exception:  # a server that already hung up
            pass
    return sent


def _send_one(connection, notification):
    """1 if sent, 0 if not (skipped, taken by another scheduler, refused), None if the server went away."""
    try:
        message = compose(notification)
    except DatabaseError:
        raise  # the database is away: the whole pass is tried again later
    except Exception as exc:  # a mail that cannot be written must not hold up the others
        logger.exception("Notification %s: its mail could not be written", notification.pk)
        RunNotification.objects.filter(pk=notification.pk, delivery=Delivery.PENDING).update(
            delivery=Delivery.FAILED, last_error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        return 0
    if message is None:
        RunNotification.objects.filter(pk=notification.pk, delivery=Delivery.PENDING).update(delivery=Delivery.SKIPPED)
        return 0
    owner = f"{socket.gethostname()}:{os.getpid()}"
    claimed = RunNotification.objects.filter(pk=notification.pk, delivery=Delivery.PENDING).update(
        delivery=Delivery.SENDING, sender=owner, tries=F("tries") + 1
    )
    if not claimed:
        return 0
    mine = RunNotification.objects.filter(pk=notification.pk, delivery=Delivery.SENDING, sender=owner)
    try:
        connection.send_messages([message])
    except Exception as exc:
        refused = isinstance(exc, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused)
        given_up = _refused_for_good(exc) or notification.tries + 1 >= MAX_ATTEMPTS
        mine.update(delivery=Delivery.FAILED if given_up else Delivery.PENDING, sender="",
                    last_error=f"{type(exc).__name__}: {exc}"[:2000])
        logger.warning("Notification %s to %s %s: %s: %s", notification.pk, message.to[0],
                       "given up" if given_up else "not sent, will be tried again", type(exc).__name__, exc)
        if not refused:
            _outage.started(exc, 1)
            return None
        return 0
    mine.update(delivery=Delivery.SENT, sent_at=timezone.now())
    return 1


def _refused_for_good(exc):
    """A 5xx reply: the server will refuse this mail again."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500


# -- the mail ----------------------------------------------------------------


def wants_mail(user):
    """The preference ``send_email``; a user without preferences has the field's default (on)."""
    chosen = UserPreference.objects.filter(user=user).values_list("send_email", flat=True).first()
    return UserPreference._meta.get_field("send_email").default if chosen is None else chosen


def run_link(run):
    """Where the web application opens the run."""
    return f"{settings.RODAN_PUBLIC_URL.rstrip('/')}/runs/{run.uuid}"


def compose(notification):
    """The mail for a notification, or None when there is nobody to tell or nothing waits any more."""
    run = WorkflowRun.objects.select_related("project", "workflow", "creator").filter(pk=notification.workflow_run_id).first()
    user = run and run.creator
    if user is None or not user.email or not wants_mail(user):
        return None
    run_jobs = RunJob.objects.filter(workflow_run=run)
    listed_status = {State.FAILED: RunJobStatus.FAILED, State.WAITING_FOR_INPUT: RunJobStatus.WAITING_FOR_INPUT}
    listed = []
    if notification.state in listed_status:
        listed = list(run_jobs.filter(status=listed_status[notification.state]).order_by("finished_at", "created"))
        if not listed and notification.state == State.WAITING_FOR_INPUT:
            return None  # the input was given before the mail could go out
    name = run.name or f"run {run.uuid.hex[:8]}"
    what = {
        State.FINISHED: "has finished",
        State.FAILED: "has failed",
        State.WAITING_FOR_INPUT: "is waiting for input",
    }[notification.state]
    workflow = run.workflow.name if run.workflow else "(deleted workflow)"
    lines = [
        f"Hello {user.get_username()},",
        "",
        f'Your run "{name}" of the workflow "{workflow}" in the project "{run.project.name}" {what}.',
        "",
        *_counts(run_jobs),
    ]
    if listed:
        heading = "What failed:" if notification.state == State.FAILED else "Jobs that need you in the browser:"
        lines += ["", heading, *_listing(listed, notification.state)]
    lines += [
        "",
        f"Open the run: {run_link(run)}",
        "",
        "-- ",
        "You receive this because e-mail is on in your Rodan preferences; turn it off there to stop these mails.",
    ]
    host = urlsplit(settings.RODAN_PUBLIC_URL).hostname or "rodan"
    return mail.EmailMessage(
        subject=f'Rodan: run "{name}" {what}',
        body="\n".join(lines) + "\n",
        to=[user.email],
        # The same id each time: a mail client shows a copy (a resend after an unclear failure) once.
        headers={"Message-ID": f"<run-{run.uuid.hex}-{notification.pk}@{host}>"},
    )


def _counts(run_jobs):
    pages = run_jobs.exclude(resource_uuid__isnull=True).values("resource_uuid").distinct().count()
    by_status = dict(run_jobs.values_list("status").annotate(n=Count("pk")).values_list("status", "n"))
    total = sum(by_status.values())
    labels = {RunJobStatus(status).label.lower(): count for status, count in by_status.items()}
    parts = [f"{count} {label}" for label, count in sorted(labels.items(), key=lambda item: (-item[1], item[0]))]
    lines = [f"Pages: {pages}"] if pages else []
    return [*lines, f"Jobs: {total}" + (f" ({', '.join(parts)})" if parts else "")]


def _listing(run_jobs, state):
    pages = dict(
        Resource.objects.filter(uuid__in=[uuid.UUID(rj.resource_uuid) for rj in run_jobs if rj.resource_uuid])
        .values_list("uuid", "name")
    )
    lines = []
    for run_job in run_jobs[:LISTED]:
        page = pages.get(uuid.UUID(run_job.resource_uuid)) if run_job.resource_uuid else None
        where = f'"{run_job.job_name}"' + (f' on page "{page}"' if page else "")
        error = first_sentences(run_job.error_summary) or "(no error message)"
        lines.append(f"- {where}: {error}" if state == State.FAILED else f"- {where}")
    if len(run_jobs) > LISTED:
        lines.append(f"- and {len(run_jobs) - LISTED} more.")
    return lines


def first_sentences(text, count=2, limit=400):
    """The first ``count`` sentences of an error, on one line, at most ``limit`` characters."""
    sentences = re.split(r"(?<=[.!?])\s+", " ".join(text.split()))
    short = " ".join(sentences[:count])
    return short if len(short) <= limit else short[: limit - 1].rstrip() + "…"
