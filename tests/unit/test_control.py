"""Cancel, retry, redo and interactive submissions as row transitions (rodan-compat.md §3), no workers."""

from datetime import timedelta

import pytest
from django.utils import timezone

from rodan.engine import control, lifecycle
from rodan.engine.lifecycle import InvalidTransition
from rodan.engine.expansion import create_run
from rodan.engine.validation import validate_workflow
from rodan.models import Output, Resource, ResourceList, ResourceListMembership, RunJob, WorkflowRun
from rodan.models.status import RunJobStatus, RunStatus

S = RunJobStatus
LABELER = "Labeler"
STEP = "Test - Text step"


@pytest.fixture
def scheduled(monkeypatch):
    """Record the runs the lifecycle asks to schedule, instead of dispatching them; the first is the run's start."""
    calls = []
    monkeypatch.setattr(lifecycle, "schedule_after_commit", lambda run_ids=None: calls.append(list(run_ids)))
    return calls


class Batch:
    """A run of a three-job chain over ``pages`` pages; ``grid[chain][step]`` is a RunJob."""

    def __init__(self, wfb, pages=2):
        self.jobs = wfb.chain(3)
        validate_workflow(wfb.workflow)
        self.pages = [wfb.upload(f"p{i}", name=f"p{i}") for i in range(pages)]
        self.run = create_run(wfb.workflow, {self.jobs[0].input_ports.get(): self.pages})
        self.user = wfb.project.creator
        self.grid = []
        for page in self.pages:  # one page is not a batch: its RunJobs have no resource_uuid
            chain = page.uuid.hex if pages > 1 else None
            keyed = {rj.workflow_job_id: rj for rj in RunJob.objects.filter(workflow_run=self.run, resource_uuid=chain)}
            self.grid.append([keyed[wfj.pk] for wfj in self.jobs])

    def set(self, run_job, status, **fields):
        RunJob.objects.filter(pk=run_job.pk).update(status=status, **fields)

    def status(self, run_job):
        return RunJob.objects.get(pk=run_job.pk).status

    def statuses(self):
        return [[self.status(rj) for rj in row] for row in self.grid]

    def set_run(self, status):
        WorkflowRun.objects.filter(pk=self.run.pk).update(status=status)

    def run_status(self):
        return WorkflowRun.objects.get(pk=self.run.pk).status

    def finish(self, run_job):
        """Pretend ``run_job`` finished: status 4 and a file behind its output."""
        self.set(run_job, S.FINISHED)
        Resource.objects.filter(outputs__run_job=run_job).update(resource_file=f"fake/{run_job.pk}")


# -- cancel ----------------------------------------------------------------


def test_cancel_moves_unfinished_run_jobs_to_cancelled(wfb, scheduled):
    batch = Batch(wfb)
    (a0, b0, c0), (a1, b1, c1) = batch.grid
    batch.set(a0, S.FINISHED)
    batch.set(b0, S.PROCESSING, dispatch_token="tok", claimed_by="host:1")
    batch.set(a1, S.WAITING_FOR_INPUT)
    batch.set(b1, S.FAILED, error_summary="boom")
    lifecycle.cancel_run(batch.run)
    assert batch.statuses() == [[S.FINISHED, S.CANCELLED, S.CANCELLED], [S.CANCELLED, S.FAILED, S.CANCELLED]]
    assert batch.run_status() == RunStatus.CANCELLED
    b0 = RunJob.objects.get(pk=b0.pk)
    assert b0.dispatch_token == "" and b0.claimed_by == ""  # a message in flight is now stale
    assert RunJob.objects.get(pk=b1.pk).error_summary == "boom"


@pytest.mark.parametrize("run_status", [RunStatus.RETRYING, RunStatus.FAILED])
def test_cancel_allowed_while_retrying_or_failed(wfb, run_status):
    batch = Batch(wfb, pages=1)
    batch.set_run(run_status)
    lifecycle.cancel_run(batch.run)
    assert batch.run_status() == RunStatus.CANCELLED
    assert {batch.status(rj) for rj in batch.grid[0]} == {S.CANCELLED}


