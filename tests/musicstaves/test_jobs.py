"""The MusicStaves jobs, called as the worker calls them, and one in a workflow on a real worker."""

import json
import uuid
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from builders import graph_document, make_project, run_over, upload, valid_workflow, wait_run

import musicstaves
from rodan.jobs.musicstaves import staves as jobs
from rodan import storage
from rodan.identify import identify
from rodan.imaging import load_image, save_png
from rodan.models import RunJob
from rodan.models.status import RunStatus

REMOVAL_JOBS = [
    jobs.RoachTatemRemoveStaffLines,
    jobs.LineTrackingRemoveStaffLines,
    jobs.FujinagaRemoveStaffLines,
    jobs.CarterRemoveStaffLines,
    jobs.SimpleRemoveStaffLines,
    jobs.SkeletonRemoveStaffLines,
]


@pytest.fixture
def page_file(pages, tmp_path):
    """The first test page as a one-bit PNG input entry."""
    path = tmp_path / uuid.uuid4().hex
    save_png(~pages[0].ink, str(path), "image/onebit+png")
    return {"resource_path": str(path), "resource_type": "image/onebit+png", "resource_name": "folio 1r"}


def out(tmp_path, resource_type):
    return {"resource_path": str(tmp_path / uuid.uuid4().hex), "resource_type": resource_type}


def test_miyao_declaration_is_rodans():
    job = jobs.MiyaoStaffFinder
    assert job.name == "Miyao Staff Finder" and job.settings["job_queue"] == "Python3"
    assert job.settings["title"] == "Miyao settings"
    assert job.settings["required"] == ["Number of lines", "Scan lines", "Blackness", "Tolerance"]
    defaults = {k: v["default"] for k, v in job.settings["properties"].items()}
    assert defaults == {"Number of lines": 0, "Scan lines": 20, "Blackness": 0.8, "Tolerance": -1}
    assert [(p["name"], p["minimum"], p["maximum"]) for p in job.input_port_types] == [("Greyscale or one-bit PNG image", 1, 1)]
    assert [(p["name"], p["minimum"], p["maximum"]) for p in job.output_port_types] == [
        ("PNG image (Miyao results used as mask)", 0, 2),
        ("Polygons (Miyao results)", 0, 1),
    ]


@pytest.mark.parametrize("job", REMOVAL_JOBS)
def test_removal_declarations(job):
    assert job.name.endswith(" Remove Staff Lines") and job.settings["job_queue"] == "Python3"
    jsonschema.Draft4Validator.check_schema(job.settings)
    assert job.settings["properties"] == {"Number of lines per staff": {"type": "integer", "minimum": 0, "default": 0}}
    assert job.input_port_types == [{"name": "One-bit PNG image - original", "minimum": 1, "maximum": 1, "resource_types": ["image/onebit+png"], "is_list": False}]
    assert job.output_port_types[0]["name"] == "One-bit PNG image - staff lines removed"
    assert job.output_port_types[0]["minimum"] == 1


def test_miyao_job_writes_polygons_and_mask(pages, page_file, tmp_path):
    polygons, mask = out(tmp_path, "application/gamera-polygons+txt"), out(tmp_path, "image/onebit+png")
    settings = {"Number of lines": 0, "Scan lines": 20, "Blackness": 0.8, "Tolerance": -1}
    jobs.MiyaoStaffFinder().run_my_task(
        {"Greyscale or one-bit PNG image": [page_file]},
        settings,
        {"Polygons (Miyao results)": [polygons], "PNG image (Miyao results used as mask)": [mask]},
    )
    found = json.loads(Path(polygons["resource_path"]).read_text())
    assert len(found) == pages[0].staves and all(len(point) == 2 for point in found[0])
    masked = ~load_image(mask["resource_path"])
    assert identify(mask["resource_path"]) == "image/onebit+png"
    assert not (masked & ~pages[0].ink).any() and masked[pages[0].staff_only].all()


def test_miyao_job_writes_only_present_outputs(page_file, tmp_path):
    mask = out(tmp_path, "image/greyscale+png")
    jobs.MiyaoStaffFinder().run_my_task(
        {"Greyscale or one-bit PNG image": [page_file]},
        {"Number of lines": 5, "Scan lines": 20, "Blackness": 0.8, "Tolerance": -1},
        {"PNG image (Miyao results used as mask)": [mask]},
    )
    assert identify(mask["resource_path"]) == "image/greyscale+png"
    assert len(list(tmp_path.iterdir())) == 2  # the input and the mask


