"""White-Rohrer Threshold and Correct Skew in one workflow on a real worker (each backend: see conftest)."""

import numpy as np
import pytest
from builders import chain_document, make_project, run_over, upload, valid_workflow, wait_run
from gamera_pages import skewed_page

from rodan.jobs.gamera.fast import skew, white_rohrer
from rodan import storage
from rodan.imaging import load_image, save_png
from rodan.models import RunJob
from rodan.models.status import RunStatus

pytestmark = pytest.mark.engine

CHAIN = chain_document(
    [{"X lookahead": 6}, {"Maximum angle": 3.0}],
    job_name=["White-Rohrer Threshold", "Correct Skew"],
    in_port=["Greyscale PNG image", "PNG image"],
    out_port=["Onebit PNG image", "PNG image"],
)


def test_binarize_and_deskew_on_a_worker(start_worker, tmp_path):
    grey = skewed_page(8, 240, 180, 1.4)
    source = tmp_path / "page.png"
    save_png(grey, str(source), "image/greyscale+png")
    project = make_project()
    workflow = valid_workflow(project, CHAIN)
    start_worker()
    run = run_over(workflow, [upload(project, source, name="page", mimetype="image/greyscale+png")])
    wait_run(run, {RunStatus.FINISHED, RunStatus.FAILED})
    assert run.status == RunStatus.FINISHED

    (run_job,) = RunJob.objects.filter(workflow_run=run, job_name="Correct Skew")
    (output,) = run_job.outputs.all()
    expected, angle, _ = skew.correct_skew(white_rohrer.white_rohrer_threshold(grey, 6), -2.5, 3.0)
    assert angle != 0.0
    assert np.array_equal(load_image(storage.absolute_path(output.resource)), expected)
