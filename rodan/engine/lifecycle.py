"""The one owner of RunJob and run state (rodan-compat.md §3).

Every status, dispatch token, claim and working-user field of a RunJob, and
every run status, is written here and nowhere else. Each change is a named
transition in a table that says which states it may start from, which fields
it writes, and what follows it; applying one appends an event to the log in
the same transaction, so the log holds an event exactly when its change
committed. Callers hold the transaction and the row locks; what follows a
transition (dispatching newly ready RunJobs, settling the run, sending
messages) happens inside that same transaction or right after its commit.
"""

import functools
import logging
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from rodan.engine import events, scheduler
from rodan.models import Event, RunJob, WorkflowRun
from rodan.models.status import RunJobStatus as S
from rodan.models.status import RunStatus as R

logger = logging.getLogger(__name__)


class InvalidTransition(Exception):
    """The run or RunJob is not in a state that allows the requested change."""


@dataclass(frozen=True)
class Transition:
    name: str
    #: States the object may be in for the transition to apply.
    sources: frozenset
    #: The state it leaves the object in; None keeps the status.
    target: object
    #: Every field the transition may write (``status`` included when it has a target).
    writes: frozenset
    #: What happens next: "send" (a message after commit), "schedule" (dispatch what became
    #: ready), "settle run" (finish the run if all is done), "fail run".
    follows: tuple = ()
    #: Whether watchers hear of it (status changes); bookkeeping alone stays silent.
    notify: bool = True


def _t(name, sources, target, writes, follows=(), notify=True):
    writes = frozenset(writes) | ({"status"} if target is not None else frozenset())
    return Transition(name, frozenset(sources), target, writes, tuple(follows), notify)


_CLEARED_HOLD = {"working_user", "working_user_token", "working_user_expiry"}
_CLAIM = {"claimed_by", "worker_host", "heartbeat_at", "started_at", "finished_at", "attempts", "job_version"}
_RESET = {"error_summary", "error_details", "job_settings", "dispatch_token", "claimed_by", *_CLEARED_HOLD}
_ANY = set(S)

#: RunJob transitions. A RunJob starts Scheduled (it is created so by run expansion).
RUNJOB = {
    t.name: t
    for t in (
        _t("dispatch", {S.SCHEDULED}, S.PROCESSING, {"dispatch_token", "dispatched_at", "claimed_by"}, ["send"]),
        _t("redispatch", {S.PROCESSING}, None, {"dispatch_token", "dispatched_at", "claimed_by"}, ["send"], False),
        # The same message again (it was lost or never published): a copy that turns up later is dropped by the claim.
        _t("resend", {S.PROCESSING}, None, {"dispatched_at"}, ["send"], False),
        _t("claim", {S.PROCESSING}, None, _CLAIM, notify=False),
        # A worker finishing a RunJob keeps one successor for itself: dispatched and claimed at once, no message.
        _t("dispatch and claim", {S.SCHEDULED}, S.PROCESSING, {"dispatch_token", "dispatched_at", *_CLAIM}),
        _t("wait for input", {S.PROCESSING}, S.WAITING_FOR_INPUT, {"job_settings", "claimed_by", "finished_at"}),
        _t(
            "finish",
            {S.PROCESSING},
            S.FINISHED,
            {"claimed_by", "error_summary", "error_details", "finished_at"},
            ["settle run", "schedule"],
        ),
        _t(
            "fail",
            {S.PROCESSING},
            S.FAILED,
            {"claimed_by", "error_summary", "error_details", "finished_at"},
            ["fail run"],
        ),
        _t(
            "cancel",
            {S.SCHEDULED, S.PROCESSING, S.WAITING_FOR_INPUT},
            S.CANCELLED,
            {"dispatch_token", "claimed_by", *_CLEARED_HOLD},
        ),
        _t("retry", {S.FAILED, S.CANCELLED}, S.SCHEDULED, _RESET, ["schedule"]),
        _t("redo", {S.FINISHED, S.FAILED, S.WAITING_FOR_INPUT, S.PROCESSING}, S.SCHEDULED, _RESET, ["schedule"]),
        _t("redo downstream", _ANY - {S.SCHEDULED}, S.SCHEDULED, _RESET, ["schedule"]),
        _t("submit", {S.WAITING_FOR_INPUT}, S.SCHEDULED, {"job_settings", "dispatch_token", *_CLEARED_HOLD}, ["schedule"]),
        _t("keep waiting", {S.WAITING_FOR_INPUT}, None, {"job_settings"}, notify=False),
        _t("acquire", {S.WAITING_FOR_INPUT}, None, _CLEARED_HOLD, notify=False),
        _t("release", {S.WAITING_FOR_INPUT}, None, _CLEARED_HOLD, notify=False),
    )
}

