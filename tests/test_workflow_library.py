"""The workflow library (``workflows/``): every file imports, validates and runs over a page, and ``rodan run`` takes its names."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from builders import make_project, run_over, valid_workflow, wait_run
from PIL import Image, ImageDraw

from rodan import library, storage
from rodan.identify import identify
from rodan.models import InputPort
from rodan.models.status import RunStatus
from rodan.naming import file_name, step_name
from rodan.results import end_point_outputs, ready_files
from rodan.uploads import create_resource_from_path

pytestmark = pytest.mark.engine

#: What each workflow the issue asks for writes for one page: {file: type by content}.
EXPECTED = {
    "binarize": {"Sauvola Threshold - Onebit PNG image.png": "image/onebit+png"},
    "binarize-and-remove-staves": {
        "Roach-Tatem Remove Staff Lines - One-bit PNG image - staff lines removed.png": "image/onebit+png"
    },
    "binarize-remove-staves-cc-analysis": {"CC Analysis - GameraXML - Connected Components.xml": "application/gamera+xml"},
    "scan-to-png": {
        "To RGB PNG - RGB PNG image.png": "image/rgb+png",
        "To greyscale PNG - Greyscale PNG image.png": "image/greyscale+png",
        "To one-bit PNG - One-bit PNG image.png": "image/onebit+png",
    },
}


def _scan(path):
    """A small colour JPEG of two five-line staves with stemmed note heads on yellowed paper."""
    image = Image.new("RGB", (400, 300), (236, 228, 210))
    draw = ImageDraw.Draw(image)
    for top in (40, 150):
        for line in range(5):
            draw.rectangle([20, top + 12 * line, 380, top + 12 * line + 1], fill=(40, 35, 30))
        for index, x in enumerate(range(50, 370, 40)):
            y = top + 6 * (index % 8)
            draw.ellipse([x, y - 5, x + 11, y + 4], fill=(30, 25, 20))
            draw.rectangle([x + 10, y - 30, x + 11, y], fill=(30, 25, 20))
    image.save(path, quality=90)
    return path


def _rodan(*args, **env):
    """The command on the embedded defaults, as a user on a fresh machine runs it."""
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "RODAN_DATA_DIR")}
    return subprocess.run(
        [sys.executable, "-m", "rodan.cli", *args], capture_output=True, text=True, env={**clean, **env}, timeout=300
    )


def _black_pixels(path):
    with Image.open(path) as image:
        return sum(1 for value in image.convert("1").getdata() if not value)


def test_the_library_holds_the_promised_workflows():
    assert set(EXPECTED) <= set(library.names())
    assert library.FOLDER == Path(__file__).resolve().parents[1] / "workflows"


@pytest.mark.parametrize("name", library.names())
def test_a_library_workflow_imports_and_validates(name):
    doc = json.loads(library.locate(name).read_text(encoding="utf-8"))
    assert doc["__version__"] == 0.2 and library.description(name)
    workflow = valid_workflow(make_project(), doc)
    workflow.refresh_from_db()
    assert workflow.valid
    assert InputPort.objects.filter(workflow_job__workflow=workflow, extern=True).count() == 1


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_library_workflow_runs_on_a_worker_and_rodan_run_writes_the_same_files(name, tmp_path, start_worker):
    """A real worker runs it over a scan; ``rodan run <name>`` (its own process the worker) writes the same bytes."""
    page = _scan(tmp_path / "folio1.jpg")
    start_worker()
    project = make_project()
    workflow = valid_workflow(project, json.loads(library.locate(name).read_text(encoding="utf-8")))
    run = wait_run(run_over(workflow, [create_resource_from_path(project, page)]), {RunStatus.FINISHED}, timeout=120)
    on_worker = {
        file_name(resource, step_name(output.run_job.job_name, output.output_port_type_name)): Path(storage.absolute_path(resource)).read_bytes()
        for output, resource in ready_files(end_point_outputs(run).select_related("run_job"))
    }
    assert sorted(on_worker) == sorted(EXPECTED[name])

    out = tmp_path / "out"
    result = _rodan("run", name, str(page), "-o", str(out))
    assert result.returncode == 0, result.stderr
    written = {path.name: path for path in out.rglob("*") if path.is_file()}
    assert sorted(written) == sorted(EXPECTED[name])
    for file, mimetype in EXPECTED[name].items():
        assert identify(written[file]) == mimetype
        assert written[file].read_bytes() == on_worker[file], file


def test_staff_removal_keeps_the_notes_and_drops_the_lines(tmp_path):
    page = _scan(tmp_path / "folio1.jpg")
    for name in ("binarize", "binarize-and-remove-staves"):
        assert _rodan("run", name, str(page), "-o", str(tmp_path / name)).returncode == 0
    (binarized,) = (tmp_path / "binarize").glob("*.png")
    (removed,) = (tmp_path / "binarize-and-remove-staves").glob("*.png")
    with Image.open(removed) as image:
        rows = [sum(1 for x in range(image.width) if not image.getpixel((x, y))) for y in range(image.height)]
    assert max(rows) < 120  # no row holds a staff line (360 pixels long) any more
    assert 0.1 < _black_pixels(removed) / _black_pixels(binarized) < 0.7


def test_rodan_workflows_lists_names_and_descriptions():
    result = _rodan("workflows")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split("\t")[0] for line in lines] == library.names()
    assert all(len(line.split("\t")) == 2 and line.split("\t")[1] for line in lines)


def test_an_unknown_name_is_one_line_listing_the_library(tmp_path):
    page = _scan(tmp_path / "folio1.jpg")
    result = _rodan("run", "binarise", str(page), "-o", str(tmp_path / "out"))
    assert result.returncode == 1
    assert result.stderr == (
        "rodan: error: binarise: no such file, and no library workflow of that name "
        f"(the library has: {', '.join(library.names())})\n"
    )


def test_private_runs_start_from_one_migrated_database(tmp_path):
    """The first private run keeps its new database as a template; the next copies it instead of migrating."""
    page = _scan(tmp_path / "folio1.jpg")
    cache = tmp_path / "cache"
    first = _rodan("run", "binarize", str(page), "-o", str(tmp_path / "first"), XDG_CACHE_HOME=str(cache))
    assert first.returncode == 0, first.stderr
    (template,) = (cache / "rodan" / "run-databases").glob("*.sqlite3")
    made = template.stat().st_mtime_ns
    second = _rodan("run", "binarize", str(page), "-o", str(tmp_path / "second"), XDG_CACHE_HOME=str(cache))
    assert second.returncode == 0, second.stderr
    assert [p.stat().st_mtime_ns for p in (cache / "rodan" / "run-databases").glob("*.sqlite3")] == [made]
    (a,), (b,) = (tmp_path / "first").glob("*.png"), (tmp_path / "second").glob("*.png")
    assert a.read_bytes() == b.read_bytes()
