"""Every image job of the Gamera and Δoxa families in one workflow, on real workers.

One RGB page goes through all of them (conversions, every binarization and
threshold, morphology, masking, skew correction, CC analysis and the
classifier) twice: on a
worker with the default fast engine, then on a worker with
``RODAN_GAMERA_ENGINE=gamera``. Every output must have the resource type its
port promises, and the two runs must give the same pixels and the same XML.
"""

import re

import numpy as np
import pytest
from builders import graph_document, make_project, upload, valid_workflow, wait_run
from gamera_pages import pages

from rodan.jobs.gamera import engine
from rodan import storage
from rodan.engine.expansion import create_run
from rodan.identify import identify
from rodan.imaging import load_image, save_png
from rodan.jobs.registry import get_registry
from rodan.models import InputPort, RunJob
from rodan.models.status import RunStatus

pytestmark = pytest.mark.engine

GREY = "Greyscale PNG image"
ONEBIT = "Onebit PNG image"
GAMERA_BINARIZATIONS = {
    "sauvola": ("Sauvola Threshold", {"Region size": 9}),
    "niblack": ("Niblack Threshold", {"Region size": 9}),
    "brink": ("Brink Threshold", {}),
    "otsu": ("Otsu Threshold", {}),
    "tsai": ("Tsai Moment Preserving Threshold", {}),
    "abutaleb": ("Abutaleb locally-adaptive threshold", {}),
    "bernsen": ("Bernsen threshold", {"Region size": 7}),
    "white_rohrer": ("White-Rohrer Threshold", {}),
}
DOXA = [
    "Sauvola Threshold (textbook, Doxa)", "Wolf Threshold (Doxa)", "NICK Threshold (Doxa)", "Su Threshold (Doxa)",
    "ISauvola Threshold (Doxa)", "T.R. Singh Threshold (Doxa)", "WAN Threshold (Doxa)",
]  # fmt: skip


def catalogue_nodes():
    """The workflow's jobs: key → (job name, settings, {input port: feeding key or None})."""
    nodes = {
        "rgb": ("Convert to RGB PNG", {}, {"PNG image": None}),
        "grey": ("Convert to greyscale PNG", {}, {"PNG image": "rgb"}),
        "grey16": ("Convert to greyscale 16 PNG", {}, {"PNG image": "rgb"}),
        "onebit": ("Convert to one-bit (black and white) PNG", {}, {"PNG image": "rgb"}),
        "invert": ("Invert", {}, {"PNG image": "grey"}),
        "djvu": ("DjVu threshold", {}, {"RGB PNG image": "rgb"}),
    }
    for key, (name, settings) in GAMERA_BINARIZATIONS.items():
        nodes[key] = (name, settings, {GREY: "grey"})
    for index, name in enumerate(DOXA):
        nodes[f"doxa{index}"] = (name, {"Window": 9}, {GREY: "grey"})
    preliminary = "Onebit PNG - preliminary binarization of the image"
    source = "Greyscale PNG - source image to binarize"
    nodes.update(
        {
            "gatos_background": ("Gatos Background", {"Region size": 9}, {preliminary: "otsu", source: "grey"}),
            "gatos": (
                "Gatos Threshold",
                {},
                {preliminary: "otsu", "Greyscale PNG - estimated background of the image": "gatos_background", source: "grey"},
            ),
            "despeckle": ("Despeckle", {"Connected component size": 3}, {ONEBIT: "sauvola"}),
            "dilate": ("Dilate", {}, {ONEBIT: "niblack"}),
            "and": ("Mask (logical 'and')", {}, {"Source image": "despeckle", "Mask image": "gatos"}),
            "xor": ("Mask (logical 'xor')", {}, {"Source image": "dilate", "Mask image": "onebit"}),
            "cc": ("CC Analysis", {}, {"1-Bit PNG Image": "bernsen"}),
            "skew": ("Correct Skew", {}, {"PNG image": "white_rohrer"}, ["Skew angle (JSON)"]),
            "skew_grey": ("Correct Skew", {"Maximum angle": 1.0}, {"PNG image": "grey"}),
            "classifier": (
                "Non-Interactive Classifier",
                {"Bounding box size": 4},
                {"GameraXML - Connected Components": "cc", "GameraXML - Training Data": None},
            ),
        }
    )
    return nodes