#: Run transitions. A run is created as Request processing and started once expanded.
RUN = {
    t.name: t
    for t in (
        _t("start", {R.REQUEST_PROCESSING}, R.PROCESSING, (), ["schedule"]),
        _t("finish", {R.PROCESSING, R.RETRYING}, R.FINISHED, ()),
        _t("fail", {R.PROCESSING, R.RETRYING}, R.FAILED, ()),
        _t("cancel", {R.PROCESSING, R.RETRYING, R.FAILED}, R.CANCELLED, ()),
        _t("retry", {R.CANCELLED, R.FAILED}, R.RETRYING, (), ["schedule"]),
        _t("redo", set(R), R.RETRYING, {"last_redone_runjob_tree"}, ["schedule"]),
    )
}

#: RunJob states a cancel stops.
UNFINISHED = tuple(RUNJOB["cancel"].sources)


# -- applying transitions ----------------------------------------------------


def _check(obj, transition, changes, message):
    if obj.status not in transition.sources:
        raise InvalidTransition(message or f"Cannot {transition.name} from status {obj.status}")
    unexpected = set(changes) - transition.writes
    if unexpected:  # a programming error, never a user's
        raise AssertionError(f"transition {transition.name!r} does not write {sorted(unexpected)}")


def _set(obj, transition, changes):
    if transition.target is not None:
        changes = {**changes, "status": transition.target}
    for field, value in changes.items():
        setattr(obj, field, value)
    obj.save(update_fields=[*changes, "updated"])


def _runjob_event(run_job, project_uuid):
    return Event(
        kind="runjob",
        object_uuid=run_job.pk,
        project_uuid=project_uuid,
        status=run_job.status,
        error_summary=run_job.error_summary,
        data={"workflow_run": run_job.workflow_run_id.hex, "job_name": run_job.job_name},
    )


@functools.lru_cache(maxsize=4096)
def _project_uuid(run_id):
    """A run's project (runs never move, so each process asks once per run)."""
    return WorkflowRun.objects.filter(pk=run_id).values_list("project_id", flat=True).get()


def apply(run_job, name, message=None, **changes):
    """Apply RunJob transition ``name`` to a locked row; raise InvalidTransition from a wrong state."""
    transition = RUNJOB[name]
    _check(run_job, transition, changes, message)
    _set(run_job, transition, changes)
    if transition.notify:
        events.record_many([_runjob_event(run_job, _project_uuid(run_job.workflow_run_id))])
    if "send" in transition.follows:
        transaction.on_commit(lambda: _send(run_job))
    return run_job


def _send(run_job):
    """Publish a committed dispatch; one the broker refused is marked unsent, for the scheduler to send again."""
    try:
        scheduler.send(run_job)
    except Exception as exc:  # the broker is down or unreachable: the database still holds the dispatch
        logger.warning("RunJob %s: its message could not be published (%s: %s); the scheduler will send it again",
                       run_job.pk, type(exc).__name__, exc)
        try:
            mark_unsent(run_job.pk, run_job.dispatch_token)
        except Exception:  # the database too: the reaper finds it unclaimed after the heartbeat timeout
            logger.exception("RunJob %s: could not mark its message unsent", run_job.pk)


def apply_run(run, name, message=None, **changes):
    """Apply run transition ``name`` to a locked run; raise InvalidTransition from a wrong state."""
    transition = RUN[name]
    _check(run, transition, changes, message)
    _set(run, transition, changes)
    events.record("workflowrun", run.pk, run.project_id, run.status)
    return run


def _locked_run(run_id):
    return WorkflowRun.objects.select_for_update().get(pk=run_id)


def _locked_run_jobs(queryset):
    return list(queryset.select_for_update(of=("self",)).order_by("created"))


# -- what follows transitions ------------------------------------------------


@dataclass(frozen=True)
class Keeper:
    """A worker process that keeps one ready RunJob it ``accepts`` instead of having it sent."""

    owner: str
    host: str
    accepts: object


def schedule(run_ids=None):
    """Dispatch every ready RunJob (of the given runs, or of all active runs); return how many.

    Joins the caller's transaction when there is one, so a finished RunJob and
    the dispatch of its successors commit together.
    """
    return len(_dispatch_ready(run_ids)[0])


