"""Job metadata at registration: queue and time limits live on the Job row, and dispatch reads them there.

The process that dispatches (web app, scheduler, a worker finishing a RunJob)
may lack a job family's code; it must still send the family's RunJobs to their
queue with their own limits, without importing any job code.
"""

import sys
import textwrap
import uuid

import pytest
from builders import make_project
from django.conf import settings

from rodan.engine import scheduler
from rodan.jobs import registry as registry_module
from rodan.jobs.base import DEFAULT_QUEUE, RodanTask
from rodan.jobs.registry import check_job_metadata, get_registry, register_jobs
from rodan.models import Job, RunJob, WorkflowRun
from rodan.models.status import RunJobStatus, RunStatus

FAMILY_JOB = '''
from rodan.jobs.base import RodanTask


class Limited(RodanTask):
    name = "{name}"
    category = "Unit"
    settings = {settings}
    {limits}
    input_port_types = [{{"name": "In", "minimum": 1, "maximum": 1, "resource_types": ["text/plain"]}}]
    output_port_types = [{{"name": "Out", "minimum": 1, "maximum": 1, "resource_types": ["text/plain"]}}]
'''


def family_source(name, queue="GPU", soft=11, hard=22):
    job_settings = {"job_queue": queue, "type": "object"} if queue else {"type": "object"}
    limits = "; ".join(f"{attribute} = {value}" for attribute, value in (("soft_time_limit", soft), ("time_limit", hard)) if value)
    return FAMILY_JOB.format(name=name, settings=repr(job_settings), limits=limits or "pass")


@pytest.fixture
def family(tmp_path, monkeypatch):
    """A throw-away job family on sys.path: ``family.write(source)``; its rows and modules go at teardown."""
    package = f"unit_limits_{uuid.uuid4().hex[:10]}"
    monkeypatch.syspath_prepend(str(tmp_path))
    written = []

    class Family:
        name = package

        def write(self, source):
            folder = tmp_path / package
            folder.mkdir(exist_ok=True)
            (folder / "__init__.py").write_text(textwrap.dedent(source))
            for module in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
                del sys.modules[module]
            import importlib

            importlib.invalidate_caches()
            get_registry.cache_clear()
            written.append(source)

    get_registry.cache_clear()
    monkeypatch.setattr(settings, "RODAN_JOB_PACKAGES", ["rodan_testjobs", package])
    yield Family()
    Job.objects.filter(package=package).delete()
    for module in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[module]
    monkeypatch.undo()
    get_registry.cache_clear()


def unique(prefix):
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def run_job_of(job, job_name=None):
    """A RunJob of ``job`` (a Job row, or None when the row is gone) in a cancelled run: nothing else picks it up."""
    run = WorkflowRun.objects.create(project=make_project(), status=RunStatus.CANCELLED)
    return RunJob.objects.create(
        workflow_run=run,
        workflow_job_uuid=uuid.uuid4().hex,
        job=job,
        job_name=job_name or job.name,
        status=RunJobStatus.PROCESSING,
        dispatch_token=uuid.uuid4().hex,
    )


@pytest.fixture
def sent(monkeypatch):
    """Messages ``scheduler.send`` publishes, captured instead of reaching the broker."""
    from rodan.celery import app

    messages = []
    monkeypatch.setattr(app, "send_task", lambda name, **options: messages.append({"task": name, **options}))
    return messages


@pytest.fixture
def no_job_code(monkeypatch):
    """The registry (and with it every job family) cannot be imported from here on."""
    monkeypatch.setitem(sys.modules, "rodan.jobs.registry", None)

    def refuse(*args, **kwargs):
        raise AssertionError("dispatch looked at the job registry")

    monkeypatch.setattr(registry_module, "get_registry", refuse)


# -- registration writes the metadata ------------------------------------------------


def test_registered_rows_carry_their_classes_queue_and_limits():
    boxed = Job.objects.get(name="Test - Time-boxed step")
    assert (boxed.job_queue, boxed.soft_time_limit, boxed.time_limit) == ("celery", 2, 30)
    hello = Job.objects.get(name="Hello World - Python3")
    assert (hello.job_queue, hello.soft_time_limit, hello.time_limit) == ("Python3", None, None)
    for name, cls in get_registry().jobs.items():
        row = Job.objects.get(name=name)
        assert (row.job_queue, row.soft_time_limit, row.time_limit) == (cls.job_queue(), cls.soft_time_limit, cls.time_limit)


def test_a_family_jobs_queue_and_limits_are_registered(family):
    name = unique("Unit - limited")
    family.write(family_source(name, queue="GPU", soft=11, hard=22))
    register_jobs()
    row = Job.objects.get(name=name)
    assert (row.job_queue, row.soft_time_limit, row.time_limit, row.package) == ("GPU", 11, 22, family.name)


def test_re_registration_updates_the_row(family):
    name = unique("Unit - changing")
    family.write(family_source(name, queue="GPU", soft=11, hard=22))
    register_jobs()
    first = Job.objects.get(name=name)

    family.write(family_source(name, queue="Python3", soft=40, hard=None))
    register_jobs()
    changed = Job.objects.get(name=name)
    assert changed.pk == first.pk
    assert (changed.job_queue, changed.soft_time_limit, changed.time_limit) == ("Python3", 40, None)

    family.write(family_source(name, queue=None, soft=None, hard=None))
    register_jobs()
    plain = Job.objects.get(name=name)
    assert (plain.job_queue, plain.soft_time_limit, plain.time_limit) == (DEFAULT_QUEUE, None, None)

    # a row from before the fields existed (or edited by hand) is put right by the next registration
    family.write(family_source(name, queue="GPU", soft=11, hard=22))
    register_jobs()
    Job.objects.filter(name=name).update(soft_time_limit=None, time_limit=None, job_queue=DEFAULT_QUEUE)
    register_jobs()
    again = Job.objects.get(name=name)
    assert (again.job_queue, again.soft_time_limit, again.time_limit) == ("GPU", 11, 22)