@pytest.mark.parametrize("run_status", [RunStatus.FINISHED, RunStatus.CANCELLED, RunStatus.SCHEDULED])
def test_cancel_refused_in_other_states(wfb, run_status):
    batch = Batch(wfb, pages=1)
    batch.set_run(run_status)
    before = batch.statuses()
    with pytest.raises(InvalidTransition):
        lifecycle.cancel_run(batch.run)
    assert batch.run_status() == run_status and batch.statuses() == before


# -- retry -----------------------------------------------------------------


def test_retry_resets_failed_and_cancelled_run_jobs(wfb, scheduled):
    batch = Batch(wfb)
    (a0, b0, c0), (a1, b1, c1) = batch.grid
    batch.finish(a0)
    batch.set(b0, S.FAILED, error_summary="E", error_details="trace", job_settings={"Tag": "t1", "@state": 3})
    batch.set(c0, S.CANCELLED, dispatch_token="old", claimed_by="host:2")
    batch.finish(a1)
    RunJob.objects.filter(pk=a1.pk).update(job_settings={"Tag": "t0", "@kept": True})
    batch.finish(b1)
    batch.finish(c1)
    batch.set_run(RunStatus.FAILED)

    lifecycle.retry_run(batch.run)

    assert batch.run_status() == RunStatus.RETRYING
    assert batch.statuses() == [[S.FINISHED, S.SCHEDULED, S.SCHEDULED], [S.FINISHED] * 3]
    b0 = RunJob.objects.get(pk=b0.pk)
    assert b0.error_summary == "" and b0.error_details == "" and b0.job_settings == {"Tag": "t1"}
    c0 = RunJob.objects.get(pk=c0.pk)
    assert c0.dispatch_token == "" and c0.claimed_by == ""
    assert RunJob.objects.get(pk=a1.pk).job_settings == {"Tag": "t0", "@kept": True}  # finished: untouched
    assert scheduled[1:] == [[batch.run.pk]]


def test_retry_after_cancel_lets_the_scheduler_dispatch_ready_jobs(wfb):
    batch = Batch(wfb)
    first = [row[0] for row in batch.grid]
    old_tokens = {rj.pk: RunJob.objects.get(pk=rj.pk).dispatch_token for rj in first}
    lifecycle.cancel_run(batch.run)
    lifecycle.retry_run(batch.run)
    # the first jobs read uploaded pages: claimed again with fresh tokens; the others wait for files
    for row in batch.grid:
        head = RunJob.objects.get(pk=row[0].pk)
        assert head.status == S.PROCESSING and head.dispatch_token not in ("", old_tokens[head.pk])
        assert [batch.status(rj) for rj in row[1:]] == [S.SCHEDULED, S.SCHEDULED]


@pytest.mark.parametrize("run_status", [RunStatus.PROCESSING, RunStatus.RETRYING, RunStatus.FINISHED])
def test_retry_refused_in_other_states(wfb, run_status, scheduled):
    batch = Batch(wfb, pages=1)
    batch.set(batch.grid[0][0], S.FAILED, error_summary="E")
    batch.set_run(run_status)
    with pytest.raises(InvalidTransition):
        lifecycle.retry_run(batch.run)
    assert batch.run_status() == run_status
    assert batch.status(batch.grid[0][0]) == S.FAILED and scheduled[1:] == []


# -- downstream and redo -----------------------------------------------------


def test_downstream_run_jobs_stay_in_their_chain(wfb):
    batch = Batch(wfb)
    (a0, b0, c0), (a1, b1, c1) = batch.grid
    assert control.downstream_run_jobs(a0) == {a0.pk, b0.pk, c0.pk}
    assert control.downstream_run_jobs(b1) == {b1.pk, c1.pk}
    assert control.downstream_run_jobs(c0) == {c0.pk}


