"""A PostgreSQL server of the test's own, on a free port, which the test may restart; removed at teardown.

The machine's shared server is never touched: the cluster is made with
``initdb`` in a temporary folder owned by the ``postgres`` user, listens on
127.0.0.1 and its own socket folder, and is stopped even when the test fails.
"""

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from rodan_fixtures import free_port


def _bin(name):
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


class PrivatePostgreSQL:
    def __init__(self):
        self.base = Path(tempfile.mkdtemp(prefix="postgres-test-"))
        self.data = self.base / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/rodan"
        user = pwd.getpwnam("postgres")
        os.chown(self.base, user.pw_uid, user.pw_gid)
        self._as_postgres(_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def _as_postgres(self, *command, timeout=120):
        return subprocess.run(
            ["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True, text=True, timeout=timeout
        )

    def _ctl(self, *args):
        options = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c fsync=off"
        return self._as_postgres(
            _bin("pg_ctl"), "-D", str(self.data), "-l", str(self.base / "server.log"), "-o", options, "-w", *args
        )

    def start(self):
        import psycopg

        self._ctl("start")
        with psycopg.connect(self.url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE rodan")
        return self

    def restart_fast(self):
        """``pg_ctl restart -m fast``: every connection is terminated, the server is back once this returns."""
        self._ctl("restart", "-m", "fast")

    def stop(self):
        if (self.data / "postmaster.pid").exists():
            subprocess.run(
                ["runuser", "-u", "postgres", "--", _bin("pg_ctl"), "-D", str(self.data), "stop", "-m", "immediate", "-w"],
                capture_output=True,
            )
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture
def private_postgresql():
    """Start a private server with an empty ``rodan`` database; returns it (``.url``, ``.restart_fast()``)."""
    if not _bin("initdb") or os.geteuid() != 0:
        pytest.skip("a private PostgreSQL needs initdb and root (to run it as the postgres user)")
    server = PrivatePostgreSQL()
    try:
        yield server.start()
    finally:
        server.stop()
