"""Test session setup: a private database and broker, then Django.

``RODAN_TEST_BACKEND`` picks where the engine runs: ``services`` (default) is
a fresh PostgreSQL database and RabbitMQ virtual host on localhost, created
for the session and dropped after it; ``embedded`` is SQLite and the
filesystem broker in a temporary folder. With ``services`` unreachable the
session falls back to ``embedded`` and skips the tests marked ``services``,
saying why, unless ``RODAN_REQUIRE_SERVICES=1`` (CI), which makes it an error.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SUPPORT = ROOT / "tests" / "support"
POSTGRES_ADMIN_URL = os.environ.get("RODAN_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
RABBITMQ_URL = os.environ.get("RODAN_TEST_RABBITMQ", "amqp://guest:guest@127.0.0.1:5672")

_session = {}
# The worker-image tests need a built image: .ci/run builds one and sets RODAN_TEST_IMAGE.
collect_ignore = [] if os.environ.get("RODAN_TEST_IMAGE") else ["image"]
sys.path.insert(0, str(SUPPORT))  # the test-only job package and the shared fixtures


def _postgres_problem():
    try:
        import psycopg

        psycopg.connect(POSTGRES_ADMIN_URL, connect_timeout=3).close()
    except Exception as exc:
        return f"PostgreSQL at {POSTGRES_ADMIN_URL} is unreachable ({type(exc).__name__}: {exc})"
    return None


def _rabbitmq_problem():
    from kombu import Connection

    try:
        with Connection(RABBITMQ_URL + "//", connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:
        return f"RabbitMQ at {RABBITMQ_URL} is unreachable ({type(exc).__name__}: {exc})"
    return None


def _create_services(name):
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", name], check=True, capture_output=True)
    subprocess.run(
        ["rabbitmqctl", "-q", "set_permissions", "-p", name, "guest", ".*", ".*", ".*"], check=True, capture_output=True
    )
    database_url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    return {"DATABASE_URL": database_url, "CELERY_BROKER_URL": f"{RABBITMQ_URL}/{name}"}


def _drop_services(name):
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], capture_output=True)


def pytest_configure(config):
    backend = os.environ.get("RODAN_TEST_BACKEND", "services")
    data_dir = Path(tempfile.mkdtemp(prefix="rodan-test-"))
    env = {
        "RODAN_DATA_DIR": str(data_dir),
        "RODAN_JOB_PACKAGES": "rodan_testjobs",
        # A Rodan-style package (rodan.jobs.rodan_style), found where a deployment puts its own.
        "RODAN_JOB_PATH": str(SUPPORT / "job_path"),
        "PYTHONPATH": os.pathsep.join([str(SUPPORT), str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "RODAN_HEARTBEAT_INTERVAL": "0.5",
        "RODAN_HEARTBEAT_TIMEOUT": "6",
        "RODAN_REAPER_INTERVAL": "1",
        "RODAN_DISPATCH_TIMEOUT": "15",
        "RODAN_MAX_ATTEMPTS": "3",
        # Tiles only when a viewer asks: the many image outputs of other tests would keep workers busy.
        "RODAN_EAGER_TILES": "0",
        "DJANGO_SETTINGS_MODULE": "rodan.settings",
    }
    for key in ("DATABASE_URL", "CELERY_BROKER_URL", "MEDIA_ROOT"):
        os.environ.pop(key, None)
    services_problem = None
    if backend == "services":
        services_problem = _postgres_problem() or _rabbitmq_problem()
        if services_problem and os.environ.get("RODAN_REQUIRE_SERVICES") == "1":
            pytest.exit(f"RODAN_REQUIRE_SERVICES=1 but {services_problem}", returncode=3)
        if services_problem:
            backend = "embedded"
        else:
            name = f"rodan_test_{uuid.uuid4().hex[:10]}"
            env.update(_create_services(name))
            _session["services"] = name
    _session.update(backend=backend, data_dir=data_dir, services_problem=services_problem)
    os.environ.update(env)

    import django
    from django.core.management import call_command

    from rodan.stack import prepare_data_dir

    prepare_data_dir(data_dir)
    django.setup()
    call_command("migrate", interactive=False, verbosity=0)


def pytest_unconfigure(config):
    if "services" in _session:
        _drop_services(_session["services"])
    if "data_dir" in _session:
        shutil.rmtree(_session["data_dir"], ignore_errors=True)


def pytest_report_header(config):
    line = f"rodan test backend: {_session.get('backend')}"
    if _session.get("services_problem"):
        line += f" (services unavailable: {_session['services_problem']})"
    return line


#: Folders whose tests, unless marked ``engine``, compare pixels and never touch the database or a worker:
#: they give the same answer on either backend, so they run in the services session only.
BACKEND_FREE = ("gamera", "musicstaves")


def _backend_free(item):
    folder = Path(str(item.fspath)).relative_to(ROOT / "tests").parts[0]
    return folder in BACKEND_FREE and "engine" not in item.keywords


def pytest_collection_modifyitems(config, items):
    problem = _session.get("services_problem")
    if _session.get("backend") == "services" or not problem:
        if _session.get("backend") == "embedded" and not problem:
            reason = "this session runs the embedded backend (RODAN_TEST_BACKEND=embedded)"
            skip = pytest.mark.skip(reason=reason)
            once = pytest.mark.skip(reason=f"{reason}; a test that never touches the engine runs with services only")
            for item in items:
                if "services" in item.keywords:
                    item.add_marker(skip)
                elif _backend_free(item):
                    item.add_marker(once)
        return
    skip = pytest.mark.skip(reason=problem)
    for item in items:
        if "services" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def backend():
    return _session["backend"]


@pytest.fixture(scope="session")
def data_dir():
    return _session["data_dir"]


pytest_plugins = ["rodan_fixtures"]
