"""Gamera jobs in a workflow on real workers (each backend: see conftest)."""

from pathlib import Path

import numpy as np
import pytest
from builders import chain_document, make_project, run_over, upload, valid_workflow, wait_run
from gamera_pages import pages

from rodan.jobs.gamera import fast
from rodan import storage
from rodan.imaging import load_image, save_png
from rodan.models import RunJob
from rodan.models.status import RunStatus

pytestmark = pytest.mark.engine

CHAIN = chain_document(
    [{"Region size": 9}, {"Connected component size": 3}, {}],
    job_name=["Sauvola Threshold", "Despeckle", "CC Analysis"],
    in_port=["Greyscale PNG image", "Onebit PNG image", "1-Bit PNG Image"],
    out_port=["Onebit PNG image", "Onebit PNG despeckled image", "GameraXML - Connected Components"],
)


def _outputs(run, job_name):
    (run_job,) = RunJob.objects.filter(workflow_run=run, job_name=job_name)
    return [storage.absolute_path(output.resource) for output in run_job.outputs.all()]


def test_binarize_despeckle_and_cc_analysis_on_workers(start_worker, tmp_path):
    grey = pages()[-1][1]
    source = tmp_path / "page.png"
    save_png(grey, str(source), "image/greyscale+png")
    project = make_project()
    workflow = valid_workflow(project, CHAIN)
    start_worker()
    run = run_over(workflow, [upload(project, source, name="page", mimetype="image/greyscale+png")])
    wait_run(run, {RunStatus.FINISHED, RunStatus.FAILED})
    assert run.status == RunStatus.FINISHED

    (despeckled,) = _outputs(run, "Despeckle")
    expected = fast.despeckle(fast.sauvola_threshold(grey, 9), 3)
    assert np.array_equal(load_image(despeckled), expected)
    (xml,) = _outputs(run, "CC Analysis")
    text = Path(xml).read_text()
    assert text.startswith("<?xml") and text.count("<glyph ") > 10


def test_wrong_pixel_type_fails_the_run_with_a_clear_error(start_worker, tmp_path):
    source = tmp_path / "colour.png"
    save_png(np.zeros((20, 20, 3), np.uint8), str(source), "image/rgb+png")
    project = make_project()
    workflow = valid_workflow(project, CHAIN)
    start_worker()
    # Claimed greyscale on upload, but the pixels are RGB.
    run = run_over(workflow, [upload(project, source, name="colour", mimetype="image/greyscale+png")])
    wait_run(run, {RunStatus.FAILED})
    (failed,) = RunJob.objects.filter(workflow_run=run, job_name="Sauvola Threshold")
    assert "expected an 8-bit greyscale image, got an RGB colour image" in failed.error_summary
