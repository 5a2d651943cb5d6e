"""The domain model (rodan-compat.md §1-3, §6), one module per concept."""

from rodan.models.event import Event
from rodan.models.job import InputPortType, Job, OutputPortType, ResourceType
from rodan.models.notification import NotificationCursor, RunNotification
from rodan.models.project import Project, UserPreference
from rodan.models.reaper_pass import ReaperPass
from rodan.models.resource import Label, Resource, ResourceList, ResourceListMembership
from rodan.models.run import Input, Output, ResultsPackage, RunJob, WorkflowRun
from rodan.models.status import RunJobStatus, RunStatus
from rodan.models.viewer_token import ViewerToken
from rodan.models.workflow import Connection, InputPort, OutputPort, Workflow, WorkflowJob, WorkflowJobGroup

__all__ = [
    "Connection",
    "Event",
    "Input",
    "InputPort",
    "InputPortType",
    "Job",
    "Label",
    "NotificationCursor",
    "Output",
    "OutputPort",
    "OutputPortType",
    "Project",
    "ReaperPass",
    "Resource",
    "ResourceList",
    "ResourceListMembership",
    "ResourceType",
    "ResultsPackage",
    "RunJob",
    "RunJobStatus",
    "RunNotification",
    "RunStatus",
    "UserPreference",
    "ViewerToken",
    "Workflow",
    "WorkflowJob",
    "WorkflowJobGroup",
    "WorkflowRun",
]
