"""The ``rodan`` command: start the system, run workers, run a workflow over files.

Every failure a user can cause ends in one line on stderr and a non-zero
exit status; unexpected errors are logged with their traceback to the data
folder's ``logs/cli.log`` and summarised in one line.
"""

import argparse
import hashlib
import importlib.util
import json
import logging
import os
import secrets
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import platformdirs

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8000
#: Seconds the web server lets open requests (event streams) run on after it is told to stop.
SHUTDOWN_GRACE_SECONDS = 3
#: Template databases of private runs kept in the cache (one per schema and job set: a few virtualenvs or settings).
KEPT_RUN_DATABASES = 4


class CLIError(Exception):
    """A problem the user can fix, reported in one line."""


def _setup_django(data_dir=None):
    """Point settings at ``data_dir`` (before Django reads them) and start Django."""
    if data_dir is not None:
        os.environ["RODAN_DATA_DIR"] = str(Path(data_dir).resolve())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rodan.settings")
    from django.conf import settings

    from rodan.stack import prepare_data_dir

    data = Path(os.environ.get("RODAN_DATA_DIR") or platformdirs.user_data_dir("rodan"))
    prepare_data_dir(data)
    import django

    django.setup()
    logging.getLogger().handlers[:] = [logging.FileHandler(data / "logs" / "cli.log")]
    return settings, data


def _migrate():
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def _cache_dir():
    """The user's cache folder for what ``rodan`` keeps between calls (job table, template databases)."""
    return Path(platformdirs.user_cache_dir("rodan"))


def _schema_key():
    """A digest of what migrating and registering would write: Django, every app's migrations, the jobs."""
    import django
    from django.apps import apps
    from django.db.migrations.loader import MigrationLoader

    from rodan.jobs.registry import fingerprint, get_registry

    digest = hashlib.sha256(f"{django.__version__} {fingerprint(get_registry())}".encode())
    for app in apps.get_app_configs():
        module, _ = MigrationLoader.migrations_module(app.label)
        spec = importlib.util.find_spec(module) if module else None
        for folder in (spec and spec.submodule_search_locations) or []:
            for path in sorted(Path(folder).glob("*.py")):
                digest.update(f"{app.label}/{path.name}".encode() + path.read_bytes())
    return digest.hexdigest()


def _modified(path):
    """A file's modification time; one another process removed meanwhile counts as the oldest."""
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0


def _migrate_private_database():
    """Migrate a private run's new SQLite database by copying one made earlier for the same schema and jobs.

    Migrating and registering take about as long as a small run, and a new
    database always ends up the same for the same code (``_schema_key``), so
    the first run keeps a copy in the user's cache folder and later ones start
    from it.
    """
    from django.conf import settings

    database = Path(settings.DATABASES["default"]["NAME"])
    cache = _cache_dir() / "run-databases"
    template = cache / f"{_schema_key()}.sqlite3"
    try:
        shutil.copyfile(template, database)
        return
    except FileNotFoundError:  # none yet, or another run pruned it just now
        pass
    _migrate()
    try:
        _keep_template(database, template)
    except (OSError, sqlite3.Error):
        logging.getLogger("rodan.cli").warning("could not keep %s: the next run migrates again", template, exc_info=True)


def _keep_template(database, template):
    cache = template.parent
    cache.mkdir(parents=True, exist_ok=True)
    for old in sorted(cache.glob("*.sqlite3"), key=_modified)[:-KEPT_RUN_DATABASES]:
        old.unlink(missing_ok=True)
    partial = cache / f".{os.getpid()}.partial"
    source, copy = sqlite3.connect(database), sqlite3.connect(partial)
    try:
        source.backup(copy)
    finally:
        source.close()
        copy.close()
    os.replace(partial, template)


