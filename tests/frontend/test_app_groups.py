"""Job groups in the graph editor, in a real browser: group two jobs (ticked by keyboard, or selected in the
graph), rename the group, see it again after a reload, ungroup, import another workflow as a group; refusals
are sentences.
"""

import pytest
import requests
from api_clients import PASSWORD, make_user
from builders import chain_document, step_settings, valid_workflow
from playwright.sync_api import expect

from rodan.engine.serialization import import_workflow
from rodan.models import Project, Workflow

pytestmark = pytest.mark.services
JSON = {"Accept": "application/json"}


def _groups(server, user, workflow):
    """The workflow's groups as the API lists them (the ORM is not for Playwright's thread)."""
    reply = requests.get(f"{server}/api/workflowjobgroups/?workflow={workflow.uuid}", auth=(user.email, PASSWORD), headers=JSON, timeout=10)
    return reply.json()["results"]


def test_group_rename_reload_and_ungroup(live_server, session):
    user = make_user()
    project = Project.objects.create(name="grouping", creator=user)
    workflow = import_workflow(project, chain_document([step_settings("a"), step_settings("b"), step_settings("c")], name="Three steps"))
    first, second, third = workflow.workflow_jobs.order_by("created")
    for index, wj in enumerate((first, second, third)):
        wj.name = f"Step {index + 1}"
        wj.appearance = {"x": 60 + index * 320, "y": 60 + index * 40}  # side by side, as a user places them
        wj.save()
    ready = valid_workflow(project, chain_document([step_settings("x")]))
    Workflow.objects.filter(pk=ready.pk).update(name="Ready")  # a rename that keeps it valid
    import_workflow(project, chain_document([step_settings("y")]), name="Draft")
    browser = session(live_server)
    page = browser.page
    browser.sign_in(user.email, PASSWORD)
    page.goto(f"{live_server}/workflows/{workflow.uuid}")
    groups = page.get_by_role("region", name="Groups")
    groups.get_by_text("No groups yet.").wait_for()

    # Nothing ticked: a sentence, and nothing made.
    groups.get_by_role("button", name="Group the ticked jobs").click()
    groups.get_by_role("alert").filter(has_text="Tick the jobs to group first").wait_for()

    # Tick two jobs by keyboard, name the group, press Enter.
    for name in ("Step 1", "Step 2"):
        groups.get_by_role("checkbox", name=name).focus()
        page.keyboard.press("Space")
    groups.get_by_label("Group name").fill("Preparation")
    page.keyboard.press("Enter")
    page.locator(".group-outline", has_text="Preparation").wait_for()
    [made] = _groups(live_server, user, workflow)
    names = {requests.get(url, auth=(user.email, PASSWORD), headers=JSON, timeout=10).json()["name"] for url in made["workflow_jobs"]}
    assert made["name"] == "Preparation" and names == {"Step 1", "Step 2"}
    assert page.locator(".react-flow__node", has_text="In group “Preparation”").count() == 2
    # Only the job left out can still be ticked.
    assert groups.get_by_role("checkbox").count() == 1 and groups.get_by_role("checkbox", name="Step 3").count() == 1
    browser.shot("31-editor-group")
    assert browser.axe() == []

    # Rename, then reload: the group is still there under its new name.
    row = groups.get_by_role("listitem").filter(has_text="Step 1, Step 2")
    row.get_by_label("Name of group “Preparation”").fill("Cleaning")
    row.get_by_role("button", name="Rename").click()
    page.locator(".group-outline", has_text="Cleaning").wait_for()
    page.reload()
    page.locator(".group-outline", has_text="Cleaning").wait_for()
    assert page.locator(".react-flow__node", has_text="In group “Cleaning”").count() == 2
    assert [g["name"] for g in _groups(live_server, user, workflow)] == ["Cleaning"]

    # Ungroup: the group is gone, its jobs stay.
    groups.get_by_role("button", name="Ungroup “Cleaning”").click()
    groups.get_by_text("No groups yet.").wait_for()
    assert page.locator(".group-outline").count() == 0
    assert _groups(live_server, user, workflow) == []
    detail = requests.get(f"{live_server}/api/workflow/{workflow.uuid}/", auth=(user.email, PASSWORD), headers=JSON, timeout=10).json()
    assert len(detail["workflow_jobs"]) == 3 and all(wj["group"] is None for wj in detail["workflow_jobs"])

    # Jobs selected in the graph (click, then Ctrl and click) are the ones ticked for the next group.
    page.locator(".react-flow__node", has_text="Step 2").click()
    expect(groups.get_by_role("checkbox", name="Step 2")).to_be_checked()
    page.locator(".react-flow__node", has_text="Step 3").click(modifiers=["Control"])
    expect(groups.get_by_role("checkbox", name="Step 2")).to_be_checked()
    expect(groups.get_by_role("checkbox", name="Step 3")).to_be_checked()
    expect(groups.get_by_role("checkbox", name="Step 1")).not_to_be_checked()

    # Another workflow imported as a group: only a valid one; the refusal is a sentence.
    origin = groups.get_by_label("Import another workflow as a group")
    origin.select_option(label="Draft (not validated)")
    groups.get_by_role("button", name="Import as a group").click()
    groups.get_by_role("alert").filter(has_text="Origin workflow must be valid.").wait_for()
    origin.select_option(label="Ready")
    groups.get_by_role("button", name="Import as a group").click()
    page.locator(".group-outline", has_text="From Workflow Ready").wait_for()
    [imported] = _groups(live_server, user, workflow)
    assert imported["name"] == "From Workflow Ready" and len(imported["workflow_jobs"]) == 1 and imported["origin"]
    expect(page.locator(".react-flow__node")).to_have_count(4)
    assert browser.errors == [], browser.errors
