"""The lifecycle's transition table, tried from every state, and its guarantees.

Every RunJob and run transition is applied from every status: it must succeed
exactly from the states the table lists, write exactly the fields it declares
(and nothing else), append an event exactly when it notifies, and send a
message exactly when "send" follows it. Refused transitions change nothing.
"""

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from rodan.engine import events, lifecycle, scheduler
from rodan.engine.expansion import create_run
from rodan.engine.validation import validate_workflow
from rodan.models import Event, RunJob, WorkflowRun
from rodan.models.status import RunJobStatus as S
from rodan.models.status import RunStatus as R

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sent(monkeypatch):
    """The RunJobs the lifecycle hands to the broker (recorded, not sent)."""
    calls = []
    monkeypatch.setattr(scheduler, "send", lambda run_job: calls.append(run_job.pk))
    return calls


@pytest.fixture
def one_job_run(wfb, sent):
    (job,) = wfb.chain(1)
    validate_workflow(wfb.workflow)
    run = create_run(wfb.workflow, {job.input_ports.get(): [wfb.upload("p")]})
    return run, RunJob.objects.get(workflow_run=run), wfb.project.creator


def _samples(user, run_job):
    now = timezone.now()
    return {
        "dispatch_token": "tok-sample",
        "dispatched_at": now,
        "claimed_by": "host:4242",
        "worker_host": "host",
        "heartbeat_at": now,
        "started_at": now - timedelta(seconds=3),
        "finished_at": now + timedelta(seconds=3),
        "attempts": 2,
        "job_version": "9.9",
        "job_settings": {"Tag": "x", "@state": 7},
        "error_summary": "sample summary",
        "error_details": "sample details",
        "working_user": user,
        "working_user_token": "holder-token",
        "working_user_expiry": now + timedelta(hours=1),
        "last_redone_runjob_tree": run_job,
    }


def _snapshot(obj):
    obj.refresh_from_db()
    return {k: v for k, v in model_to_dict(obj).items() if k != "updated"}


@pytest.mark.parametrize("name", sorted(lifecycle.RUNJOB))
@pytest.mark.parametrize("start", list(S), ids=lambda s: s.label)
def test_runjob_transition_from_every_state(one_job_run, sent, name, start):
    run, run_job, user = one_job_run
    transition = lifecycle.RUNJOB[name]
    RunJob.objects.filter(pk=run_job.pk).update(status=start)
    RunJob.objects.filter(pk=run_job.pk).update(
        dispatch_token="old", claimed_by="old:1", error_summary="old", job_settings={"Tag": "t"}
    )
    samples = _samples(user, run_job)
    changes = {field: samples[field] for field in transition.writes - {"status"}}
    before, last_event, sent_before = _snapshot(run_job), events.last_id(), len(sent)

    with transaction.atomic():
        locked = RunJob.objects.select_for_update().get(pk=run_job.pk)
        if start not in transition.sources:
            with pytest.raises(lifecycle.InvalidTransition):
                lifecycle.apply(locked, name, **changes)
        else:
            lifecycle.apply(locked, name, **changes)

    after = _snapshot(run_job)
    if start not in transition.sources:
        assert after == before and events.last_id() == last_event and len(sent) == sent_before
        return
    expected_status = transition.target if transition.target is not None else start
    assert after["status"] == expected_status
    for field, value in changes.items():
        stored = after[field]
        assert stored == (value.pk if hasattr(value, "pk") else value), field
    untouched = {k for k in before if k not in transition.writes}
    assert {k: after[k] for k in untouched} == {k: before[k] for k in untouched}
    new_events = list(Event.objects.filter(id__gt=last_event))
    assert len(new_events) == (1 if transition.notify else 0)
    if transition.notify:
        (event,) = new_events
        assert (event.kind, event.object_uuid, event.project_uuid, event.status) == (
            "runjob", run_job.pk, run.project_id, expected_status
        )
        assert event.data == {"workflow_run": run.pk.hex, "job_name": run_job.job_name}
    assert (len(sent) - sent_before) == (1 if "send" in transition.follows else 0)


@pytest.mark.parametrize("name", sorted(lifecycle.RUN))
@pytest.mark.parametrize("start", list(R), ids=lambda s: s.label)
def test_run_transition_from_every_state(one_job_run, name, start):
    run, run_job, user = one_job_run
    transition = lifecycle.RUN[name]
    WorkflowRun.objects.filter(pk=run.pk).update(status=start)
    changes = {field: _samples(user, run_job)[field] for field in transition.writes - {"status"}}
    before, last_event = _snapshot(run), events.last_id()

    with transaction.atomic():
        locked = WorkflowRun.objects.select_for_update().get(pk=run.pk)
        if start not in transition.sources:
            with pytest.raises(lifecycle.InvalidTransition):
                lifecycle.apply_run(locked, name, **changes)
        else:
            lifecycle.apply_run(locked, name, **changes)

    after = _snapshot(run)
    if start not in transition.sources:
        assert after == before and events.last_id() == last_event
        return
    assert after["status"] == transition.target
    untouched = {k for k in before if k not in transition.writes}
    assert {k: after[k] for k in untouched} == {k: before[k] for k in untouched}
    (event,) = Event.objects.filter(id__gt=last_event)
    assert (event.kind, event.object_uuid, event.status) == ("workflowrun", run.pk, transition.target)


def test_a_transition_cannot_write_an_undeclared_field(one_job_run):
    _, run_job, _ = one_job_run
    with transaction.atomic(), pytest.raises(AssertionError, match="does not write"):
        lifecycle.apply(RunJob.objects.select_for_update().get(pk=run_job.pk), "redispatch", error_summary="sneaky")