def test_downstream_of_a_shared_job_reaches_every_chain(wfb):
    single, batch_step = wfb.job(STEP), wfb.job(STEP)
    labeler = wfb.job(LABELER, {"Label": "x"}, inputs=["Resource", "Resource"])
    left, right = labeler.input_ports.order_by("uuid")
    wfb.connect(single, left)
    wfb.connect(batch_step, right)
    validate_workflow(wfb.workflow)
    run = create_run(
        wfb.workflow,
        {single.input_ports.get(): [wfb.upload()], batch_step.input_ports.get(): [wfb.upload(), wfb.upload()]},
    )
    (once,) = RunJob.objects.filter(workflow_run=run, workflow_job=single)
    labelers = set(RunJob.objects.filter(workflow_run=run, workflow_job=labeler).values_list("pk", flat=True))
    assert len(labelers) == 2
    assert control.downstream_run_jobs(once) == {once.pk} | labelers
    one_batch_job = RunJob.objects.filter(workflow_run=run, workflow_job=batch_step).first()
    downstream = control.downstream_run_jobs(one_batch_job)
    assert len(downstream) == 2 and one_batch_job.pk in downstream and len(downstream & labelers) == 1


def test_redo_resets_the_job_and_downstream_and_clears_their_files(wfb, scheduled):
    batch = Batch(wfb, pages=1)
    a, b, c = batch.grid[0]
    for rj in (a, b, c):
        batch.finish(rj)
    RunJob.objects.filter(pk=b.pk).update(job_settings={"Tag": "t1", "@state": 1}, error_summary="old")
    batch.set_run(RunStatus.FINISHED)

    control.redo_from(RunJob.objects.get(pk=b.pk))

    assert batch.statuses() == [[S.FINISHED, S.SCHEDULED, S.SCHEDULED]]
    run = WorkflowRun.objects.get(pk=batch.run.pk)
    assert run.status == RunStatus.RETRYING and run.last_redone_runjob_tree_id == b.pk
    assert RunJob.objects.get(pk=b.pk).job_settings == {"Tag": "t1"}
    assert RunJob.objects.get(pk=b.pk).error_summary == ""
    files = {rj.pk: Resource.objects.get(outputs__run_job=rj).resource_file for rj in (a, b, c)}
    assert files == {a.pk: f"fake/{a.pk}", b.pk: "", c.pk: ""}
    assert scheduled[1:] == [[batch.run.pk]]


def test_redo_leaves_scheduled_downstream_state_alone(wfb, scheduled):
    batch = Batch(wfb, pages=1)
    a, b, c = batch.grid[0]
    batch.finish(a)
    batch.set(b, S.FAILED, error_summary="E")
    batch.set(c, S.SCHEDULED, job_settings={"Tag": "t2", "@answer": 42})
    control.redo_from(RunJob.objects.get(pk=b.pk))
    assert batch.statuses() == [[S.FINISHED, S.SCHEDULED, S.SCHEDULED]]
    assert RunJob.objects.get(pk=c.pk).job_settings == {"Tag": "t2", "@answer": 42}
    assert RunJob.objects.get(pk=b.pk).error_summary == ""


def test_redo_only_touches_its_own_chain(wfb, scheduled):
    batch = Batch(wfb)
    for row in batch.grid:
        for rj in row:
            batch.finish(rj)
    (a0, b0, c0), (a1, b1, c1) = batch.grid
    control.redo_from(RunJob.objects.get(pk=a1.pk))
    assert batch.statuses() == [[S.FINISHED] * 3, [S.SCHEDULED] * 3]
    assert all(Resource.objects.get(outputs__run_job=rj).resource_file for rj in (a0, b0, c0))
    assert not any(Resource.objects.get(outputs__run_job=rj).resource_file for rj in (a1, b1, c1))


