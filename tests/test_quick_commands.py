"""``rodan jobs`` and ``rodan run`` without their fixed costs: a stored job table, jobs run by the command itself."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.engine

JOB = '''
from rodan.jobs.base import RodanTask


class {cls}(RodanTask):
    name = "{name}"
    author = "test"
    description = "A job that appears and disappears."
    category = "Test"
    settings = {{"job_queue": "celery", "type": "object"}}
    input_port_types = []
    output_port_types = [{{"name": "Text output", "minimum": 1, "maximum": 1, "resource_types": ["text/plain"]}}]
'''


def _rodan(*args, **env):
    clean = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "RODAN_DATA_DIR")}
    return subprocess.run(
        [sys.executable, "-m", "rodan.cli", *args], capture_output=True, text=True, env={**clean, **env}, timeout=300
    )


@pytest.fixture
def family(tmp_path):
    """A job family ``quick`` in a folder of its own, and the environment that adds it to RODAN_JOB_PATH."""
    folder = tmp_path / "families" / "quick"
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text("")
    (folder / "first.py").write_text(JOB.format(cls="First", name="Quick - First"))
    env = {
        "RODAN_JOB_PATH": os.pathsep.join([os.environ["RODAN_JOB_PATH"], str(folder.parent)]),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    return folder, env


def test_rodan_jobs_prints_the_stored_table_until_a_family_changes(family, tmp_path):
    folder, env = family
    built = _rodan("jobs", **env)
    assert built.returncode == 0, built.stderr
    assert "Quick - First\tTest\tcelery\trodan.jobs.quick" in built.stdout.splitlines()

    # Nothing changed: the stored table is printed (a line planted in it shows it was not rebuilt).
    stored = tmp_path / "cache" / "rodan" / "jobs.json"
    table = json.loads(stored.read_text())
    table["stdout"].append("planted")
    stored.write_text(json.dumps(table))
    again = _rodan("jobs", **env)
    assert again.stdout.splitlines() == built.stdout.splitlines() + ["planted"] and again.stderr == built.stderr

    # A new module in the family: rebuilt.
    (folder / "second.py").write_text(JOB.format(cls="Second", name="Quick - Second"))
    grown = _rodan("jobs", **env)
    assert "planted" not in grown.stdout
    assert "Quick - Second\tTest\tcelery\trodan.jobs.quick" in grown.stdout.splitlines()

    # A module that no longer imports: the family is reported unavailable, the others stay.
    (folder / "second.py").write_text("import no_such_module_here\n")
    broken = _rodan("jobs", **env)
    assert "Quick - First" not in broken.stdout and "To one-bit PNG\t" in broken.stdout
    assert "unavailable: rodan.jobs.quick: ModuleNotFoundError: No module named 'no_such_module_here'" in broken.stderr

    # The same table under other settings is not the stored one.
    other = _rodan("jobs", **{**env, "RODAN_JOB_PATH": os.environ["RODAN_JOB_PATH"]})
    assert "rodan.jobs.quick" not in other.stdout + other.stderr


def _pages(folder, count):
    paths = []
    for index in range(count):
        pixels = np.full((60, 80), 230, np.uint8)
        pixels[:, :40] = 20
        path = folder / f"folio{index + 1}.png"
        Image.fromarray(pixels).save(path)
        paths.append(path)
    return paths


@pytest.mark.parametrize("pages, worker_processes", [(1, 0), (3, 1)])
def test_rodan_run_is_one_of_its_workers(tmp_path, pages, worker_processes):
    """One page runs in the command's own process; more pages add worker processes, up to --workers in all."""
    data = tmp_path / "data"
    out = tmp_path / "out"
    result = _rodan("run", "binarize", *map(str, _pages(tmp_path, pages)), "-o", str(out), "--workers", "2", "--data", str(data))
    assert result.returncode == 0, result.stderr
    assert len(list(out.rglob("*.png"))) == pages
    assert len(list((data / "logs").glob("run-worker*.log"))) == worker_processes