def _ensure_admin():
    """Create the admin once: from ADMIN_USER/ADMIN_EMAIL/ADMIN_PASS, else with a printed password."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    users = get_user_model().objects
    username = os.environ.get("ADMIN_USER")
    if username:
        user = users.filter(username=username).first()
        if user is None:
            password = os.environ.get("ADMIN_PASS")
            if not password:
                raise CLIError("ADMIN_USER is set but ADMIN_PASS is not")
            user = users.create_superuser(username, os.environ.get("ADMIN_EMAIL", ""), password)
            print(f"Created admin user {username}.")
        Token.objects.get_or_create(user=user)
        return
    if users.filter(is_superuser=True).exists():
        return
    password = secrets.token_urlsafe(12)
    user = users.create_superuser("admin", "admin@localhost", password)
    Token.objects.get_or_create(user=user)
    print(f"Created admin user: login admin@localhost, password {password} (shown once; set ADMIN_USER, ADMIN_EMAIL and ADMIN_PASS to choose)")


def cmd_up(args):
    settings, data = _setup_django(args.data)
    from rodan.stack import Supervisor, scheduler_command, worker_command

    _migrate()
    _ensure_admin()
    supervisor = Supervisor(log_dir=data / "logs")
    supervisor.start("web", [sys.executable, "-m", "rodan.cli", "serve", "--host", args.host, "--port", str(args.port)])
    for index in range(args.workers):
        supervisor.start(f"worker{index + 1}", worker_command(settings.RODAN_QUEUES, args.concurrency, f"worker{index + 1}@%h"))
    supervisor.start("scheduler", scheduler_command())
    print(f"Rodan is running: open http://{args.host}:{args.port}/ in a browser "
          f"(the API is under /api/; data in {data}; logs in {data / 'logs'})")
    print("Press Ctrl-C to stop.")
    _supervise(supervisor, lambda message: print(f"{message}; see {data / 'logs'}", flush=True))
    print("Stopping (running jobs may take a moment to finish)...")
    supervisor.stop()
    print("Stopped.")


def _supervise(supervisor, log):
    """Start again whatever child stops, until SIGTERM or Ctrl-C.

    Both signals get a handler of our own: a process started in the background
    by a non-interactive shell inherits SIGINT ignored, and Ctrl-C (or a
    test's SIGINT) would then never stop it.
    """
    stopping = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.append(True))
    while not stopping:
        supervisor.restart_exited(log)
        time.sleep(0.5)


def _raise_open_files_limit():
    """As many open files as the system allows: each open event stream is a socket."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def cmd_serve(args):
    """The web app on uvicorn: streams wait on the event loop, ordinary views run in threads."""
    _setup_django(args.data)
    import uvicorn

    _raise_open_files_limit()
    uvicorn.run(
        "rodan.asgi:create_application",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        lifespan="off",
        access_log=False,
        # Streams never end by themselves: on shutdown they are closed after
        # this many seconds, and browsers reconnect to the next server.
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
    )


def cmd_worker(args):
    settings, _ = _setup_django(args.data)
    from rodan.stack import Supervisor, worker_command

    queues = args.queue or settings.RODAN_QUEUES
    command = worker_command(
        queues,
        args.concurrency or settings.CELERY_WORKER_CONCURRENCY,
        args.name or f"{'-'.join(queues)}@%h",
        args.max_tasks_per_child,
    )
    # Celery runs as a child, started again whenever it stops: a worker that finds its pool blocked
    # exits (rodan.engine.watchdog), and a container's restart policy would not see that.
    supervisor = Supervisor(own_sessions=False)
    supervisor.start("worker", command)
    _supervise(supervisor, lambda message: print(f"rodan worker: {message}", file=sys.stderr, flush=True))
    supervisor.stop(grace=None)  # a warm shutdown lets running jobs finish, however long they take


def cmd_scheduler(args):
    settings, _ = _setup_django(args.data)
    import threading

    from rodan.engine.reaper import run_forever

    logging.getLogger().handlers[:] = [logging.StreamHandler()]
    logging.getLogger().setLevel(logging.INFO)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(f"scheduler: reaping every {settings.RODAN_REAPER_INTERVAL:g} seconds", flush=True)
    run_forever(stop)


def cmd_worker_ping(args):
    """Exit 0 when this host's worker for the queues answers a Celery ping (container health checks)."""
    import socket

    settings, _ = _setup_django(args.data)
    from rodan.celery import app

    name = args.name or f"{'-'.join(args.queue or settings.RODAN_QUEUES)}@{socket.gethostname()}"
    if not app.control.ping(destination=[name], timeout=args.timeout):
        raise CLIError(f"worker {name} did not answer within {args.timeout:g}s")
    print(f"{name}: pong")


def cmd_migrate(args):
    _setup_django(args.data)
    _migrate()
    print("Database up to date; jobs registered.")


def cmd_setup(args):
    """What a web container does before serving: migrate, the admin once, static files."""
    _setup_django(args.data)
    from django.core.management import call_command

    _migrate()
    _ensure_admin()
    call_command("collectstatic", interactive=False, verbosity=0)
    print("Database up to date; jobs registered; static files collected.")


def _job_table():
    """(stdout lines, stderr lines) of ``rodan jobs``: the installed jobs, then what did not load."""
    from rodan.jobs.registry import get_registry

    registry = get_registry()
    out = [f"{name}\t{cls.category}\t{cls.job_queue()}\t{cls.package_name()}" for name, cls in sorted(registry.jobs.items())]
    err = [f"unavailable: {package}: {family.error}" for package, family in registry.families.items() if not family.available]
    err += [f"rejected: {name}: {reason}" for name, reason in registry.rejected.items()]
    return out, err


def cmd_jobs(args):
    from rodan.jobs import listing

    cache = _cache_dir() / "jobs.json"
    table = listing.read(cache)
    if table is None:
        before = listing.context()
        _setup_django(args.data)
        table = _job_table()
        try:
            listing.write(cache, before, *table)
        except OSError:  # an unwritable cache folder: the next call builds the table again
            logging.getLogger("rodan.cli").warning("could not store %s", cache, exc_info=True)
    out, err = table
    for line in out:
        print(line)
    for line in err:
        print(line, file=sys.stderr)


def cmd_workflows(args):
    from rodan import library

    for name in library.names():
        print(f"{name}\t{library.description(name)}")


def _parse_inputs(values):
    assignments = {}
    for value in values or []:
        port, sep, files = value.partition("=")
        if not sep or not files:
            raise CLIError(f"--input {value!r}: expected PORT=FILE[,FILE...]")
        assignments[port] = files.split(",")
    return assignments


def cmd_run(args):
    from rodan import library

    try:
        workflow_path = library.locate(args.workflow)
    except library.UnknownWorkflow as exc:
        raise CLIError(str(exc)) from None
    try:
        doc = json.loads(workflow_path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CLIError(f"{workflow_path}: {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CLIError(f"{workflow_path}: not JSON ({exc})") from None
    missing = [page for page in args.pages if not Path(page).is_file()]
    if missing:
        raise CLIError(f"{missing[0]}: no such file")
    if not args.pages and not args.input:
        raise CLIError("give at least one page")
    # On the embedded defaults a batch gets a private, throw-away system; with a
    # broker configured it joins that deployment (its database, files, workers).
    production = bool(os.environ.get("CELERY_BROKER_URL"))
    private = not production and not args.data
    if private:
        os.environ["RODAN_EAGER_TILES"] = "0"  # nobody opens a throw-away system's viewer
    data_dir = args.data or (None if production else tempfile.mkdtemp(prefix="rodan-run-"))
    settings, data = _setup_django(data_dir)
    from tqdm import tqdm

    from rodan import batch
    from rodan.engine.reaper import reap
    from rodan.stack import Supervisor, worker_command

    if private and settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        _migrate_private_database()
    else:
        _migrate()
    workflow, assignments = batch.prepare(doc, args.pages, _parse_inputs(args.input))
    supervisor = Supervisor(log_dir=data / "logs")
    local = None
    if settings.EMBEDDED_BROKER:
        from rodan.engine.local import LocalWorker

        # This process is one of the workers; more only when there are pages for them.
        local = LocalWorker(settings.RODAN_QUEUES)
        for index in range(min(args.workers, len(args.pages)) - 1):
            supervisor.start(f"run-worker{index + 1}", worker_command(settings.RODAN_QUEUES, 1, f"run{index + 1}-{os.getpid()}@%h"))
    last_reap = [time.monotonic()]

    def tick():
        """Between polls: restart stopped worker processes, reap, run a waiting message here (True if one ran)."""
        supervisor.restart_exited(logging.getLogger("rodan.cli").warning)
        if time.monotonic() - last_reap[0] > settings.RODAN_REAPER_INTERVAL:
            last_reap[0] = time.monotonic()
            reap()
        return local is not None and local.run_one()

    try:
        run = batch.start(workflow, assignments)
        # disable=None: a progress bar on a terminal only, not in logs or pipes.
        with tqdm(total=0, unit="job", desc=workflow.name[:30], disable=True if args.quiet else None) as bar:

            def on_progress(done, total):
                bar.total = total
                bar.n = done
                bar.refresh()

            status = batch.wait(run, on_progress, tick=tick)
    finally:
        supervisor.stop()
        if local is not None:
            local.close()
    written = batch.export_outputs(run, args.output)
    from rodan.models.status import RunStatus

    if status != RunStatus.FINISHED:
        failed = batch.failures(run)
        if not failed:
            raise CLIError(f"the run did not finish ({len(written)} finished outputs written to {args.output})")
        pages = {r.uuid.hex: r.name for items in assignments.values() for r in items}
        page = pages.get(failed[0].resource_uuid) or (next(iter(pages.values())) if len(pages) == 1 else None)
        where = f" on {page}" if page else ""
        count = f"{len(failed)} jobs failed; the first: " if len(failed) > 1 else ""
        raise CLIError(
            f'{count}"{failed[0].job_name}" failed{where}: {failed[0].error_summary} '
            f"({len(written)} finished outputs written to {args.output})"
        )
    print(f"Wrote {len(written)} files to {args.output}")


def build_parser():
    parser = argparse.ArgumentParser(prog="rodan", description="A Rodan-compatible workflow system for music-document images.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data", help="data folder (database, files, broker); default: the user's data folder")
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", parents=[common], help="start the web app, workers and scheduler on embedded defaults")
    up.add_argument("--host", default=DEFAULT_HOST)
    up.add_argument("--port", type=int, default=DEFAULT_PORT)
    up.add_argument("--workers", type=int, default=1, help="worker processes (each consumes every queue)")
    up.add_argument("--concurrency", type=int, default=2, help="jobs each worker runs at once")
    up.set_defaults(func=cmd_up)

    serve = commands.add_parser("serve", parents=[common], help="serve the web app only")
    serve.add_argument("--host", default=DEFAULT_HOST)
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument("--workers", type=int, default=1, help="server processes (each serves every route)")
    serve.set_defaults(func=cmd_serve)

    worker = commands.add_parser("worker", parents=[common], help="run a Celery worker")
    worker.add_argument("--queue", action="append", help="queue to consume (repeatable); default: every queue")
    worker.add_argument("--concurrency", type=int, help="default: CELERY_WORKER_CONCURRENCY")
    worker.add_argument("--max-tasks-per-child", type=int, help="default: CELERY_WORKER_MAX_TASKS_PER_CHILD")
    worker.add_argument("--name", help="Celery node name")
    worker.set_defaults(func=cmd_worker)

    ping = commands.add_parser("worker-ping", parents=[common], help="check that this host's worker answers")
    ping.add_argument("--queue", action="append", help="the worker's queues, as given to `rodan worker`")
    ping.add_argument("--name", help="Celery node name (default: <queues>@<this host>)")
    ping.add_argument("--timeout", type=float, default=5.0)
    ping.set_defaults(func=cmd_worker_ping)

    scheduler = commands.add_parser("scheduler", parents=[common], help="run the periodic scheduler (the reaper)")
    scheduler.set_defaults(func=cmd_scheduler)

    migrate = commands.add_parser("migrate", parents=[common], help="create or update the database and register jobs")
    migrate.set_defaults(func=cmd_migrate)

    setup = commands.add_parser("setup", parents=[common], help="migrate, create the admin once, collect static files")
    setup.set_defaults(func=cmd_setup)

    jobs = commands.add_parser("jobs", parents=[common], help="list the installed jobs and any unavailable job family")
    jobs.set_defaults(func=cmd_jobs)

    workflows = commands.add_parser("workflows", help="list the workflow library (names `rodan run` takes)")
    workflows.set_defaults(func=cmd_workflows)

    run = commands.add_parser("run", parents=[common], help="run an exported workflow over page files")
    run.add_argument("workflow", help="a workflow exported from Rodan (JSON), or the name of one in the library (`rodan workflows`)")
    run.add_argument("pages", nargs="*", help="page files for the workflow's open input port")
    run.add_argument("-o", "--output", required=True, help="folder for the results")
    run.add_argument("--input", action="append", help="PORT=FILE[,FILE...] for other open input ports")
    run.add_argument(
        "--workers", type=int, default=2, help="jobs at once (embedded broker only): this process and up to N-1 worker processes"
    )
    run.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    run.set_defaults(func=cmd_run)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except CLIError as exc:
        print(f"rodan: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("rodan: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # never a traceback for the user: log it, say where
        from rodan.batch import BatchError

        if isinstance(exc, BatchError):
            print(f"rodan: error: {exc}", file=sys.stderr)
            return 1
        logging.getLogger("rodan.cli").exception("unexpected error")
        print(f"rodan: internal error: {type(exc).__name__}: {exc} (traceback in the data folder's logs/cli.log)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
