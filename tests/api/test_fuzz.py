"""A property-based fuzzer (schemathesis) against a live server: no 5xx, and every answer as documented.

The fuzzer reads the OpenAPI schema at ``/api/schema/`` and sends 50
generated requests per operation (plus its boundary-value "coverage" cases),
with a fixed seed so a failure replays, as a logged-in user who owns a
project with one object of each kind: the routes that name an object get
that one, so their 200 bodies are checked too and not only their 404s. Each
response must be no server error, carry a documented status code and
content type, and match the documented body.

The DELETE operations run last, in a second pass: schemathesis reuses ids
it has seen in responses, and a deleted project would leave the other routes
only 404s (and races with the requests in flight). The event stream (a
response that lasts minutes by design) and the routes that log the user
out, change the password or delete the user are left out, so the run keeps
its credentials.

Only on the services backend: no worker takes part (the run's RunJobs stay
scheduled), so on the embedded backend it would test the same HTTP layer
again for another five minutes.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from api_clients import make_user
from builders import chain_document, run_over, step_settings, upload, valid_workflow

from rodan.api.serializers.resources import apply_label_names
from rodan.models import (
    Connection,
    InputPortType,
    Job,
    OutputPortType,
    Project,
    ResourceList,
    ResourceType,
    ResultsPackage,
    UserPreference,
    WorkflowJobGroup,
)

# About 11,000 requests: 3.5 to 5 minutes on two shared cores, hence a timeout above pytest's 300 s.
pytestmark = [pytest.mark.services, pytest.mark.timeout(900)]

MAX_EXAMPLES = 50
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
EXCLUDED = r"/events/$|/auth/reset-token/$|/auth/change-password/$"


def objects_by_path(user):
    """One object of each kind, by the schema path that names it."""
    project = Project.objects.create(name="fuzzed", creator=user)
    project.admins.add(user)
    resource = upload(project, "some text")
    apply_label_names(resource, "fuzzed")
    resource_list = ResourceList.objects.create(name="l", project=project, creator=user)
    workflow = valid_workflow(project, chain_document([step_settings("a"), step_settings("b")]))
    connection = Connection.objects.get(input_port__workflow_job__workflow=workflow)
    workflow_job = connection.input_port.workflow_job
    run = run_over(workflow, [resource])
    run_job = run.run_jobs.first()
    return {
        "/api/project/{uuid}/": project,
        "/api/project/{id}/admins/": project,
        "/api/project/{id}/workers/": project,
        "/api/resource/{uuid}/": resource,
        "/api/label/{uuid}/": resource.labels.get(),
        "/api/resourcelist/{uuid}/": resource_list,
        "/api/workflow/{uuid}/": workflow,
        "/api/workflow/{id}/resourceassignments/": workflow,
        "/api/workflowjob/{uuid}/": workflow_job,
        "/api/workflowjobgroup/{uuid}/": WorkflowJobGroup.objects.create(name="g", workflow=workflow),
        "/api/inputport/{uuid}/": connection.input_port,
        "/api/outputport/{uuid}/": connection.output_port,
        "/api/connection/{uuid}/": connection,
        "/api/workflowrun/{uuid}/": run,
        "/api/runjob/{uuid}/": run_job,
        "/api/input/{uuid}/": run_job.inputs.first(),
        "/api/output/{uuid}/": run_job.outputs.first(),
        "/api/resultspackage/{uuid}/": ResultsPackage.objects.create(workflow_run=run, creator=user),
        "/api/job/{uuid}/": Job.objects.first(),
        "/api/resourcetype/{uuid}/": ResourceType.objects.first(),
        "/api/inputporttype/{uuid}/": InputPortType.objects.first(),
        "/api/outputporttype/{uuid}/": OutputPortType.objects.first(),
        "/api/user/{id}/": user,
        "/api/userpreference/{id}/": UserPreference.objects.create(user=user),
    }


def config_naming(objects):
    """A schemathesis config that gives each path's parameter its object's id (TOML strings are JSON strings)."""
    blocks = []
    for path, obj in objects.items():
        (name,) = re.findall(r"{(\w+)}", path)
        operations = [f"{method} {path}" for method in ("GET", "PUT", "PATCH")]
        blocks.append(
            f"[[operations]]\ninclude-name = {json.dumps(operations)}\n"
            f"parameters = {{ {name} = {json.dumps(str(obj.pk))} }}\n"
        )
    return "\n".join(blocks)


def test_fuzzer_finds_no_server_error_and_no_undocumented_answer(live_server, tmp_path):
    user = make_user()
    config = tmp_path / "schemathesis.toml"
    config.write_text(config_naming(objects_by_path(user)))
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file", str(config),
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
    for methods in (["--exclude-method", "DELETE"], ["--include-method", "DELETE"]):
        result = subprocess.run(command + methods, capture_output=True, text=True, timeout=780, cwd=tmp_path)
        assert result.returncode == 0, result.stdout[-12000:] + result.stderr[-2000:]
    me = requests.get(f"{live_server}/api/auth/me/", headers={"Authorization": f"Token {user.auth_token.key}"}, timeout=10)
    assert me.status_code == 200, "the fuzzer lost its credentials, so it tested little"
