"""Routes under ``/api/``: ``<plural>/`` for lists, ``<singular>/<uuid>/`` for items (§1 URLs).

Every route also takes a ``.json``/``.html`` suffix. URL names are
``<plural>-list`` and ``<singular>-detail``, which the hyperlinks use.
"""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.urlpatterns import format_suffix_patterns

from rodan.api.views import auth, events, monitoring, projects, registry, resources, root, runs, taskqueue, users, workflows

CRUD_LIST = {"get": "list", "post": "create"}
CRUD_ITEM = {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
READ_LIST = {"get": "list"}
READ_ITEM = {"get": "retrieve"}


def routes(plural, singular, viewset, list_actions=CRUD_LIST, item_actions=CRUD_ITEM, key="uuid"):
    return [
        path(f"{plural}/", viewset.as_view(list_actions), name=f"{plural}-list"),
        path(f"{singular}/<{key}:pk>/", viewset.as_view(item_actions), name=f"{singular}-detail"),
    ]


urlpatterns = [
    path("", root.Root.as_view(), name="api-root"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("resources/archive/", resources.ResourceViewSet.as_view({"get": "archive"}), name="resource-archive"),
    *routes("projects", "project", projects.ProjectViewSet),
    path("project/<uuid:pk>/admins/", projects.ProjectMembersView.as_view(role="admins"), name="project-admins"),
    path("project/<uuid:pk>/workers/", projects.ProjectMembersView.as_view(role="workers"), name="project-workers"),
    path("project/<uuid:pk>/events/", events.project_events, name="project-events"),
    *routes("jobs", "job", registry.JobViewSet, READ_LIST, READ_ITEM),
    *routes("inputporttypes", "inputporttype", registry.InputPortTypeViewSet, READ_LIST, READ_ITEM),
    *routes("outputporttypes", "outputporttype", registry.OutputPortTypeViewSet, READ_LIST, READ_ITEM),
    *routes("resourcetypes", "resourcetype", registry.ResourceTypeViewSet, READ_LIST, READ_ITEM),
    *routes("resources", "resource", resources.ResourceViewSet),
    path(
        "resource/<uuid:pk>/thumbnail/<str:size>/", resources.ResourceThumbnail.as_view(), name="resource-thumbnail"
    ),
    *routes("resourcelists", "resourcelist", resources.ResourceListViewSet),
    *routes("labels", "label", resources.LabelViewSet, READ_LIST),
    *routes("workflows", "workflow", workflows.WorkflowViewSet),
    path(
        "workflow/<uuid:pk>/resourceassignments/",
        workflows.ResourceAssignments.as_view(),
        name="workflow-resourceassignments",
    ),
    *routes("workflowjobs", "workflowjob", workflows.WorkflowJobViewSet),
    *routes("workflowjobgroups", "workflowjobgroup", workflows.WorkflowJobGroupViewSet),
    *routes("inputports", "inputport", workflows.InputPortViewSet),
    *routes("outputports", "outputport", workflows.OutputPortViewSet),
    *routes("connections", "connection", workflows.ConnectionViewSet),
    *routes("workflowruns", "workflowrun", runs.WorkflowRunViewSet),
    *routes("runjobs", "runjob", runs.RunJobViewSet, READ_LIST, READ_ITEM),
    *routes("inputs", "input", runs.InputViewSet, READ_LIST, READ_ITEM),
    *routes("outputs", "output", runs.OutputViewSet, READ_LIST, READ_ITEM),
    *routes(
        "resultspackages", "resultspackage", runs.ResultsPackageViewSet,
        item_actions={"get": "retrieve", "patch": "partial_update", "delete": "destroy"},
    ),
    *routes("users", "user", users.UserViewSet, key="int"),
    *routes("userpreferences", "userpreference", users.UserPreferenceViewSet),
    path("taskqueue/active/", taskqueue.TaskQueue.as_view(command="active"), name="taskqueue-active"),
    path("taskqueue/scheduled/", taskqueue.TaskQueue.as_view(command="scheduled"), name="taskqueue-scheduled"),
    path("taskqueue/status/", taskqueue.TaskQueue.as_view(command="stats"), name="taskqueue-status"),
    path("monitoring/", monitoring.Monitoring.as_view(), name="monitoring"),
    path("auth/token/", auth.TokenLogin.as_view(), name="auth-token"),
    path("auth/me/", auth.Me.as_view(), name="auth-me"),
    path("auth/reset-token/", auth.ResetToken.as_view(), name="auth-reset-token"),
    path("auth/register/", auth.Register.as_view(), name="auth-register"),
    path("auth/activate/", auth.Activate.as_view(), name="auth-activate"),
    path("auth/resend-activation/", auth.ResendActivation.as_view(), name="auth-resend-activation"),
    path("auth/change-password/", auth.ChangePassword.as_view(), name="auth-change-password"),
    path("auth/reset-password/", auth.ResetPassword.as_view(), name="auth-reset-password"),
    path("auth/reset-password/confirm/", auth.ResetPasswordConfirm.as_view(), name="auth-reset-password-confirm"),
]

urlpatterns = format_suffix_patterns(urlpatterns, allowed=["json", "html"])
