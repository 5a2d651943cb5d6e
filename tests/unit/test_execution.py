"""Worker-side helpers of rodan.engine.execution, without a worker: settings, claims, stale tokens."""

import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from rodan.engine import execution
from rodan.engine.execution import HOST, build_inputs, build_outputs, claim, claim_is_dead, settings_for_job, worker_identity
from rodan.engine.expansion import create_run
from rodan.engine.validation import validate_workflow
from rodan.models import Job, ResourceList, ResourceListMembership, RunJob, WorkflowRun
from rodan.models.status import RunJobStatus, RunStatus

STEP = "Test - Text step"
JOIN = "Test - Join texts"


# -- settings_for_job ----------------------------------------------------------


def step_schema():
    return Job.objects.get(name=STEP).settings


def test_enum_values_become_their_index():
    given = {"Tag": "x", "Mode": "upper", "Sleep": 0, "@state": {"k": 1}}
    arguments = settings_for_job(given, step_schema())
    assert arguments == {"Tag": "x", "Mode": 1, "Sleep": 0, "@state": {"k": 1}}
    assert given["Mode"] == "upper"  # the RunJob's settings are not modified
    assert settings_for_job({"Mode": "append"}, step_schema()) == {"Mode": 0}


def test_defaults_are_not_reapplied():
    assert settings_for_job({"Tag": "only"}, step_schema()) == {"Tag": "only"}


def test_value_outside_the_enum_is_left_alone():
    assert settings_for_job({"Mode": "lower"}, step_schema()) == {"Mode": "lower"}


def test_every_enum_property_is_converted():
    schema = {
        "type": "object",
        "properties": {
            "Compression": {"enum": ["Dense (no compression)", "RLE"], "type": "string"},
            "Size": {"enum": [8, 16, 32]},
            "Plain": {"type": "string"},
        },
    }
    arguments = settings_for_job({"Compression": "Dense (no compression)", "Size": 32, "Plain": "RLE"}, schema)
    assert arguments == {"Compression": 0, "Size": 2, "Plain": "RLE"}


@pytest.mark.parametrize("schema", [None, {}, {"type": "object"}, {"properties": None}])
def test_schema_without_properties_copies_the_settings(schema):
    given = {"Mode": "upper"}
    arguments = settings_for_job(given, schema)
    assert arguments == given and arguments is not given


# -- claim_is_dead -------------------------------------------------------------


def dead_pid():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def claimed(claimed_by, heartbeat_age=0.0):
    heartbeat = timezone.now() - timedelta(seconds=heartbeat_age) if heartbeat_age is not None else None
    return RunJob(claimed_by=claimed_by, heartbeat_at=heartbeat)


def test_unclaimed_is_dead():
    assert claim_is_dead(RunJob(claimed_by=""))


def test_live_process_on_this_host_is_alive():
    assert not claim_is_dead(claimed(f"{HOST}:{os.getppid()}"))


def test_exited_process_on_this_host_is_dead():
    assert claim_is_dead(claimed(f"{HOST}:{dead_pid()}"))


def test_this_very_process_is_dead():
    # a message redelivered to the process that claimed it: its earlier run is over
    assert claim_is_dead(claimed(worker_identity()))


def test_other_host_is_trusted_while_its_heartbeat_is_fresh():
    assert not claim_is_dead(claimed("elsewhere:123"))
    assert not claim_is_dead(claimed("elsewhere:123", heartbeat_age=None))
    assert not claim_is_dead(claimed("elsewhere:123", heartbeat_age=settings.RODAN_HEARTBEAT_TIMEOUT - 2))


def test_stale_heartbeat_is_dead_anywhere():
    late = settings.RODAN_HEARTBEAT_TIMEOUT + 1
    assert claim_is_dead(claimed("elsewhere:123", heartbeat_age=late))
    assert claim_is_dead(claimed(f"{HOST}:{os.getppid()}", heartbeat_age=late))


