"""Results packages (§2.10): a run's outputs zipped as a BagIt bag under MEDIA_ROOT.

Mode 0 holds the run's end-point outputs (``rodan.results``) as
``data/<job> - <port>/<resource name>.<ext>``; mode 1 holds every output, one
folder per resource, as ``data/<resource name>/<job> - <port>.<ext>`` (entry
names from ``rodan.naming``); mode 2 is not implemented (as in Rodan) and
fails the package. The zip is written beside its final name and renamed into
place; the scheduler's periodic pass deletes it at its expiry time.
"""

import hashlib
import os
import tempfile
import zipfile
from pathlib import Path

from django.db import transaction

from rodan import storage
from rodan.engine import events
from rodan.models import Output, ResultsPackage
from rodan.models.status import RunJobStatus
from rodan.naming import entry_name, file_name, step_name, unique_name
from rodan.results import end_point_outputs, ready_files

BAGIT = "BagIt-Version: 0.97\nTag-File-Character-Encoding: UTF-8\n"


def package_relative_path(package):
    return f"results_packages/{package.uuid.hex}.zip"


def package_path(package):
    return storage.media_root() / package_relative_path(package)


def _entries(package):
    """(archive path, absolute file path) of every file the package holds."""
    run = package.workflow_run
    if package.packaging_mode == 0:
        outputs = end_point_outputs(run)
    else:
        outputs = Output.objects.filter(run_job__workflow_run=run)
    outputs = outputs.select_related("run_job", "resource__resource_type", "resource_list")
    entries, taken = [], set()
    for output, resource in ready_files(outputs):
        step = step_name(output.run_job.job_name, output.output_port_type_name)
        if package.packaging_mode == 0:
            name = entry_name("data", step, file_name(resource))
        else:
            name = entry_name("data", resource.name, file_name(resource, step))
        entries.append((unique_name(name, taken), storage.absolute_path(resource)))
    return entries


def _md5(path):
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_package(package):
    """Write ``package``'s zip and mark it finished, or failed with the reason."""
    _set_status(package, RunJobStatus.PROCESSING, 0)
    if package.packaging_mode not in (0, 1):
        _finish(package, RunJobStatus.FAILED, "Packaging mode 2 is not implemented.")
        return
    entries = _entries(package)
    target = package_path(package)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_path = tempfile.mkstemp(dir=target.parent, suffix=".partial")
    os.close(handle)
    try:
        with zipfile.ZipFile(temp_path, "w", zipfile.ZIP_DEFLATED) as bag:
            bag.writestr("bagit.txt", BAGIT)
            for name, path in entries:
                bag.write(path, name)
            bag.writestr("manifest-md5.txt", "".join(f"{_md5(path)}  {name}\n" for name, path in entries))
        os.replace(temp_path, target)
    except BaseException:
        Path(temp_path).unlink(missing_ok=True)
        raise
    _finish(package, RunJobStatus.FINISHED)


def expire_packages(now):
    """Delete the zips of finished packages past their expiry time and mark them Expired (8)."""
    overdue = ResultsPackage.objects.filter(status=RunJobStatus.FINISHED, expiry_time__lt=now)
    expired = 0
    for package in overdue.select_related("workflow_run"):
        package_path(package).unlink(missing_ok=True)
        expired += _set_status(package, RunJobStatus.EXPIRED, package.percent_completed)
    return expired


def _finish(package, status, error=""):
    _set_status(package, status, 100 if status == RunJobStatus.FINISHED else 0, error)
    package.refresh_from_db()


def _set_status(package, status, percent_completed, error=""):
    """Write a package's status and append its event in one transaction; 1 if the row was there."""
    with transaction.atomic():
        changed = ResultsPackage.objects.filter(pk=package.pk).update(
            status=status, percent_completed=percent_completed, error_summary=error
        )
        if changed:
            events.record_package(package, status, percent_completed, error)
    return changed
