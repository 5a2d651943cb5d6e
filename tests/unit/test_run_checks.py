"""Run creation's checks live in the engine; the REST API reports them unchanged."""

import pytest
from api_clients import client_for

from rodan.engine.expansion import check_runnable
from rodan.engine.validation import validate_workflow
from rodan.models import Workflow, WorkflowRun

STEP = "Test - Text step"


def test_only_a_valid_workflow_runs(wfb):
    wfb.chain(1)
    with pytest.raises(ValueError, match="Workflow must be valid before you can run it."):
        check_runnable(wfb.workflow)
    validate_workflow(wfb.workflow)
    check_runnable(Workflow.objects.get(pk=wfb.workflow.pk))


@pytest.mark.parametrize("value", [[], "x", 3])
def test_assignments_that_are_not_an_object_are_reported_by_the_engine(wfb, value):
    wfb.chain(1)
    validate_workflow(wfb.workflow)
    client = client_for(wfb.project.creator)
    workflow_url = f"http://testserver/api/workflow/{wfb.workflow.pk}/"
    response = client.post(
        "/api/workflowruns/", {"workflow": workflow_url, "resource_assignments": value}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"resource_assignments": ["This field must be a JSON object"]}
    assert not WorkflowRun.objects.filter(workflow=wfb.workflow).exists()


def test_an_invalid_workflow_is_refused_on_the_workflow_field(wfb):
    wfb.chain(1)
    client = client_for(wfb.project.creator)
    response = client.post(
        "/api/workflowruns/",
        {"workflow": f"/api/workflow/{wfb.workflow.pk}/", "resource_assignments": {"x": []}},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"workflow": ["Workflow must be valid before you can run it."]}