def test_now_argument_is_used():
    run_job = claimed("elsewhere:123")
    assert claim_is_dead(run_job, now=timezone.now() + timedelta(seconds=settings.RODAN_HEARTBEAT_TIMEOUT + 5))


# -- claim -------------------------------------------------------------------------


@pytest.fixture
def dispatched(wfb):
    """The second RunJob of a two-job run, put into Processing with a dispatch token by hand."""
    a, b = wfb.chain(2)
    validate_workflow(wfb.workflow)
    run = create_run(wfb.workflow, {a.input_ports.get(): [wfb.upload("page", name="page")]})
    run_job = RunJob.objects.get(workflow_run=run, workflow_job=b)
    token = uuid.uuid4().hex
    RunJob.objects.filter(pk=run_job.pk).update(status=RunJobStatus.PROCESSING, dispatch_token=token)
    return RunJob.objects.get(pk=run_job.pk), token


def test_claim_takes_the_run_job(dispatched):
    run_job, token = dispatched
    before = timezone.now()
    taken = claim(run_job.pk, token)
    assert taken is not None and taken.pk == run_job.pk
    row = RunJob.objects.get(pk=run_job.pk)
    assert row.claimed_by == worker_identity() == f"{HOST}:{os.getpid()}"
    assert row.worker_host == HOST and row.attempts == 1
    assert row.heartbeat_at >= before and row.started_at >= before and row.finished_at is None
    assert row.job_version == "test"  # rodan_testjobs.__version__
    assert row.status == RunJobStatus.PROCESSING and row.dispatch_token == token


def test_message_with_a_stale_token_is_dropped(dispatched):
    run_job, token = dispatched
    assert claim(run_job.pk, uuid.uuid4().hex) is None
    row = RunJob.objects.get(pk=run_job.pk)
    assert row.claimed_by == "" and row.attempts == 0


@pytest.mark.parametrize("status", [RunJobStatus.SCHEDULED, RunJobStatus.CANCELLED, RunJobStatus.FINISHED])
def test_message_for_a_run_job_no_longer_processing_is_dropped(dispatched, status):
    run_job, token = dispatched
    RunJob.objects.filter(pk=run_job.pk).update(status=status)
    assert claim(run_job.pk, token) is None
    assert RunJob.objects.get(pk=run_job.pk).attempts == 0


def test_message_for_a_missing_run_job_is_dropped():
    assert claim(uuid.uuid4(), uuid.uuid4().hex) is None


def test_cancel_makes_the_message_stale(dispatched):
    from rodan.engine.lifecycle import cancel_run

    run_job, token = dispatched
    cancel_run(run_job.workflow_run)
    assert claim(run_job.pk, token) is None


def test_duplicate_message_is_dropped_while_the_claimer_lives(dispatched):
    run_job, token = dispatched
    other = f"{HOST}:{os.getppid()}"
    RunJob.objects.filter(pk=run_job.pk).update(claimed_by=other, heartbeat_at=timezone.now(), attempts=1)
    assert claim(run_job.pk, token) is None
    row = RunJob.objects.get(pk=run_job.pk)
    assert row.claimed_by == other and row.attempts == 1


def test_redelivery_after_the_claimer_died_takes_over(dispatched):
    run_job, token = dispatched
    RunJob.objects.filter(pk=run_job.pk).update(claimed_by=f"{HOST}:{dead_pid()}", heartbeat_at=timezone.now(), attempts=1)
    assert claim(run_job.pk, token) is not None
    row = RunJob.objects.get(pk=run_job.pk)
    assert row.claimed_by == worker_identity() and row.attempts == 2


