"""Helpers for the engine unit tests: workflows built directly from the models.

Tests in ``tests/unit`` use the ORM against the session database set up by
``tests/conftest.py``; no Celery worker runs. Every test makes its own project.
"""

import pytest

# Django is set up by tests/conftest.py's pytest_configure, after this module is
# imported: models are imported inside the helpers.

STEP = "Test - Text step"
JOIN = "Test - Join texts"
HELLO = "Hello World - Python3"
LABELER = "Labeler"
DISTRIBUTOR = "Resource Distributor"
GREY = "To greyscale PNG"
ONEBIT = "To one-bit PNG"


class WorkflowBuilder:
    """A workflow in a fresh project, grown job by job, port by port."""

    def __init__(self, project=None, name="unit workflow"):
        from builders import make_project

        from rodan.models import Workflow

        self.project = project or make_project()
        self.workflow = Workflow.objects.create(project=self.project, name=name)

    @staticmethod
    def job_row(job_name):
        from rodan.models import Job

        return Job.objects.get(name=job_name)

    def job(self, job_name, settings=None, inputs=None, outputs=None, **fields):
        """A WorkflowJob; ``inputs``/``outputs`` list port type names (default: each type's minimum)."""
        from rodan.models import WorkflowJob

        job = self.job_row(job_name)
        wfj = WorkflowJob.objects.create(
            workflow=self.workflow, job=job, job_settings=settings if settings is not None else {}, **fields
        )
        if inputs is None:
            inputs = [t.name for t in job.input_port_types.all() for _ in range(t.minimum)]
        if outputs is None:
            outputs = [t.name for t in job.output_port_types.all() for _ in range(t.minimum)]
        for type_name in inputs:
            self.inport(wfj, type_name)
        for type_name in outputs:
            self.outport(wfj, type_name)
        return wfj

    def inport(self, wfj, type_name=None, job_name=None, label=None):
        """An InputPort on ``wfj`` whose type is ``type_name`` of ``job_name`` (default: wfj's own job)."""
        from rodan.models import InputPort

        job = self.job_row(job_name) if job_name else wfj.job
        port_type = job.input_port_types.get(name=type_name) if type_name else job.input_port_types.get()
        return InputPort.objects.create(workflow_job=wfj, input_port_type=port_type, label=label or port_type.name)

    def outport(self, wfj, type_name=None, job_name=None, label=None):
        from rodan.models import OutputPort

        job = self.job_row(job_name) if job_name else wfj.job
        port_type = job.output_port_types.get(name=type_name) if type_name else job.output_port_types.get()
        return OutputPort.objects.create(workflow_job=wfj, output_port_type=port_type, label=label or port_type.name)

    @staticmethod
    def connect(source, target):
        """Connect ``source`` (OutputPort or WorkflowJob: its first output) to ``target`` (InputPort or WorkflowJob)."""
        from rodan.models import Connection, WorkflowJob

        if isinstance(source, WorkflowJob):
            source = source.output_ports.order_by("uuid").first()
        if isinstance(target, WorkflowJob):
            target = target.input_ports.exclude(connections__isnull=False).order_by("uuid").first()
        return Connection.objects.create(output_port=source, input_port=target)

    def chain(self, count, job_name=STEP, settings_for=None):
        """``count`` jobs in a line; returns the WorkflowJobs upstream first."""
        jobs = []
        for index in range(count):
            settings = settings_for(index) if settings_for else {"Tag": f"t{index}"}
            wfj = self.job(job_name, settings)
            if jobs:
                self.connect(jobs[-1], wfj)
            jobs.append(wfj)
        return jobs

    def upload(self, text="text", name=None, mimetype="text/plain"):
        from builders import upload

        return upload(self.project, text, name=name, mimetype=mimetype)


@pytest.fixture
def wfb():
    return WorkflowBuilder()


@pytest.fixture
def new_wfb():
    """Factory: ``new_wfb(project=None)`` makes another WorkflowBuilder (e.g. a second project)."""
    return WorkflowBuilder