def _dispatch_ready(run_ids, keeper=None):
    """Dispatch the ready RunJobs; the first one ``keeper`` accepts is claimed for it. Returns (all, kept)."""
    kept = None
    with transaction.atomic(savepoint=False):  # a failure here fails the caller's whole transaction anyway
        ready = scheduler.ready_run_jobs(run_ids)
        now = timezone.now()
        for run_job in ready:
            token = uuid.uuid4().hex
            if kept is None and keeper is not None and keeper.accepts(run_job):
                kept = _claim(run_job, "dispatch and claim", keeper.owner, keeper.host, now,
                              dispatch_token=token, dispatched_at=now)
            else:
                apply(run_job, "dispatch", dispatch_token=token, dispatched_at=now, claimed_by="")
    return ready, kept


def schedule_after_commit(run_ids):
    transaction.on_commit(lambda: schedule(run_ids))


def settle_run(run_id):
    """Finish the run once every RunJob has finished (inside a transaction).

    The run is locked before its RunJobs are counted: two workers finishing a
    run's last RunJobs at once queue on that lock, and the second counts after
    the first committed (otherwise each sees the other unfinished and the run
    never settles).
    """
    run = _locked_run(run_id)
    if run.status not in RUN["finish"].sources:
        return False
    if RunJob.objects.filter(workflow_run_id=run_id).exclude(status=S.FINISHED).exists():
        return False
    apply_run(run, "finish")
    return True


def _fail_run(run_id):
    run = _locked_run(run_id)
    if run.status in RUN["fail"].sources:
        apply_run(run, "fail")


# -- RunJob transitions, as the engine and the views use them -----------------


def redispatch(run_job):
    """Send a Processing RunJob again under a new token (its worker died or its message was lost)."""
    return apply(run_job, "redispatch", dispatch_token=uuid.uuid4().hex, dispatched_at=timezone.now(), claimed_by="")


def resend(run_job):
    """Send a dispatched, unclaimed RunJob's message again under the same token."""
    return apply(run_job, "resend", dispatched_at=timezone.now())


def mark_unsent(run_job_id, token):
    """Clear the dispatch time of a RunJob whose message was never published: the outbox the reaper sends."""
    return bool(
        RunJob.objects.filter(pk=run_job_id, dispatch_token=token, status=S.PROCESSING, claimed_by="").update(
            dispatched_at=None
        )
    )


def claim(run_job, owner, host, now):
    """The worker process ``owner`` starts the RunJob."""
    return _claim(run_job, "claim", owner, host, now)


def _claim(run_job, name, owner, host, now, **dispatch):
    return apply(
        run_job,
        name,
        **dispatch,
        claimed_by=owner,
        worker_host=host,
        heartbeat_at=now,
        started_at=now,
        finished_at=None,
        attempts=run_job.attempts + 1,
        job_version=run_job.job.version if run_job.job_id else "",
    )


def beat(run_job_id, token, owner):
    """Stamp the heartbeat of a RunJob still held by ``owner`` under ``token``; False once it is not."""
    return bool(
        RunJob.objects.filter(pk=run_job_id, dispatch_token=token, status=S.PROCESSING, claimed_by=owner).update(
            heartbeat_at=timezone.now()
        )
    )


def wait_for_input(run_job, settings_update):
    return apply(
        run_job,
        "wait for input",
        job_settings={**run_job.job_settings, **settings_update},
        claimed_by="",
        finished_at=timezone.now(),
    )


def finish(run_job, keeper=None):
    """The job succeeded: settle its run and dispatch what its outputs made ready, in this transaction.

    With a ``keeper``, the first ready RunJob it accepts is claimed for it
    rather than sent, and returned (else None): the worker runs it next
    without a broker round trip, and it stays recoverable like any claim.
    """
    apply(run_job, "finish", claimed_by="", error_summary="", error_details="", finished_at=timezone.now())
    if settle_run(run_job.workflow_run_id):
        return None
    return _dispatch_ready([run_job.workflow_run_id], keeper)[1]


def fail(run_job, summary, details=""):
    """The job failed (or its workers kept dying): the RunJob and its run are Failed."""
    apply(
        run_job,
        "fail",
        claimed_by="",
        error_summary=summary,
        error_details=details,
        finished_at=timezone.now(),
    )
    _fail_run(run_job.workflow_run_id)
    return run_job


def _without_state(job_settings):
    return {key: value for key, value in job_settings.items() if not key.startswith("@")}


