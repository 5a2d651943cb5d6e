"""scripts/wait-for-app, run as the container runs it."""

import http.server
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

SCRIPT = str(Path(__file__).resolve().parents[2] / "scripts" / "wait-for-app")


def _run(*args, timeout=30):
    return subprocess.run([SCRIPT, *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def listening():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    yield f"127.0.0.1:{server.getsockname()[1]}"
    server.close()


@pytest.fixture
def closed_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"127.0.0.1:{port}"


@pytest.fixture
def health_server():
    """An HTTP server whose /ok answers 200 and /broken 500."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the stdlib's name
            self.send_response(200 if self.path == "/ok" else 500)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_returns_and_execs_the_command_once_everything_answers(listening, health_server):
    result = _run("-t", "5", "-u", f"{health_server}/ok", listening, "--", "echo", "started")
    assert result.returncode == 0
    assert result.stdout == "started\n"
    assert f"{listening} is up" in result.stderr and "is healthy" in result.stderr


def test_times_out_with_a_clear_message_on_a_closed_port(closed_port):
    started = time.monotonic()
    result = _run("-t", "2", closed_port, "--", "echo", "never")
    assert result.returncode == 1 and result.stdout == ""
    assert f"wait-for-app: {closed_port} did not answer within 2s" in result.stderr
    assert time.monotonic() - started < 15


def test_waits_for_a_port_that_opens_later(closed_port):
    host, port = closed_port.split(":")
    process = subprocess.Popen([SCRIPT, "-t", "20", closed_port], stderr=subprocess.PIPE, text=True)
    time.sleep(2)
    server = socket.socket()
    server.bind((host, int(port)))
    server.listen()
    try:
        assert process.wait(timeout=20) == 0
    finally:
        server.close()


def test_an_unhealthy_url_times_out(health_server):
    result = _run("-t", "2", "-u", f"{health_server}/broken")
    assert result.returncode == 1
    assert "was not healthy within 2s" in result.stderr


@pytest.mark.parametrize("args", [[], ["nohostport"], ["-t", "soon", "127.0.0.1:1"], ["--bogus", "127.0.0.1:1"]])
def test_bad_usage_exits_2_with_usage(args):
    result = _run(*args)
    assert result.returncode == 2
    assert "usage: wait-for-app" in result.stderr
