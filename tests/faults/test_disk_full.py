"""A full disk: uploads answer 507 with a sentence, jobs fail with one, nothing is left Processing, and the run resumes by itself once space is freed.

MEDIA_ROOT is a 2 MiB tmpfs of the test's own (mounted as root, unmounted at
teardown), filled up and freed again; real workers on either backend.
"""

import errno
import io
import os
import subprocess
import time

import pytest
from api_clients import client_for
from builders import chain_document, make_project, output_texts, run_over, step_settings, upload, valid_workflow, wait_for
from django.conf import settings

from rodan.models import Resource, RunJob
from rodan.models.status import RunJobStatus, RunStatus

pytestmark = pytest.mark.engine

DISK_FULL = "The disk is full: the job could not write its files. The run resumes by itself once space is freed."


@pytest.fixture
def small_disk(tmp_path, monkeypatch):
    """A 2 MiB tmpfs as MEDIA_ROOT, for this process and the workers it starts."""
    mount = tmp_path / "media"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)]).returncode:
        pytest.skip("mounting a tmpfs needs root")
    monkeypatch.setenv("MEDIA_ROOT", str(mount))
    monkeypatch.setattr(settings, "MEDIA_ROOT", mount)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "--lazy", str(mount)], check=True)


def fill(mount):
    """Write a file until the file system refuses more."""
    with open(mount / "filler", "wb", buffering=0) as filler:
        with pytest.raises(OSError) as refused:
            while True:
                filler.write(b"\0" * 65536)
    assert refused.value.errno == errno.ENOSPC


def post_file(project, name, content):
    handle = io.BytesIO(content)
    handle.name = name
    payload = {"project": f"http://testserver/api/project/{project.pk}/", "files": [handle]}
    return client_for(project.creator).post("/api/resources/", payload, format="multipart")


def test_an_upload_to_a_full_disk_is_a_507_with_a_sentence_and_stores_nothing(small_disk):
    project = make_project()
    fill(small_disk)
    response = post_file(project, "page.txt", b"x" * 100_000)
    assert response.status_code == 507
    assert response.json() == {
        "detail": "The server's disk is full, so nothing was stored. Try again once an administrator has freed space."
    }
    assert not Resource.objects.filter(project=project).exists()

    (small_disk / "filler").unlink()
    assert post_file(project, "page.txt", b"x" * 100_000).status_code == 201


def test_jobs_on_a_full_disk_fail_with_a_sentence_and_resume_by_themselves_once_space_is_freed(
    small_disk, start_worker, start_scheduler, tmp_path, monkeypatch
):
    monkeypatch.setenv("RODAN_RESUME_FREE_BYTES", str(1024 * 1024))  # half the 2 MiB disk
    ledger = tmp_path / "ledger"
    project = make_project()
    steps = [step_settings(tag, Ledger=str(ledger)) for tag in ("a", "b")]
    workflow = valid_workflow(project, chain_document(steps))
    pages = [upload(project, f"p{i}" * 1000, name=f"p{i}") for i in range(6)]
    fill(small_disk)
    start_worker(concurrency=2)
    start_scheduler()
    started = time.monotonic()
    run = run_over(workflow, pages)

    def settled():
        run.refresh_from_db()
        processing = RunJob.objects.filter(workflow_run=run, status=RunJobStatus.PROCESSING).exists()
        return run.status == RunStatus.FAILED and not processing

    wait_for(settled, 60, "the run to fail with nothing left Processing")
    failed_after = time.monotonic() - started
    failed = RunJob.objects.filter(workflow_run=run, status=RunJobStatus.FAILED)
    assert failed.count() == 6 and {rj.error_summary for rj in failed} == {DISK_FULL}

    time.sleep(3)  # three passes of the scheduler: no room, so the run stays as it is
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and failed.count() == 6

    (small_disk / "filler").unlink()
    freed = time.monotonic()
    wait_for(lambda: run.refresh_from_db() or run.status == RunStatus.FINISHED, 90, "the run to resume and finish")
    assert output_texts(run) == {f"p{i}": f"{'p%d' % i * 1000}+a+b" for i in range(6)}
    assert {(rj.status, rj.attempts) for rj in RunJob.objects.filter(workflow_run=run, job_settings__Tag="b")} == {
        (RunJobStatus.FINISHED, 1)
    }
    print(f"\ndisk full: 6 pages x 2 jobs; failed with the sentence in {failed_after:.1f} s, 0 left Processing; "
          f"resumed by itself and finished {time.monotonic() - freed:.1f} s after space was freed")