def _reset(run_job, name):
    return apply(
        run_job,
        name,
        error_summary="",
        error_details="",
        job_settings=_without_state(run_job.job_settings),
        dispatch_token="",
        claimed_by="",
        working_user=None,
        working_user_token="",
        working_user_expiry=None,
    )


def _cancel(run_jobs):
    for run_job in run_jobs:
        apply(run_job, "cancel", dispatch_token="", claimed_by="", working_user=None, working_user_token="",
              working_user_expiry=None)


@transaction.atomic
def submit(run_job, result):
    """Accept a validated submission: merge its ``@`` keys and let the job run again.

    Rodan merges every key of the returned dict; only the ``@`` keys (the
    job's own state) are merged here, so a submission cannot rewrite the
    job's settings.
    """
    run_job = RunJob.objects.select_for_update().get(pk=run_job.pk)
    update = {key: value for key, value in result.items() if key.startswith("@")}
    apply(
        run_job,
        "submit",
        "This RunJob does not accept input now",
        job_settings={**run_job.job_settings, **update},
        dispatch_token="",
        working_user=None,
        working_user_token="",
        working_user_expiry=None,
    )
    schedule_after_commit([run_job.workflow_run_id])
    return run_job


@transaction.atomic
def keep_waiting(run_job, settings_update):
    """A submission answered "keep waiting": merge its ``@`` keys, stay Waiting for input."""
    run_job = RunJob.objects.select_for_update().get(pk=run_job.pk)
    return apply(
        run_job, "keep waiting", "This RunJob does not accept input now",
        job_settings={**run_job.job_settings, **settings_update},
    )


def acquire(run_job, user, token, expiry):
    """Hold a waiting RunJob for ``user`` until ``expiry`` (the interactive working URL's token)."""
    return apply(
        run_job, "acquire", "This RunJob does not accept input now",
        working_user=user, working_user_token=token, working_user_expiry=expiry,
    )


def release_expired(now):
    """Free the waiting RunJobs whose working user's hold expired; return how many."""
    expired = RunJob.objects.filter(status=S.WAITING_FOR_INPUT, working_user_expiry__lt=now)
    count = 0
    with transaction.atomic():
        for run_job in _locked_run_jobs(expired):
            apply(run_job, "release", working_user=None, working_user_token="", working_user_expiry=None)
            count += 1
    return count


# -- run transitions ----------------------------------------------------------


def start_run(run):
    """A freshly expanded run starts: Processing, and its first RunJobs are dispatched after commit."""
    apply_run(run, "start")
    schedule_after_commit([run.pk])
    return run


@transaction.atomic
def cancel_run(run):
    """Cancel the run and stop every unfinished RunJob (running ones notice through their heartbeat)."""
    run = _locked_run(run.pk)
    _check(run, RUN["cancel"], {}, "Invalid status update")
    _cancel(_locked_run_jobs(RunJob.objects.filter(workflow_run=run, status__in=UNFINISHED)))
    return apply_run(run, "cancel")


@transaction.atomic
def stop_for_deletion(run):
    """Stop every unfinished RunJob of a run about to be deleted, whatever the run's status."""
    _locked_run(run.pk)
    _cancel(_locked_run_jobs(RunJob.objects.filter(workflow_run=run, status__in=UNFINISHED)))


@transaction.atomic
def retry_run(run):
    """Run the failed and cancelled RunJobs again."""
    run = _locked_run(run.pk)
    _check(run, RUN["retry"], {}, "Invalid status update")
    for run_job in _locked_run_jobs(RunJob.objects.filter(workflow_run=run, status__in=RUNJOB["retry"].sources)):
        _reset(run_job, "retry")
    apply_run(run, "retry")
    schedule_after_commit([run.pk])
    return run


@transaction.atomic
def redo(run_job, downstream_ids):
    """Run ``run_job`` again and every RunJob of ``downstream_ids`` that is not Scheduled."""
    run = _locked_run(run_job.workflow_run_id)
    run_job = RunJob.objects.select_for_update().get(pk=run_job.pk)
    _check(run_job, RUNJOB["redo"], {}, "Requested RunJob is not yet processed.")
    _reset(run_job, "redo")
    for other in _locked_run_jobs(RunJob.objects.filter(pk__in=downstream_ids).exclude(pk=run_job.pk)):
        if other.status != S.SCHEDULED:
            _reset(other, "redo downstream")
    apply_run(run, "redo", last_redone_runjob_tree=run_job)
    schedule_after_commit([run.pk])
    return run
