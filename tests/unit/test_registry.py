"""Job discovery and registration (rodan.jobs.registry): broken families, bad metadata, idempotence."""

import sys
import textwrap
import uuid

import pytest
from django.conf import settings

from rodan.jobs import registry as registry_module
from rodan.jobs.base import RodanTask
from rodan.jobs.registry import _load_family, check_job_metadata, get_registry, register_jobs
from rodan.models import InputPortType, Job, OutputPortType

GOOD_JOB = '''
from rodan.jobs.base import RodanTask
from rodan_testjobs.steps import TextStep  # imported, not defined here: not this family's job


class GoodJob(RodanTask):
    name = "{name}"
    category = "Unit"
    settings = {{"job_queue": "celery", "type": "object"}}
    input_port_types = [{{"name": "In", "minimum": 1, "maximum": 1, "resource_types": ["text/plain"]}}]
    output_port_types = [{{"name": "Out", "minimum": 1, "maximum": 1, "resource_types": ["text/plain"]}}]
'''


class Packages:
    """Throw-away job packages on sys.path, forgotten again at teardown."""

    def __init__(self, root, monkeypatch):
        self.root = root
        self.names = []
        monkeypatch.syspath_prepend(str(root))

    def make(self, files):
        name = f"unit_jobs_{uuid.uuid4().hex[:10]}"
        self.write(name, files)
        self.names.append(name)
        return name

    def write(self, name, files):
        for relative, text in files.items():
            path = self.root / name / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        self.forget(name)

    def forget(self, name):
        for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[module]
        import importlib

        importlib.invalidate_caches()


@pytest.fixture
def packages(tmp_path, monkeypatch):
    made = Packages(tmp_path, monkeypatch)
    yield made
    for name in made.names:
        made.forget(name)


@pytest.fixture
def fresh_registry(monkeypatch):
    """Lets a test change RODAN_JOB_PACKAGES; the process's registry is rebuilt afterwards."""
    get_registry.cache_clear()
    yield lambda names: monkeypatch.setattr(settings, "RODAN_JOB_PACKAGES", list(names))
    get_registry.cache_clear()


def unique(prefix):
    return f"{prefix} {uuid.uuid4().hex[:8]}"


# -- loading families ------------------------------------------------------------


def test_family_with_a_missing_dependency_is_unavailable(packages):
    name = packages.make({"__init__.py": "import rodan_unit_no_such_module\n"})
    family = _load_family(name, None)
    assert not family.available and family.jobs == {}
    assert family.error == "ModuleNotFoundError: No module named 'rodan_unit_no_such_module'"


def test_family_loads_its_own_jobs_and_version(packages):
    job_name = unique("Unit - good")
    name = packages.make({"__init__.py": "__version__ = '1.2.3'\n", "steps.py": GOOD_JOB.format(name=job_name)})
    family = _load_family(name, None)
    assert family.available and family.error == ""
    assert family.version == "1.2.3"
    assert list(family.jobs) == [job_name]  # TextStep is only imported there
    assert family.jobs[job_name].__module__ == f"{name}.steps"


def test_one_failing_submodule_makes_the_whole_family_unavailable(packages):
    name = packages.make(
        {
            "__init__.py": "",
            "a_good.py": GOOD_JOB.format(name=unique("Unit - half")),
            "b_broken.py": "raise RuntimeError('cannot start here')\n",
        }
    )
    family = _load_family(name, None)
    assert family.jobs == {} and family.error == "RuntimeError: cannot start here"


def test_test_modules_are_not_imported(packages):
    job_name = unique("Unit - tested")
    name = packages.make(
        {
            "__init__.py": "",
            "steps.py": GOOD_JOB.format(name=job_name),
            "test_steps.py": "import pytest_only_dependency_missing\n",
            "tests/__init__.py": "raise ImportError('tests are not job code')\n",
        }
    )
    family = _load_family(name, None)
    assert family.available and list(family.jobs) == [job_name]
    assert family.version == "n/a"


def test_entry_point_loader_is_used(packages):
    job_name = unique("Unit - entry point")
    name = packages.make({"__init__.py": GOOD_JOB.format(name=job_name)})
    import importlib

    family = _load_family(name, lambda: importlib.import_module(name))
    assert list(family.jobs) == [job_name]
    failing = _load_family("unit.entry.point", lambda: (_ for _ in ()).throw(ImportError("gamera missing")))
    assert failing.error == "ImportError: gamera missing"


