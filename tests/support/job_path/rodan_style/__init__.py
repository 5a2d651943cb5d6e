"""A job package written the way Rodan's own are, to prove they run here unchanged.

It lives in a ``RODAN_JOB_PATH`` folder (the test session names
``tests/support/job_path``), imports its modules by their absolute
``rodan.jobs.rodan_style`` names through ``module_loader`` and relatively,
declares a resource type of its own in ``resource_types.yaml``, logs with
Celery's task logger, and uses Pillow, NumPy, OpenCV and lxml.
"""

__version__ = "1.0.0"

from rodan.jobs import module_loader  # noqa: E402 - Rodan's packages import after setting their version

module_loader("rodan.jobs.rodan_style.base")