def test_finishing_the_last_job_finishes_the_run_and_both_are_logged_in_order(wfb, sent):
    first, second = wfb.chain(2)
    validate_workflow(wfb.workflow)
    run = create_run(wfb.workflow, {first.input_ports.get(): [wfb.upload("p")]})
    jobs = {rj.workflow_job_id: rj for rj in RunJob.objects.filter(workflow_run=run)}
    assert sent == [jobs[first.pk].pk]  # started: the first job was dispatched, the second waits for its input
    cursor = Event.objects.latest("id").id
    with transaction.atomic():
        locked = RunJob.objects.select_for_update().get(pk=jobs[first.pk].pk)
        from rodan.models import Resource

        Resource.objects.filter(outputs__run_job=locked).update(resource_file="fake/out")
        lifecycle.finish(locked)
        # The successor is dispatched in the same transaction as the finish.
        assert RunJob.objects.get(pk=jobs[second.pk].pk).status == S.PROCESSING
    assert sent == [jobs[first.pk].pk, jobs[second.pk].pk]
    with transaction.atomic():
        lifecycle.finish(RunJob.objects.select_for_update().get(pk=jobs[second.pk].pk))
    log = [(e.kind, e.object_uuid, e.status) for e in Event.objects.filter(id__gt=cursor)]
    assert log == [
        ("runjob", jobs[first.pk].pk, S.FINISHED),
        ("runjob", jobs[second.pk].pk, S.PROCESSING),
        ("runjob", jobs[second.pk].pk, S.FINISHED),
        ("workflowrun", run.pk, R.FINISHED),
    ]
    assert WorkflowRun.objects.get(pk=run.pk).status == R.FINISHED


def test_failure_fails_the_run_once(one_job_run):
    run, run_job, _ = one_job_run
    with transaction.atomic():
        lifecycle.fail(RunJob.objects.select_for_update().get(pk=run_job.pk), "it broke", "details")
    run.refresh_from_db()
    run_job.refresh_from_db()
    assert (run.status, run_job.status, run_job.error_summary, run_job.claimed_by) == (R.FAILED, S.FAILED, "it broke", "")
    assert Event.objects.filter(object_uuid=run.pk, status=R.FAILED).count() == 1


def test_deleting_a_run_cancels_its_unfinished_jobs_with_events(one_job_run):
    run, run_job, _ = one_job_run
    RunJob.objects.filter(pk=run_job.pk).update(working_user_token="held", claimed_by="h:1")
    lifecycle.stop_for_deletion(run)
    run_job.refresh_from_db()
    assert (run_job.status, run_job.claimed_by, run_job.working_user_token, run_job.dispatch_token) == (
        S.CANCELLED, "", "", ""
    )
    assert Event.objects.filter(object_uuid=run_job.pk).latest("id").status == S.CANCELLED


def test_expired_holds_are_released_and_live_ones_kept(wfb, sent):
    (job,) = wfb.chain(1)
    validate_workflow(wfb.workflow)
    run = create_run(wfb.workflow, {job.input_ports.get(): [wfb.upload("p1"), wfb.upload("p2")]})
    user = wfb.project.creator
    old, live = RunJob.objects.filter(workflow_run=run).order_by("created")
    now = timezone.now()
    RunJob.objects.filter(pk=old.pk).update(
        status=S.WAITING_FOR_INPUT, working_user=user, working_user_token="a", working_user_expiry=now - timedelta(1)
    )
    RunJob.objects.filter(pk=live.pk).update(
        status=S.WAITING_FOR_INPUT, working_user=user, working_user_token="b", working_user_expiry=now + timedelta(1)
    )
    assert lifecycle.release_expired(now) == 1
    old.refresh_from_db()
    live.refresh_from_db()
    assert (old.working_user_id, old.working_user_token, live.working_user_token) == (None, "", "b")


# -- the lifecycle is the only writer ----------------------------------------

#: Fields only the lifecycle writes (status: of RunJobs and runs).
OWNED = {
    "status", "dispatch_token", "dispatched_at", "claimed_by", "worker_host", "heartbeat_at", "started_at",
    "finished_at", "attempts", "working_user", "working_user_token", "working_user_expiry",
    "last_redone_runjob_tree",
}
WRITERS = {"update", "create", "bulk_create", "bulk_update", "get_or_create", "update_or_create"}
#: Files that write a field of that name on another model, and which model.
OTHER_MODELS = {
    "rodan/packages.py": "ResultsPackage: its own status (0 -> 1 -> 4 -> 8)",
    "rodan/api/views/runs.py": "ResultsPackage: created as Scheduled",
    "rodan/engine/events.py": "Event: the status an event reports",
    "rodan/engine/expansion.py": "WorkflowRun: created as Request processing, then started by the lifecycle",
}


def _writes_of_owned_fields(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AugAssign) else []
        for target in targets:
            if isinstance(target, ast.Attribute) and target.attr in OWNED:
                yield node.lineno, f".{target.attr} ="
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in WRITERS:
            for keyword in node.keywords:
                if keyword.arg in OWNED:
                    yield node.lineno, f"{node.func.attr}({keyword.arg}=...)"


def test_no_module_but_the_lifecycle_writes_state_fields():
    """How we know the lifecycle is the only writer: every write of those fields in the code is here."""
    offenders = []
    for path in sorted([*ROOT.joinpath("rodan").rglob("*.py"), *ROOT.joinpath("jobs").rglob("*.py")]):
        relative = path.relative_to(ROOT).as_posix()
        if relative == "rodan/engine/lifecycle.py" or "/migrations/" in relative or relative in OTHER_MODELS:
            continue
        offenders += [f"{relative}:{line}: {what}" for line, what in _writes_of_owned_fields(path)]
    assert offenders == []

