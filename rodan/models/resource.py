"""Resources (files with a type), ordered resource lists, and labels."""

import uuid

from django.conf import settings
from django.db import models

from rodan.models.base import RodanModel


class Label(models.Model):
    uuid = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=36, unique=True)

    def __str__(self):
        return self.name


class Resource(RodanModel):
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, null=True)
    project = models.ForeignKey("rodan.Project", related_name="resources", on_delete=models.CASCADE)
    resource_type = models.ForeignKey("rodan.ResourceType", related_name="resources", on_delete=models.PROTECT)
    #: Path of the file relative to MEDIA_ROOT; empty until the file is in place.
    resource_file = models.CharField(max_length=512, blank=True, default="")
    creator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    origin = models.ForeignKey(
        "rodan.Output", related_name="+", null=True, blank=True, on_delete=models.SET_NULL
    )
    labels = models.ManyToManyField(Label, related_name="resources", blank=True)
    processing_status = models.IntegerField(null=True, blank=True)
    error_summary = models.TextField(blank=True, default="")
    error_details = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return self.name

    @property
    def is_ready(self):
        return bool(self.resource_file)


class ResourceList(RodanModel):
    name = models.CharField(max_length=255, blank=True, default="")
    description = models.TextField(blank=True, null=True)
    project = models.ForeignKey("rodan.Project", related_name="resourcelists", on_delete=models.CASCADE)
    resources = models.ManyToManyField(Resource, through="ResourceListMembership", related_name="resource_lists")
    #: The type of an empty output list, fixed when the run is created.
    declared_type = models.ForeignKey(
        "rodan.ResourceType", null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )
    creator = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    origin = models.ForeignKey(
        "rodan.Output", related_name="+", null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["-created"]

    def ordered_resources(self):
        return [m.resource for m in self.memberships.select_related("resource", "resource__resource_type")]

    @property
    def resource_type(self):
        """The list's own type, else its first member's (Rodan's rule)."""
        if self.declared_type_id:
            return self.declared_type
        first = self.memberships.select_related("resource__resource_type").first()
        return first.resource.resource_type if first else None


class ResourceListMembership(models.Model):
    resource_list = models.ForeignKey(ResourceList, related_name="memberships", on_delete=models.CASCADE)
    resource = models.ForeignKey(Resource, related_name="+", on_delete=models.CASCADE)
    order = models.PositiveIntegerField()

    class Meta:
        ordering = ["order"]
