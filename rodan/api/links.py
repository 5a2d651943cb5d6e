"""Resolving hyperlinks found inside JSON values (resource assignments), within the user's projects."""

from urllib.parse import urlparse

from django.urls import Resolver404, resolve

from rodan.permissions import scope
from rodan.models import InputPort, Resource, ResourceList

#: The objects an assignment may name, by the URL name of their detail route.
LINKABLE = {
    "inputport-detail": (InputPort, "workflow_job__workflow__project"),
    "resource-detail": (Resource, "project"),
    "resourcelist-detail": (ResourceList, "project"),
}


def resolve_link(url, user, kinds):
    """The object a hyperlink names, among the user's projects; ValueError with DRF's message."""
    try:
        match = resolve(urlparse(str(url)).path)
    except Resolver404:
        raise ValueError("Invalid hyperlink - No URL match.") from None
    if match.url_name not in kinds:
        raise ValueError("Invalid hyperlink - Incorrect URL match.")
    model, project_path = LINKABLE[match.url_name]
    found = scope(model.objects.filter(pk=match.kwargs.get("pk")), project_path, user).first()
    if found is None:
        raise ValueError("Invalid hyperlink - Object does not exist.")
    return found
