"""The base class of every job, with Rodan's job contract (rodan-compat.md §4).

A job is a class whose metadata is plain data (name, category, settings
schema, ports) and whose work is ``run_my_task(inputs, settings, outputs)``.
Jobs written for Rodan import ``RodanTask`` from this module and run
unchanged. Nothing here touches the database: registration is a separate,
explicit step (``rodan.jobs.registry``).
"""

import contextlib
import shutil
import tempfile
import traceback as traceback_module

#: The Celery queue of a job that names none (Rodan's default), and of the worker image by default.
DEFAULT_QUEUE = "celery"


class WAITING_FOR_INPUT:  # noqa: N801 - the name is Rodan's public API
    """Returned by an interactive job to free the worker until a user submits.

    Only the ``@``-prefixed keys of ``settings_update`` are kept: they are the
    job's own state, merged into the RunJob's settings. ``response`` is the raw
    body sent back when a submission is answered this way.
    """

    def __init__(self, settings_update=None, response=None):
        self.settings_update = {
            key: value for key, value in (settings_update or {}).items() if key.startswith("@")
        }
        self.response = response

    def __repr__(self):
        return f"WAITING_FOR_INPUT({self.settings_update!r})"


class ManualPhaseException(Exception):
    """Raised by ``validate_my_user_input`` to reject a submission (HTTP 400)."""


class JobCancelled(BaseException):
    """Raised inside a running job when its RunJob was cancelled or taken away.

    A BaseException so that a job's own ``except Exception`` does not swallow it.
    """


class RodanTask:
    """Base class of jobs. Subclasses set the metadata and ``run_my_task``."""

    name = None
    author = ""
    description = ""
    category = ""
    enabled = True
    interactive = False
    settings = {"job_queue": DEFAULT_QUEUE, "type": "object"}
    input_port_types = []
    output_port_types = []
    # Rodan jobs write ``return self.WAITING_FOR_INPUT(...)``.
    WAITING_FOR_INPUT = WAITING_FOR_INPUT
    # Our extensions: per-job time limits in seconds (None: the configured default,
    # RODAN_SOFT_TIME_LIMIT / RODAN_TIME_LIMIT). Registration copies them to the Job
    # row, which is what dispatching reads: the dispatcher never imports job code.
    soft_time_limit = None
    time_limit = None

    def __init__(self):
        self.error_details = ""
        self.url = None

    # -- metadata -----------------------------------------------------------
    @classmethod
    def job_queue(cls):
        """The Celery queue the job runs on (``DEFAULT_QUEUE``, "celery", when undeclared)."""
        return (cls.settings or {}).get("job_queue", DEFAULT_QUEUE)

    @classmethod
    def package_name(cls):
        """The job package (``rodan.jobs.gamera``, ``rodan_testjobs.steps``, ...) the job belongs to."""
        parts = cls.__module__.split(".")
        if parts[:2] == ["rodan", "jobs"] and len(parts) > 2:
            return ".".join(parts[:3])
        return ".".join(parts[:2]) if len(parts) > 1 else parts[0]

    # -- the contract -------------------------------------------------------
    def run_my_task(self, inputs, settings, outputs):
        raise NotImplementedError(f"{type(self).__name__} does not implement run_my_task")

    def get_my_interface(self, inputs, settings):
        raise NotImplementedError(f"{type(self).__name__} has no interactive interface")

    def validate_my_user_input(self, inputs, settings, user_input):
        raise NotImplementedError(f"{type(self).__name__} does not accept user input")

    def my_error_information(self, exc, traceback_text):
        return {"error_summary": f"{type(exc).__name__}: {exc}", "error_details": traceback_text}

    def test_my_task(self, testcase):
        """Rodan's self-test hook; jobs override it to exercise ``run_my_task``."""

    @contextlib.contextmanager
    def tempdir(self):
        """A scratch directory removed when the block ends."""
        path = tempfile.mkdtemp(prefix="rodan-job-")
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)


def error_information(job, exc):
    """The error fields of a failed job: the job's own account, traceback appended.

    Falls back to ``"<Type>: <msg>"`` when the job's ``my_error_information``
    is missing or itself fails, as Rodan does.
    """
    trace = "".join(traceback_module.format_exception(exc))
    try:
        info = job.my_error_information(exc, trace) or {}
        summary = str(info.get("error_summary") or f"{type(exc).__name__}: {exc}")
        details = str(info.get("error_details") or "")
    except Exception:  # the job's error hook is itself broken
        summary, details = f"{type(exc).__name__}: {exc}", ""
    if trace not in details:
        details = f"{details}\n{trace}".strip()
    return summary, details