def _rgb_page():
    grey = pages()[-1][1]
    return np.dstack([grey, np.clip(grey.astype(int) + 12, 0, 255), np.clip(grey.astype(int) - 9, 0, 255)]).astype(np.uint8)


def _training_data(tmp_path):
    """Training glyphs: the CC analysis of a small page, every glyph named "neume"."""
    job = get_registry().jobs["CC Analysis"]()
    ink = np.ones((40, 60), bool)
    ink[5:12, 5:15] = ink[20:30, 30:34] = ink[33:36, 40:58] = False
    save_png(ink, str(tmp_path / "train.png"), "image/onebit+png")
    xml = tmp_path / "train.xml"
    job.run_my_task(
        {"1-Bit PNG Image": [{"resource_path": str(tmp_path / "train.png"), "resource_type": "image/onebit+png"}]},
        {},
        {"GameraXML - Connected Components": [{"resource_path": str(xml), "resource_type": "application/gamera+xml"}]},
    )
    named = '<ids state="MANUAL">\n        <id name="neume" confidence="1.000000"/>'
    xml.write_text(xml.read_text().replace('<ids state="UNCLASSIFIED">', named))
    return xml


def _classified_glyphs(xml):
    """The glyphs and class names of a classifier's XML, without confidences and features.

    Gamera's kNN classifier is not deterministic in those: run twice on the
    same files in fresh processes, grouped glyphs get slightly different
    feature values and confidences (seen with Gamera 4.1.0, whatever
    PYTHONHASHSEED), while the glyphs and their classes stay the same.
    """
    return [re.sub(r' confidence="[^"]*"', "", line) for line in xml.splitlines() if "<glyph " in line or "<id " in line]


def _run_everything(workflow, page, training):
    ports = {p.input_port_type.name: p for p in InputPort.objects.filter(workflow_job__workflow=workflow, extern=True)}
    assert set(ports) == {"PNG image", "GameraXML - Training Data"}
    run = create_run(workflow, {ports["PNG image"]: [page], ports["GameraXML - Training Data"]: [training]})
    wait_run(run, {RunStatus.FINISHED, RunStatus.FAILED}, timeout=600)
    failures = [(rj.job_name, rj.error_summary) for rj in RunJob.objects.filter(workflow_run=run) if rj.error_summary]
    assert run.status == RunStatus.FINISHED, failures
    results = {}
    for run_job in RunJob.objects.filter(workflow_run=run).prefetch_related("outputs__resource__resource_type"):
        for output in run_job.outputs.all():
            path = storage.absolute_path(output.resource)
            declared = output.resource.resource_type.mimetype
            assert identify(path) == declared, (run_job.job_name, output.output_port_type_name)
            key = (run_job.job_name, run_job.workflow_job_id, output.output_port_type_name)
            if declared.startswith("image/"):
                results[key] = load_image(path)
            elif run_job.job_name == "Non-Interactive Classifier":
                results[key] = _classified_glyphs(open(path).read())
            else:
                results[key] = open(path).read()
    return results


def test_every_job_runs_in_one_workflow_with_the_same_results_on_both_engines(start_worker, tmp_path, monkeypatch):
    nodes = catalogue_nodes()
    project = make_project()
    workflow = valid_workflow(project, graph_document(nodes, name="Gamera catalogue"))
    page_path = tmp_path / "page.png"
    save_png(_rgb_page(), str(page_path), "image/rgb+png")
    page = upload(project, page_path, name="page", mimetype="image/rgb+png")
    training = upload(project, _training_data(tmp_path), name="training", mimetype="application/gamera+xml")

    monkeypatch.setenv(engine.ENGINE_ENV, "fast")
    fast_worker = start_worker()
    fast = _run_everything(workflow, page, training)
    # To the main process only, as `docker stop` does: a SIGTERM that also reaches the pool
    # child can kill it holding billiard's queue lock, and the main process then never exits.
    fast_worker.terminate()
    fast_worker.wait(timeout=60)

    monkeypatch.setenv(engine.ENGINE_ENV, "gamera")
    start_worker()
    gamera = _run_everything(workflow, page, training)

    assert {name for name, _, _ in fast} == {node[0] for node in nodes.values()}
    assert fast.keys() == gamera.keys()
    different = [key for key in fast if not np.array_equal(fast[key], gamera[key])]
    assert different == []
