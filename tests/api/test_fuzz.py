"""A property-based fuzzer (schemathesis) against a live server: no 5xx, and every answer as documented.

The fuzzer reads the OpenAPI schema at ``/api/schema/`` and sends 50
generated requests per operation (plus its boundary-value "coverage" cases),
with a fixed seed so a failure replays, as a logged-in user who owns a
project with a resource and a workflow. Each response must be no server
error, carry a documented status code and content type, and match the
documented body. The event stream (a response that lasts minutes by design)
and the routes that log the user out, change the password or delete the user
are left out, so the run keeps its credentials.

Only on the services backend: nothing here reaches a worker (no run can
start from the empty workflow), so the embedded backend would repeat the same
HTTP layer for another five minutes.
"""

import subprocess
import sys
from pathlib import Path

import pytest
import requests
from api_clients import make_user
from builders import upload

from rodan.models import Project, Workflow

# About 13,000 requests; five minutes on two shared cores, hence a timeout above pytest's 300 s.
pytestmark = [pytest.mark.services, pytest.mark.timeout(900)]

MAX_EXAMPLES = 50
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
EXCLUDED = r"/events/$|/auth/reset-token/$|/auth/change-password/$"


def test_fuzzer_finds_no_server_error_and_no_undocumented_answer(live_server, tmp_path):
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
        "--checks", CHECKS,
        "--max-examples", str(MAX_EXAMPLES),
        "--seed", "1",
        "--workers", "2",
        "--phases", "examples,coverage,fuzzing",
        "--generation-database", "none",
        "--request-timeout", "30",
        "--header", f"Authorization: Token {user.auth_token.key}",
        "--header", "Accept: application/json",
        "--exclude-path-regex", EXCLUDED,
        "--exclude-operation-id", "user_destroy",
        "--no-color",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=840, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-12000:] + result.stderr[-2000:]
    me = requests.get(f"{live_server}/api/auth/me/", headers={"Authorization": f"Token {user.auth_token.key}"}, timeout=10)
    assert me.status_code == 200, "the fuzzer lost its credentials, so it tested little"