def test_too_many_deaths_fail_the_run_job_and_the_run(dispatched):
    run_job, token = dispatched
    RunJob.objects.filter(pk=run_job.pk).update(
        claimed_by=f"lost-host:{dead_pid()}",
        heartbeat_at=timezone.now() - timedelta(seconds=settings.RODAN_HEARTBEAT_TIMEOUT + 1),
        attempts=settings.RODAN_MAX_ATTEMPTS,
        worker_host="lost-host",
    )
    assert claim(run_job.pk, token) is None
    row = RunJob.objects.get(pk=run_job.pk)
    assert row.status == RunJobStatus.FAILED and row.claimed_by == "" and row.finished_at is not None
    assert f"started {settings.RODAN_MAX_ATTEMPTS} times" in row.error_summary and "lost-host" in row.error_summary
    assert row.error_details
    assert WorkflowRun.objects.get(pk=run_job.workflow_run_id).status == RunStatus.FAILED


def test_giving_up_does_not_turn_a_cancelled_run_into_a_failed_one(dispatched):
    run_job, token = dispatched
    WorkflowRun.objects.filter(pk=run_job.workflow_run_id).update(status=RunStatus.CANCELLED)
    RunJob.objects.filter(pk=run_job.pk).update(claimed_by="", attempts=settings.RODAN_MAX_ATTEMPTS)
    assert claim(run_job.pk, token) is None
    assert WorkflowRun.objects.get(pk=run_job.workflow_run_id).status == RunStatus.CANCELLED


# -- the arguments a job receives --------------------------------------------------


def test_build_inputs_and_outputs(wfb, tmp_path):
    join = wfb.job(JOIN)
    step = wfb.job(STEP, outputs=["Text output", "Text output"])
    wfb.connect(join, step)
    validate_workflow(wfb.workflow)
    members = [wfb.upload(f"m{i}", name=f"m{i}") for i in range(2)]
    texts = ResourceList.objects.create(name="texts", project=wfb.project)
    for order, member in enumerate(members):
        ResourceListMembership.objects.create(resource_list=texts, resource=member, order=order)
    run = create_run(wfb.workflow, {join.input_ports.get(): [texts]})

    join_run = RunJob.objects.get(workflow_run=run, workflow_job=join)
    inputs = build_inputs(join_run)
    assert list(inputs) == ["Texts"] and len(inputs["Texts"]) == 1
    entries = inputs["Texts"][0]  # a list port: each entry is itself a list
    assert [e["resource_name"] for e in entries] == ["m0", "m1"]
    assert {e["resource_type"] for e in entries} == {"text/plain"}
    assert [Path(e["resource_path"]).read_text() for e in entries] == ["m0", "m1"]
    assert "resource_url" not in entries[0] and "url" not in entries[0]
    interface = build_inputs(join_run, for_interface=True)["Texts"][0][0]
    assert interface["resource_url"].startswith(f"/uploads/{members[0].resource_file}?signature=")  # a signed link
    assert "/diva/measurement.json?signature=" in interface["diva_object_data"]

    step_run = RunJob.objects.get(workflow_run=run, workflow_job=step)
    outputs, targets = build_outputs(step_run, tmp_path)
    assert list(outputs) == ["Text output"] and len(outputs["Text output"]) == 2 and len(targets) == 2
    paths = [entry["resource_path"] for entry in outputs["Text output"]]
    assert len(set(paths)) == 2
    for entry in outputs["Text output"]:
        assert entry["resource_type"] == "text/plain"
        assert Path(entry["resource_path"]).parent == tmp_path and not Path(entry["resource_path"]).suffix
        assert not os.path.exists(entry["resource_path"])  # the job creates it
    assert execution._missing_outputs(targets)
    for path in paths:
        Path(path).write_text("done")
    assert execution._missing_outputs(targets) == []


def test_silence_while_the_judge_could_not_hear_is_not_the_workers():
    late = settings.RODAN_HEARTBEAT_TIMEOUT + 1
    run_job = claimed("elsewhere:123", heartbeat_age=late)
    database_back = timezone.now() - timedelta(seconds=settings.RODAN_HEARTBEAT_TIMEOUT / 2)
    assert not claim_is_dead(run_job, heard_until=database_back)  # silent only half the timeout since
    long_back = timezone.now() - timedelta(seconds=late)
    assert claim_is_dead(run_job, heard_until=long_back)  # silent the whole timeout since the database returned
