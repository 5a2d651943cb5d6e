"""A finishing RunJob's worker keeping a successor: claimed in the finishing transaction, never sent."""

import pytest
from django.db import transaction

from rodan.engine import lifecycle, scheduler
from rodan.engine.expansion import create_run
from rodan.engine.validation import validate_workflow
from rodan.models import Event, Resource, RunJob, WorkflowRun
from rodan.models.status import RunJobStatus as S
from rodan.models.status import RunStatus as R


@pytest.fixture
def sent(monkeypatch):
    calls = []
    monkeypatch.setattr(scheduler, "send", lambda run_job: calls.append(run_job.pk))
    return calls


@pytest.fixture
def two_job_run(wfb, sent):
    first, second = wfb.chain(2)
    validate_workflow(wfb.workflow)
    run = create_run(wfb.workflow, {first.input_ports.get(): [wfb.upload("p")]})
    jobs = {rj.workflow_job_id: rj for rj in RunJob.objects.filter(workflow_run=run)}
    return run, jobs[first.pk], jobs[second.pk]


def _finish(run_job, keeper):
    with transaction.atomic():
        locked = RunJob.objects.select_for_update().get(pk=run_job.pk)
        Resource.objects.filter(outputs__run_job=locked).update(resource_file="fake/out")
        return lifecycle.finish(locked, keeper)


def test_a_kept_successor_is_claimed_in_the_finishing_transaction_and_not_sent(two_job_run, sent):
    run, first, second = two_job_run
    offered = []
    keeper = lifecycle.Keeper("host:4242", "host", lambda rj: offered.append(rj.pk) or True)
    cursor = Event.objects.latest("id").id

    kept = _finish(first, keeper)

    assert offered == [second.pk] and kept.pk == second.pk
    second.refresh_from_db()
    assert second.status == S.PROCESSING and second.dispatch_token == kept.dispatch_token != ""
    assert (second.claimed_by, second.worker_host, second.attempts) == ("host:4242", "host", 1)
    assert second.heartbeat_at == second.started_at == second.dispatched_at  # a live claim from the start
    assert sent == [first.pk]  # only the first job's message, at run start
    log = [(e.object_uuid, e.status) for e in Event.objects.filter(id__gt=cursor)]
    assert log == [(first.pk, S.FINISHED), (second.pk, S.PROCESSING)]


def test_a_refused_successor_is_dispatched_and_sent(two_job_run, sent):
    run, first, second = two_job_run
    assert _finish(first, lifecycle.Keeper("host:4242", "host", lambda rj: False)) is None
    second.refresh_from_db()
    assert second.status == S.PROCESSING and second.claimed_by == "" and second.started_at is None
    assert sent == [first.pk, second.pk]


def test_finishing_the_last_job_keeps_nothing_and_settles_the_run(two_job_run, sent):
    run, first, second = two_job_run
    _finish(first, None)
    kept = _finish(second, lifecycle.Keeper("host:4242", "host", lambda rj: True))
    assert kept is None
    assert WorkflowRun.objects.get(pk=run.pk).status == R.FINISHED
