"""Project visibility and rights (rodan.permissions), the one rule every route uses."""

import pytest
from api_clients import make_user
from builders import make_project
from django.contrib.auth.models import AnonymousUser

from rodan.models import Project, Resource, Workflow
from rodan.permissions import can_view_project, is_project_admin, is_project_owner, scope, visible_projects


@pytest.fixture
def world():
    project = make_project()
    admin, worker, outsider = make_user(), make_user(), make_user()
    project.admins.add(admin)
    project.workers.add(worker)
    superuser = make_user(is_superuser=True)
    return {
        "project": project, "creator": project.creator, "admin": admin, "worker": worker,
        "outsider": outsider, "superuser": superuser, "anonymous": AnonymousUser(),
    }


@pytest.mark.parametrize(
    "role, sees, admin, owner",
    [
        ("creator", True, True, True),
        ("admin", True, True, False),
        ("worker", True, False, False),
        ("superuser", True, True, True),
        ("outsider", False, False, False),
        ("anonymous", False, False, False),
    ],
)
def test_rights_by_role(world, role, sees, admin, owner):
    user, project = world[role], world["project"]
    assert can_view_project(user, project) is sees
    assert visible_projects(user).filter(pk=project.pk).exists() is sees
    assert is_project_admin(user, project) is admin
    assert is_project_owner(user, project) is owner


def test_none_sees_nothing(world):
    assert not visible_projects(None).exists()
    assert can_view_project(None, world["project"]) is False


def test_a_member_of_several_roles_sees_the_project_once(world):
    world["project"].workers.add(world["admin"])
    assert list(visible_projects(world["admin"])) == [world["project"]]


def test_scope_narrows_children_through_their_project_path(world):
    project = world["project"]
    workflow = Workflow.objects.create(project=project, name="w")
    other = Workflow.objects.create(project=make_project(), name="elsewhere")
    both = Workflow.objects.filter(pk__in=[workflow.pk, other.pk])
    assert list(scope(both, "project", world["worker"])) == [workflow]
    assert not scope(both, "project", world["outsider"]).exists()
    assert scope(both, "project", world["superuser"]).count() == 2
    assert list(scope(Project.objects.filter(pk=project.pk), "", world["admin"])) == [project]
    assert not scope(Resource.objects.all(), "project", world["anonymous"]).exists()