def test_registry_reports_a_broken_family_and_loads_the_others(packages, fresh_registry):
    broken = packages.make({"__init__.py": "from rodan_unit_gamera import core\n"})
    fresh_registry(["rodan_testjobs", broken])
    registry = get_registry()
    assert not registry.families[broken].available
    assert "rodan_unit_gamera" in registry.families[broken].error
    assert registry.families["rodan_testjobs"].available
    assert registry.families["rodan.jobs.utilities"].available
    for job_name in ("Test - Text step", "Test - Join texts", "Hello World - Python3", "Labeler"):
        assert job_name in registry.jobs
    with pytest.raises(LookupError) as caught:
        registry.job_class("Gamera job that is not here")
    message = str(caught.value)
    assert '"Gamera job that is not here" is not installed' in message and broken in message
    assert registry.job_class("Labeler").name == "Labeler"


def test_registry_rejects_malformed_and_duplicate_jobs(packages, fresh_registry):
    bad_name = unique("Unit - bad ports")
    good_name = unique("Unit - fine")
    bad = packages.make(
        {
            "__init__.py": f'''
            from rodan.jobs.base import RodanTask


            class BadPorts(RodanTask):
                name = "{bad_name}"
                input_port_types = [
                    {{"name": "In", "minimum": 1, "maximum": 1, "resource_types": ["text/plain"]}},
                    {{"name": "In", "minimum": 0, "maximum": 1, "resource_types": ["text/plain"]}},
                ]
                output_port_types = []


            class Fine(RodanTask):
                name = "{good_name}"


            class Impostor(RodanTask):
                name = "Test - Text step"
            '''
        }
    )
    fresh_registry(["rodan_testjobs", bad])
    registry = get_registry()
    assert bad_name not in registry.jobs and "two ports named 'In'" in registry.rejected[bad_name]
    assert registry.rejected[bad_name].startswith(f"{bad}.BadPorts:")
    assert good_name in registry.jobs
    # the first family to declare a name keeps it
    assert registry.jobs["Test - Text step"].__module__ == "rodan_testjobs.steps"
    assert "already taken by rodan_testjobs.steps" in registry.rejected["Test - Text step"]


# -- metadata checks -----------------------------------------------------------------


def job_class(**attributes):
    attributes.setdefault("name", "Unit - metadata")
    return type("Declared", (RodanTask,), attributes)


PORT = {"name": "P", "minimum": 1, "maximum": 1, "resource_types": ["text/plain"]}


def test_well_formed_metadata_passes():
    check_job_metadata(job_class(input_port_types=[PORT], output_port_types=[PORT], settings=None))
    check_job_metadata(job_class(output_port_types=[{**PORT, "resource_types": lambda m: m.startswith("image/")}]))
    check_job_metadata(job_class(settings={}))


@pytest.mark.parametrize(
    "attributes, message",
    [
        ({"name": None}, "non-empty string name"),
        ({"name": ""}, "non-empty string name"),
        ({"name": 42}, "non-empty string name"),
        ({"settings": ["not", "a", "schema"]}, "JSON Schema object"),
        ({"input_port_types": [{k: v for k, v in PORT.items() if k != "maximum"}]}, "lacks 'maximum'"),
        ({"output_port_types": [{k: v for k, v in PORT.items() if k != "resource_types"}]}, "lacks 'resource_types'"),
        ({"input_port_types": [{k: v for k, v in PORT.items() if k != "name"}]}, "lacks 'name'"),
        ({"output_port_types": [PORT, dict(PORT)]}, "two ports named 'P'"),
        ({"input_port_types": [{**PORT, "resource_types": ["image/x-unregistered"]}]}, "unregistered resource types"),
        ({"input_port_types": [{**PORT, "resource_types": lambda m: False}]}, "no registered resource type"),
        ({"input_port_types": [{**PORT, "resource_types": []}]}, "no registered resource type"),
    ],
)
def test_malformed_metadata_is_rejected(attributes, message):
    with pytest.raises(ValueError, match=message):
        check_job_metadata(job_class(**attributes))


@pytest.mark.parametrize("value", [[], "", 0])
def test_falsy_non_object_settings_are_rejected(value):
    with pytest.raises(ValueError, match="JSON Schema object"):
        check_job_metadata(job_class(settings=value))


def test_settings_that_are_not_a_draft4_schema_are_rejected():
    with pytest.raises(ValueError):
        check_job_metadata(job_class(settings={"type": "objekt"}))