@pytest.mark.parametrize("status", [S.FINISHED, S.FAILED, S.WAITING_FOR_INPUT, S.PROCESSING])
def test_redo_allowed_from_processed_states(wfb, scheduled, status):
    batch = Batch(wfb, pages=1)
    a = batch.grid[0][0]
    batch.set(a, status, dispatch_token="tok", claimed_by="host:3")
    control.redo_from(RunJob.objects.get(pk=a.pk))
    a = RunJob.objects.get(pk=a.pk)
    assert a.status == S.SCHEDULED and a.dispatch_token == "" and a.claimed_by == ""


@pytest.mark.parametrize("status", [S.SCHEDULED, S.CANCELLED])
def test_redo_refused_before_processing(wfb, scheduled, status):
    batch = Batch(wfb, pages=1)
    b = batch.grid[0][1]
    batch.set(b, status)
    with pytest.raises(InvalidTransition, match="Requested RunJob is not yet processed."):
        control.redo_from(RunJob.objects.get(pk=b.pk))
    assert batch.run_status() == RunStatus.PROCESSING and scheduled[1:] == []


def test_redo_empties_output_resource_lists(wfb, scheduled):
    batch = Batch(wfb, pages=1)
    a, b, c = batch.grid[0]
    batch.finish(b)
    # b also produced a list (attached by hand: no registered test job has a list output)
    members = [wfb.upload("m1"), wfb.upload("m2")]
    produced = ResourceList.objects.create(name="made", project=wfb.project)
    for order, member in enumerate(members):
        ResourceListMembership.objects.create(resource_list=produced, resource=member, order=order)
    Output.objects.create(run_job=b, output_port_type_name="Extra", resource_list=produced)
    control.redo_from(RunJob.objects.get(pk=b.pk))
    assert not produced.memberships.exists()
    assert Resource.objects.filter(pk__in=[m.pk for m in members]).count() == 2  # the files stay, unlisted


# -- interactive submissions ----------------------------------------------------


def test_accept_user_input_merges_only_state_keys(wfb, scheduled):
    batch = Batch(wfb, pages=1)
    b = batch.grid[0][1]
    expiry = timezone.now() + timedelta(hours=1)
    batch.set(
        b,
        S.WAITING_FOR_INPUT,
        job_settings={"Tag": "t1", "@state": 1},
        working_user=batch.user,
        working_user_token="secret",
        working_user_expiry=expiry,
        dispatch_token="tok",
    )
    lifecycle.submit(RunJob.objects.get(pk=b.pk), {"@state": 2, "@name": "Ann", "Tag": "hijacked", "Sleep": 9})
    b = RunJob.objects.get(pk=b.pk)
    assert b.job_settings == {"Tag": "t1", "@state": 2, "@name": "Ann"}
    assert b.status == S.SCHEDULED
    assert b.working_user is None and b.working_user_token == "" and b.working_user_expiry is None
    assert b.dispatch_token == ""
    assert scheduled[1:] == [[batch.run.pk]]


@pytest.mark.parametrize("status", [S.SCHEDULED, S.PROCESSING, S.FINISHED, S.CANCELLED, S.FAILED])
def test_accept_user_input_refused_unless_waiting(wfb, scheduled, status):
    batch = Batch(wfb, pages=1)
    b = batch.grid[0][1]
    batch.set(b, status, job_settings={"Tag": "t1"})
    with pytest.raises(InvalidTransition, match="This RunJob does not accept input now"):
        lifecycle.submit(RunJob.objects.get(pk=b.pk), {"@name": "Ann"})
    b = RunJob.objects.get(pk=b.pk)
    assert b.status == status and b.job_settings == {"Tag": "t1"} and scheduled[1:] == []


def test_keep_waiting_merges_state_and_stays_waiting(wfb):
    batch = Batch(wfb, pages=1)
    b = batch.grid[0][1]
    batch.set(b, S.WAITING_FOR_INPUT, job_settings={"Tag": "t1", "@step": 1})
    lifecycle.keep_waiting(RunJob.objects.get(pk=b.pk), {"@step": 2})
    b = RunJob.objects.get(pk=b.pk)
    assert b.status == S.WAITING_FOR_INPUT and b.job_settings == {"Tag": "t1", "@step": 2}