@pytest.mark.parametrize("job", REMOVAL_JOBS[1:])
def test_removal_job_writes_every_output(job, pages, page_file, tmp_path):
    removed, lines, positions = out(tmp_path, "image/onebit+png"), out(tmp_path, "image/onebit+png"), out(tmp_path, "application/json")
    job().run_my_task(
        {"One-bit PNG image - original": [page_file]},
        {"Number of lines per staff": 0},
        {
            "One-bit PNG image - staff lines removed": [removed],
            "One-bit PNG image - staff lines only": [lines],
            "Staff positions (JSON)": [positions],
        },
    )
    without, only = ~load_image(removed["resource_path"]), ~load_image(lines["resource_path"])
    assert np.array_equal(without | only, pages[0].ink) and not (without & only).any()
    description = json.loads(Path(positions["resource_path"]).read_text())
    assert len(description["staves"]) == pages[0].staves
    assert len(description["staves"][0]["lines"]) == pages[0].lines_per_staff


def test_roach_tatem_job(pages, page_file, tmp_path):
    removed = out(tmp_path, "image/onebit+png")
    jobs.RoachTatemRemoveStaffLines().run_my_task(
        {"One-bit PNG image - original": [page_file]}, {}, {"One-bit PNG image - staff lines removed": [removed]}
    )
    expected = musicstaves.remove_roach_tatem(pages[0].ink).image
    assert np.array_equal(~load_image(removed["resource_path"]), expected)


@pytest.mark.engine
def test_every_staff_job_in_one_workflow_on_a_worker(start_worker, pages, tmp_path):
    """One page through the Miyao finder and every remover, all outputs connected, on a real worker."""
    source = tmp_path / "page.png"
    save_png(~pages[0].ink, str(source), "image/onebit+png")
    removal_jobs = [cls for cls in vars(jobs).values() if isinstance(cls, type) and issubclass(cls, jobs._RemoveStaffLines) and cls.name]
    nodes = {
        "miyao": (
            "Miyao Staff Finder",
            {"Number of lines": 0, "Scan lines": 20, "Blackness": 0.8, "Tolerance": -1},
            {"Greyscale or one-bit PNG image": "page"},
            ["PNG image (Miyao results used as mask)", "Polygons (Miyao results)"],
        ),
        "page": ("Resource Distributor", {}, {"Resource input": None}),
    }
    for cls in removal_jobs:
        optional = [port["name"] for port in cls.output_port_types if port["minimum"] == 0]
        nodes[cls.name] = (cls.name, {"Number of lines per staff": 0}, {jobs.ORIGINAL: "page"}, optional)
    project = make_project()
    workflow = valid_workflow(project, graph_document(nodes, name="staves"))
    start_worker()
    run = run_over(workflow, [upload(project, source, name="folio 1r", mimetype="image/onebit+png")])
    wait_run(run, {RunStatus.FINISHED, RunStatus.FAILED}, timeout=300)
    assert run.status == RunStatus.FINISHED

    def outputs(job_name):
        run_job = RunJob.objects.get(workflow_run=run, job_name=job_name)
        return {o.output_port_type_name: o.resource for o in run_job.outputs.all()}

    def array(resource):
        return load_image(storage.absolute_path(resource))


    ink = pages[0].ink
    for cls in removal_jobs:
        written = outputs(cls.name)
        expected = cls.remover(ink)
        assert np.array_equal(~array(written[jobs.REMOVED]), expected.image), cls.name
        if jobs.LINES_ONLY in written:
            assert np.array_equal(~array(written[jobs.LINES_ONLY]), ink & ~expected.image), cls.name
            positions = json.loads(Path(storage.absolute_path(written[jobs.POSITIONS])).read_text())
            assert len(positions["staves"]) == len(expected.staves) > 0
    miyao = outputs("Miyao Staff Finder")
    polygons = miyao["Polygons (Miyao results)"]
    assert polygons.resource_type.mimetype == "application/gamera-polygons+txt"
    assert Path(storage.absolute_path(polygons)).read_text().strip()
    assert array(miyao["PNG image (Miyao results used as mask)"]).shape == ink.shape
