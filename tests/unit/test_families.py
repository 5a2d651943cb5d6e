"""Job families as ``rodan.jobs.<family>``: RODAN_JOB_PATH folders, entry points, Rodan's conventions, bad input."""

import ast
import importlib
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

import rodan.jobs
from rodan.jobs import module_loader
from rodan.jobs.registry import get_registry, register_jobs
from rodan.models import InputPortType, Job, OutputPortType, ResourceType

ROOT = Path(__file__).resolve().parents[2]

RODAN_STYLE_INIT = '''
__version__ = "2.0"
from rodan.jobs import module_loader
module_loader("rodan.jobs.{family}.base")
'''

RODAN_STYLE_BASE = '''
import rodan
from celery.utils.log import get_task_logger
from rodan.jobs.base import RodanTask
from rodan.jobs.{family}.helpers import KIND
from .helpers import CHOICES

logger = get_task_logger(__name__)


class Declared(RodanTask):
    name = "{job}"
    author = "unit"
    description = "A job declared as Rodan's packages declare theirs."
    enabled = True
    category = "Unit"
    interactive = False
    settings = {{
        "title": "Settings",
        "type": "object",
        "job_queue": "Python3",
        "properties": {{"Choice": {{"enum": CHOICES, "type": "string", "default": CHOICES[0]}}}},
    }}
    input_port_types = (
        {{"name": "Any image", "minimum": 1, "maximum": 1, "resource_types": lambda mime: mime.startswith("image/")}},
    )
    output_port_types = [
        {{"name": "Own", "minimum": 1, "maximum": 1, "resource_types": [KIND]}},
    ]
'''

RODAN_STYLE_HELPERS = '''
KIND = "application/x-{family}+json"
CHOICES = ["first", "second"]
'''

RODAN_STYLE_TYPES = '''
- mimetype: image/onebit+png
  description: Another description of a built-in type, which is ignored
  extension: png
- mimetype: application/x-{family}+json
  description: The {family} document
  extension: fam
'''


def unique(prefix):
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


class JobPath:
    """A throw-away RODAN_JOB_PATH folder of families; registry, modules, rows and types forgotten at teardown."""

    def __init__(self, root):
        self.root = root
        self.families, self.jobs = [], []

    def family(self, files, name=None):
        name = name or unique("fam")
        for relative, text in files.items():
            path = self.root / name / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        self.families.append(name)
        importlib.invalidate_caches()
        get_registry.cache_clear()
        return name

    def rodan_style(self, types=RODAN_STYLE_TYPES):
        name = unique("style")
        job = f"Unit - {name}"
        self.jobs.append(job)
        files = {
            "__init__.py": RODAN_STYLE_INIT.format(family=name),
            "base.py": RODAN_STYLE_BASE.format(family=name, job=job),
            "helpers.py": RODAN_STYLE_HELPERS.format(family=name),
        }
        if types is not None:
            files["resource_types.yaml"] = types.format(family=name)
        return self.family(files, name), job

    def forget(self):
        for module in list(sys.modules):
            if any(module == f"rodan.jobs.{n}" or module.startswith(f"rodan.jobs.{n}.") for n in self.families):
                del sys.modules[module]
        Job.objects.filter(name__in=self.jobs).delete()
        ResourceType.objects.filter(mimetype__in=[f"application/x-{n}+json" for n in self.families]).delete()


@pytest.fixture
def job_path(tmp_path, monkeypatch):
    made = JobPath(tmp_path)
    monkeypatch.setattr(settings, "RODAN_JOB_PATH", [*settings.RODAN_JOB_PATH, str(tmp_path)])
    get_registry.cache_clear()
    yield made
    made.forget()
    monkeypatch.undo()
    get_registry.cache_clear()
    get_registry()  # puts rodan.jobs' search path back as the settings say


# -- the namespace ------------------------------------------------------------------


def test_house_families_are_rodan_jobs_packages():
    from rodan.jobs.utilities import conversions

    assert conversions.__name__ == "rodan.jobs.utilities.conversions"
    assert Path(conversions.__file__).parent == ROOT / "jobs" / "utilities"
    registry = get_registry()
    assert {"rodan.jobs.gamera", "rodan.jobs.utilities", "rodan.jobs.rodan_style"} <= set(registry.families)
    assert Job.objects.get(name="Labeler").package == "rodan.jobs.utilities"