# -- registration into the database ----------------------------------------------------


def snapshot():
    def ports(model):
        return sorted(
            (str(p.pk), str(p.job_id), p.name, p.minimum, p.maximum, p.is_list, tuple(sorted(p.resource_types.values_list("mimetype", flat=True))))
            for p in model.objects.all()
        )

    jobs = sorted(
        (str(j.pk), j.name, j.enabled, j.interactive, repr(j.settings), j.job_queue, j.package, j.version, j.category)
        for j in Job.objects.all()
    )
    return jobs, ports(InputPortType), ports(OutputPortType)


def test_register_jobs_is_idempotent():
    before = snapshot()
    register_jobs()
    first = snapshot()
    register_jobs()
    assert snapshot() == first == before  # migrate already registered: nothing changes, no row is replaced
    step = Job.objects.get(name="Test - Text step")
    assert step.package == "rodan_testjobs" and step.version == "test" and step.enabled
    (text_input,) = step.input_port_types.all()
    assert (text_input.name, text_input.minimum, text_input.maximum) == ("Text input", 1, 1)
    assert list(text_input.resource_types.values_list("mimetype", flat=True)) == ["text/plain"]
    assert Job.objects.get(name="Hello World - Python3").job_queue == "Python3"


def test_register_jobs_adds_disables_and_keeps_rows(packages, fresh_registry):
    keep, drop = unique("Unit - kept"), unique("Unit - dropped")
    two_jobs = GOOD_JOB.format(name=keep) + GOOD_JOB.format(name=drop).replace("class GoodJob", "class OtherJob")
    name = packages.make({"__init__.py": "__version__ = '7'\n", "steps.py": two_jobs})
    fresh_registry(["rodan_testjobs", name])
    try:
        register_jobs()
        rows = {j.name: j for j in Job.objects.filter(name__in=[keep, drop])}
        assert set(rows) == {keep, drop}
        assert all(j.enabled and j.package == name and j.version == "7" for j in rows.values())
        assert list(rows[keep].output_port_types.values_list("name", flat=True)) == ["Out"]

        # the family drops one job: its row is disabled, not deleted
        packages.write(name, {"steps.py": GOOD_JOB.format(name=keep)})
        get_registry.cache_clear()
        register_jobs()
        assert Job.objects.get(name=keep).enabled and not Job.objects.get(name=drop).enabled
        assert Job.objects.get(name=keep).pk == rows[keep].pk

        # the family stops importing here: its rows stay as they are (its workers may have it)
        packages.write(name, {"__init__.py": "import rodan_unit_missing_dependency\n"})
        get_registry.cache_clear()
        register_jobs()
        assert Job.objects.get(name=keep).enabled and Job.objects.get(name=keep).version == "7"
        assert Job.objects.get(name="Test - Text step").enabled  # other families untouched
    finally:
        Job.objects.filter(name__in=[keep, drop]).delete()


def test_registration_rewrites_changed_port_declarations(packages, fresh_registry):
    job_name = unique("Unit - ports change")
    undeclared = GOOD_JOB.format(name=job_name).replace(
        'settings = {"job_queue": "celery", "type": "object"}', "settings = None"
    )
    assert "settings = None" in undeclared
    name = packages.make({"__init__.py": undeclared})
    fresh_registry(["rodan_testjobs", name])
    try:
        register_jobs()
        assert Job.objects.get(name=job_name).settings == registry_module.DEFAULT_SETTINGS
        out_before = OutputPortType.objects.get(job__name=job_name)
        changed = GOOD_JOB.format(name=job_name).replace(
            '"name": "Out", "minimum": 1, "maximum": 1, "resource_types": ["text/plain"]',
            '"name": "Out", "minimum": 1, "maximum": 3, "resource_types": ["text/plain", "application/json"]',
        ).replace('"name": "In", ', '"name": "Renamed in", ')
        packages.write(name, {"__init__.py": changed})
        get_registry.cache_clear()
        register_jobs()
        out_after = OutputPortType.objects.get(job__name=job_name)
        assert out_after.pk == out_before.pk and out_after.maximum == 3
        assert sorted(out_after.resource_types.values_list("mimetype", flat=True)) == ["application/json", "text/plain"]
        assert list(InputPortType.objects.filter(job__name=job_name).values_list("name", flat=True)) == ["Renamed in"]
    finally:
        Job.objects.filter(name=job_name).delete()