def test_a_family_that_stops_importing_keeps_its_rows_metadata(family):
    name = unique("Unit - elsewhere")
    family.write(family_source(name, queue="GPU", soft=11, hard=22))
    register_jobs()
    family.write("import rodan_unit_missing_heavy_dependency\n")
    registry = register_jobs()
    assert name not in registry.jobs and not registry.families[family.name].available
    row = Job.objects.get(name=name)
    assert (row.job_queue, row.soft_time_limit, row.time_limit, row.enabled) == ("GPU", 11, 22, True)


@pytest.mark.parametrize(
    "limits, message",
    [
        ({"soft_time_limit": 0}, "soft_time_limit must be a whole number"),
        ({"soft_time_limit": -5}, "soft_time_limit must be a whole number"),
        ({"time_limit": 2.5}, "time_limit must be a whole number"),
        ({"time_limit": "60"}, "time_limit must be a whole number"),
        ({"soft_time_limit": True}, "soft_time_limit must be a whole number"),
        ({"soft_time_limit": 60, "time_limit": 60}, "time_limit must be longer than soft_time_limit"),
        ({"settings": {"job_queue": "", "type": "object"}}, "job_queue must be a queue name"),
        ({"settings": {"job_queue": 7, "type": "object"}}, "job_queue must be a queue name"),
        ({"settings": {"job_queue": "q" * 51, "type": "object"}}, "job_queue must be a queue name"),
    ],
)
def test_malformed_queue_or_limits_are_refused_at_registration(limits, message):
    cls = type("Declared", (RodanTask,), {"name": "Unit - bad limits", **limits})
    with pytest.raises(ValueError, match=message):
        check_job_metadata(cls)


def test_well_formed_limits_pass():
    for limits in ({}, {"soft_time_limit": 5}, {"time_limit": 5}, {"soft_time_limit": 5, "time_limit": 6}):
        check_job_metadata(type("Declared", (RodanTask,), {"name": "Unit - fine limits", **limits}))


# -- dispatch reads the row, never the job's code ------------------------------------------

#: Messages carry their job's limits plus the time a worker may chain successors (``scheduler.CHAIN_BUDGET``).
B = scheduler.CHAIN_BUDGET


def test_dispatch_without_the_family_uses_the_rows_queue_and_limits(sent, no_job_code):
    name = unique("Unit - not here")
    row = Job.objects.create(name=name, job_queue="GPU", soft_time_limit=11, time_limit=22, package="absent_family")
    run_job = run_job_of(row)
    assert scheduler.job_time_limits(run_job) == (11, 22)
    scheduler.send(RunJob.objects.get(pk=run_job.pk))
    (message,) = sent
    assert message == {
        "task": "rodan.run_job",
        "args": [str(run_job.pk), run_job.dispatch_token],
        "queue": "GPU",
        "soft_time_limit": 11 + scheduler.CHAIN_BUDGET,  # the worker enforces 11 itself (chaining headroom)
        "time_limit": 22 + scheduler.CHAIN_BUDGET,
    }


def test_dispatch_of_a_registered_job_also_reads_only_its_row(sent, no_job_code):
    run_job = run_job_of(Job.objects.get(name="Test - Time-boxed step"))
    scheduler.send(run_job)
    assert (sent[0]["queue"], sent[0]["soft_time_limit"], sent[0]["time_limit"]) == ("celery", 2 + B, 30 + B)


@pytest.mark.parametrize(
    "soft, hard, expected",
    [
        (None, None, (100, 400)),  # the configured defaults
        (50, None, (50, 400)),  # the default hard limit
        (380, None, (380, 440)),  # ... but at least a minute past the soft one
        (None, 700, (100, 700)),
        (7, 9, (7, 9)),
    ],
)
def test_limits_the_row_leaves_open_come_from_the_dispatchers_settings(monkeypatch, sent, no_job_code, soft, hard, expected):
    monkeypatch.setattr(settings, "RODAN_SOFT_TIME_LIMIT", 100)
    monkeypatch.setattr(settings, "RODAN_TIME_LIMIT", 400)
    row = Job.objects.create(name=unique("Unit - defaults"), job_queue="Python3", soft_time_limit=soft, time_limit=hard)
    try:
        run_job = run_job_of(row)
        assert scheduler.job_time_limits(run_job) == expected
        scheduler.send(run_job)
        assert (sent[0]["queue"], sent[0]["soft_time_limit"], sent[0]["time_limit"]) == ("Python3", *(v + B for v in expected))
    finally:
        row.delete()


def test_a_run_job_whose_job_row_is_gone_goes_to_the_default_queue(monkeypatch, sent, no_job_code):
    monkeypatch.setattr(settings, "RODAN_SOFT_TIME_LIMIT", 100)
    monkeypatch.setattr(settings, "RODAN_TIME_LIMIT", 400)
    run_job = run_job_of(None, job_name="Unit - deleted job")
    scheduler.send(run_job)
    assert (sent[0]["queue"], sent[0]["soft_time_limit"], sent[0]["time_limit"]) == (DEFAULT_QUEUE, 100 + B, 400 + B)