def test_nothing_imports_a_top_level_jobs_package():
    offenders = []
    for folder in ("rodan", "jobs", "tests", "bench"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
                if isinstance(node, ast.ImportFrom) and node.level == 0:
                    names = [node.module or ""]
                if any(name == "jobs" or name.startswith("jobs.") for name in names):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
    assert not (ROOT / "jobs" / "__init__.py").exists()


def test_module_loader_hands_the_module_to_its_callback():
    seen = []
    module = module_loader("rodan.jobs.rodan_style.drawing", seen.append)
    assert seen == [module] and module.__name__ == "rodan.jobs.rodan_style.drawing"


# -- a Rodan package in a RODAN_JOB_PATH folder ---------------------------------------


def test_a_rodan_style_package_loads_and_registers(job_path):
    family, job = job_path.rodan_style()
    registry = register_jobs()
    loaded = registry.families[f"rodan.jobs.{family}"]
    assert loaded.available and loaded.version == "2.0" and list(loaded.jobs) == [job]
    assert registry.jobs[job].__module__ == f"rodan.jobs.{family}.base"

    own = ResourceType.objects.get(mimetype=f"application/x-{family}+json")
    assert (own.description, own.extension) == (f"The {family} document", "fam")
    onebit = ResourceType.objects.get(mimetype="image/onebit+png")
    assert onebit.description == "One-bit (black and white) PNG image"  # a built-in keeps its own description

    row = Job.objects.get(name=job)
    assert (row.package, row.version, row.job_queue) == (f"rodan.jobs.{family}", "2.0", "Python3")
    assert row.settings["properties"]["Choice"]["enum"] == ["first", "second"]
    accepted = set(InputPortType.objects.get(job=row).resource_types.values_list("mimetype", flat=True))
    assert "image/tiff" in accepted and "application/zip" not in accepted
    produced = OutputPortType.objects.get(job=row).resource_types.values_list("mimetype", flat=True)
    assert list(produced) == [f"application/x-{family}+json"]


def test_the_predicate_of_a_later_family_sees_earlier_families_types(job_path):
    family, _ = job_path.rodan_style()
    registry = get_registry()
    assert f"application/x-{family}+json" in registry.resource_types
    assert list(registry.resource_types)[-1] == f"application/x-{family}+json"


# -- bad input: reported with the reason, the others keep working, nothing half-registered --


def assert_reported(family_key, reason):
    health = Client().get("/api/ht/").json()
    assert reason in health["unavailable_job_families"][family_key]
    assert health["jobs"] > 0
    registry = get_registry()
    assert registry.families["rodan.jobs.utilities"].available and "Labeler" in registry.jobs
    assert registry.families["rodan.jobs.rodan_style"].available


def test_a_package_that_fails_to_import_is_reported_and_registers_nothing(job_path):
    family, job = job_path.rodan_style()
    (job_path.root / family / "helpers.py").write_text("import rodan_unit_missing_library\n")
    registry = register_jobs()
    key = f"rodan.jobs.{family}"
    assert registry.families[key].error == "ModuleNotFoundError: No module named 'rodan_unit_missing_library'"
    assert_reported(key, "rodan_unit_missing_library")
    assert job not in registry.jobs and not Job.objects.filter(name=job).exists()
    assert not ResourceType.objects.filter(mimetype=f"application/x-{family}+json").exists()


@pytest.mark.parametrize(
    "types, reason",
    [
        ("- mimetype: [unclosed\n", "resource_types.yaml cannot be read"),
        ("mimetype: text/x-single\n", "must be a list"),
        ("- description: no mimetype\n", "entry 1 needs a mimetype"),
        ("- mimetype: application/x-{family}+json\n- mimetype: plain\n", "entry 2 needs a mimetype"),
        ("- mimetype: application/x-{family}+json\n  extension: '" + "x" * 51 + "'\n", "extension up to 50"),
        ("- mimetype: application/x-{family}+json\n  description: [not, text]\n", "description must be text"),
    ],
)
def test_a_malformed_resource_types_yaml_keeps_the_family_out(job_path, types, reason):
    family, job = job_path.rodan_style(types=types)
    registry = register_jobs()
    key = f"rodan.jobs.{family}"
    assert registry.families[key].error.startswith("ValueError: resource_types.yaml")
    assert_reported(key, reason)
    assert job not in registry.jobs and not Job.objects.filter(name=job).exists()
    assert not ResourceType.objects.filter(mimetype=f"application/x-{family}+json").exists()


def test_a_port_naming_an_undeclared_type_rejects_the_job(job_path):
    family, job = job_path.rodan_style(types=None)
    registry = register_jobs()
    assert registry.families[f"rodan.jobs.{family}"].available
    assert f"unregistered resource types: application/x-{family}+json" in registry.rejected[job]
    assert not Job.objects.filter(name=job).exists()


def test_a_job_name_clash_is_reported_and_the_first_keeps_it(job_path):
    family = job_path.family(
        {
            "__init__.py": "from . import steps\n",
            "steps.py": """
            from rodan.jobs.base import RodanTask


            class Impostor(RodanTask):
                name = "Labeler"
                input_port_types = ()
                output_port_types = ()
            """,
        }
    )
    registry = register_jobs()
    assert registry.jobs["Labeler"].__module__ == "rodan.jobs.utilities.distribution"
    reason = registry.rejected["Labeler"]
    assert reason == f"rodan.jobs.{family}.steps.Impostor: the name is already taken by rodan.jobs.utilities.distribution"
    assert Client().get("/api/ht/").json()["rejected_jobs"]["Labeler"] == reason
    assert Job.objects.get(name="Labeler").package == "rodan.jobs.utilities"


def test_folders_that_cannot_be_families_are_reported(job_path, tmp_path, monkeypatch):
    for name in ("gamera", "registry"):
        job_path.family({"__init__.py": "raise RuntimeError('never imported')\n"}, name=name)
    missing = tmp_path / "no-such-folder"
    monkeypatch.setattr(settings, "RODAN_JOB_PATH", [*settings.RODAN_JOB_PATH, str(missing)])
    job_path.families.clear()  # the names belong to others: nothing of theirs to forget
    get_registry.cache_clear()
    registry = get_registry()
    families = registry.families
    assert families[str(tmp_path / "gamera")].error == f"rodan.jobs.gamera is already {ROOT / 'jobs' / 'gamera'}"
    assert families[str(tmp_path / "registry")].error.startswith("rodan.jobs.registry is already ")
    assert families[str(missing)].error == "the job folder does not exist"
    assert families["rodan.jobs.gamera"].available and "Sauvola Threshold" in registry.jobs


def test_rodan_jobs_command_lists_the_reasons(tmp_path):
    (tmp_path / "broken_family").mkdir()
    (tmp_path / "broken_family" / "__init__.py").write_text("import rodan_unit_not_installed\n")
    env = {**__import__("os").environ, "RODAN_JOB_PATH": f"{settings.RODAN_JOB_PATH[0]}:{tmp_path}"}
    done = subprocess.run([sys.executable, "-m", "rodan.cli", "jobs"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Rodan style - Threshold\tTest\tPython3\trodan.jobs.rodan_style" in done.stdout
    assert (
        "unavailable: rodan.jobs.broken_family: ModuleNotFoundError: No module named 'rodan_unit_not_installed'"
        in done.stderr
    )


# -- entry points -----------------------------------------------------------------------


def test_an_entry_point_package_is_imported_as_rodan_jobs_name(tmp_path, monkeypatch):
    distribution = unique("dist")
    package, family = unique("installed"), unique("ep")
    (tmp_path / package).mkdir()
    (tmp_path / package / "__init__.py").write_text(
        f"from rodan.jobs import module_loader\nmodule_loader('rodan.jobs.{family}.steps')\n"
    )
    (tmp_path / package / "steps.py").write_text(
        textwrap.dedent(
            f"""
            from rodan.jobs.base import RodanTask
            from . import __name__ as parent


            class Installed(RodanTask):
                name = "Unit - {family}"
                input_port_types = []
                output_port_types = [{{"name": "Out", "minimum": 1, "maximum": 1, "resource_types": ["text/plain"]}}]
            """
        )
    )
    info = tmp_path / f"{distribution}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[rodan.jobs]\n{family} = {package}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    get_registry.cache_clear()
    try:
        registry = get_registry()
        loaded = registry.families[f"rodan.jobs.{family}"]
        assert loaded.available, loaded.error
        assert registry.jobs[f"Unit - {family}"].__module__ == f"rodan.jobs.{family}.steps"
        assert sys.modules[f"rodan.jobs.{family}"].__path__ == [str(tmp_path / package)]
        assert package not in sys.modules  # imported once, under the name Rodan's packages use
    finally:
        for module in [m for m in sys.modules if m.startswith(f"rodan.jobs.{family}")]:
            del sys.modules[module]
        monkeypatch.undo()
        get_registry.cache_clear()


def test_the_house_folder_is_on_the_search_path_before_any_registry():
    assert rodan.jobs.__path__[:2] == [str(ROOT / "rodan" / "jobs"), str(ROOT / "jobs")]
