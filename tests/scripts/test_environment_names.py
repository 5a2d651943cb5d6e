"""One environment-variable name per setting: every variable read anywhere is in README's table.

Read means: by the Python code (``rodan/``, ``jobs/``), the image's entrypoints
(``scripts/start-celery``, ``scripts/start``, ``scripts/wait-for-app``), set by
``Dockerfile`` or ``docker-compose.yml``, or given in ``.env.example``.
"""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINTS = ("start-celery", "start", "wait-for-app")
NAME = r"[A-Z][A-Z0-9_]*"
#: Variables of the platform, not ours: Python's, Django's, the shell's, the image's virtualenv.
NOT_SETTINGS = {
    "DJANGO_SETTINGS_MODULE", "PATH", "HOME", "SECONDS", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE",
    "PYTHONUNBUFFERED", "PYTHONPATH",
}
FORMER_NAMES = {"CELERY_CONCURRENCY": "CELERY_WORKER_CONCURRENCY", "CELERY_MAX_TASKS_PER_CHILD": "CELERY_WORKER_MAX_TASKS_PER_CHILD"}


def readme_table():
    """Names in the first column of README's configuration table."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Configuration (environment variables)\n", 1)[1].split("\n## ", 1)[0]
    names = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names.update(re.findall(rf"`({NAME})`", line.split("|")[1]))
    return names


def python_reads():
    found = {}
    patterns = [
        rf'os\.environ(?:\.get|\.setdefault)?\(\s*"({NAME})"',
        rf'os\.environ\["({NAME})"\]',
        rf'_env_(?:int|bool)\(\s*"({NAME})"',
        rf'^[A-Z_]*_ENV\s*=\s*"({NAME})"',  # constants such as ENGINE_ENV = "RODAN_GAMERA_ENGINE"
    ]
    for folder in ("rodan", "jobs"):
        for path in (ROOT / folder).rglob("*.py"):
            if "tests" in path.relative_to(ROOT).parts or "node_modules" in path.parts:
                continue
            text = path.read_text()
            for pattern in patterns:
                for name in re.findall(pattern, text, flags=re.MULTILINE):
                    found.setdefault(name, str(path.relative_to(ROOT)))
    return found


def script_reads():
    found = {}
    for script in ENTRYPOINTS:
        code = "\n".join(line for line in (ROOT / "scripts" / script).read_text().splitlines() if not line.lstrip().startswith("#"))
        for name in re.findall(rf"\$\{{?({NAME})", code):
            found.setdefault(name, f"scripts/{script}")
    return found


def deployment_names():
    found = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            found.setdefault(line.split("=", 1)[0].strip(), ".env.example")
    compose_text = (ROOT / "docker-compose.yml").read_text()
    for name in re.findall(rf"\$\{{({NAME})", compose_text):
        found.setdefault(name, "docker-compose.yml")
    # our services' `environment:` keys (the postgres service's POSTGRES_* belong to its image)
    for service_name, service in yaml.safe_load(compose_text)["services"].items():
        if "env_file" in service:
            for name in service.get("environment") or {}:
                found.setdefault(name, f"docker-compose.yml ({service_name})")
    dockerfile = (ROOT / "Dockerfile").read_text()
    for block in re.findall(r"^ENV (.*(?:\\\n.*)*)", dockerfile, flags=re.MULTILINE):
        for name in re.findall(rf"({NAME})=", block):
            found.setdefault(name, "Dockerfile")
    return found


def all_reads():
    found = {}
    for source in (python_reads(), script_reads(), deployment_names()):
        for name, where in source.items():
            if name not in NOT_SETTINGS:
                found.setdefault(name, where)
    return found


def test_the_scan_finds_what_it_should():
    reads = all_reads()
    for name, where in [
        ("CELERY_WORKER_CONCURRENCY", "rodan/settings.py"),
        ("RODAN_GAMERA_ENGINE", "jobs/gamera/engine.py"),
        ("ADMIN_USER", "rodan/cli.py"),
        ("SHUTDOWN_GRACE", "scripts/start-celery"),
        ("POSTGRES_PASSWORD", ".env.example"),
        ("RODAN_PORT", "docker-compose.yml"),
    ]:
        assert reads.get(name) == where, name
    assert "CELERY_JOB_QUEUE" in reads and "RODAN_DATA_DIR" in reads


def test_every_variable_read_anywhere_is_in_readmes_table():
    documented = readme_table()
    missing = {name: where for name, where in all_reads().items() if name not in documented}
    assert not missing, f"read but not in README's configuration table: {missing}"


def test_readmes_table_names_only_variables_something_reads():
    unread = readme_table() - set(all_reads())
    assert not unread, f"in README's configuration table but read nowhere: {sorted(unread)}"


@pytest.mark.parametrize("former, current", sorted(FORMER_NAMES.items()))
def test_former_container_names_are_gone_but_for_the_deprecation_shim(former, current):
    assert former not in all_reads()
    for path in (".env.example", "docker-compose.yml", "Dockerfile", "rodan/settings.py"):
        assert former not in (ROOT / path).read_text(), path
    assert current in readme_table()
    shim = (ROOT / "scripts" / "start-celery").read_text()
    assert f"{current}={former}" in shim  # the one place that still knows the old name
