"""A property-based fuzzer (schemathesis) against a live server: no input gives a 5xx.

The fuzzer reads the OpenAPI schema at ``/api/schema/`` and sends a bounded
number of generated requests per operation, as a logged-in user who owns a
project with a resource and a workflow. The event stream (a response that
lasts minutes by design) and the routes that log the user out, change the
password or delete the user are left out, so the run keeps its credentials.
"""

import subprocess
import sys
from pathlib import Path

import pytest
import requests
from api_clients import make_user
from builders import upload

from rodan.models import Project, Workflow

pytestmark = pytest.mark.engine

MAX_EXAMPLES = 3
EXCLUDED = r"/events/$|/auth/reset-token/$|/auth/change-password/$"


def test_fuzzer_finds_no_server_error(live_server, tmp_path):
    user = make_user()
    project = Project.objects.create(name="fuzzed", creator=user)
    project.admins.add(user)
    upload(project, "some text")
    Workflow.objects.create(name="w", project=project, creator=user)
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        f"{live_server}/api/schema/?format=json",
        "--url", f"{live_server}",
        "--checks", "not_a_server_error",
        "--max-examples", str(MAX_EXAMPLES),
        "--seed", "1",
        "--workers", "1",
        "--phases", "examples,coverage,fuzzing",
        "--generation-database", "none",
        "--request-timeout", "30",
        "--header", f"Authorization: Token {user.auth_token.key}",
        "--header", "Accept: application/json",
        "--exclude-path-regex", EXCLUDED,
        "--exclude-operation-id", "user_destroy",
        "--no-color",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-12000:] + result.stderr[-2000:]
    me = requests.get(f"{live_server}/api/auth/me/", headers={"Authorization": f"Token {user.auth_token.key}"}, timeout=10)
    assert me.status_code == 200, "the fuzzer lost its credentials, so it tested little"
