"""Projects group a team's resources, workflows and runs; users' preferences."""

import uuid

from django.conf import settings
from django.db import models

from rodan.models.base import RodanModel


class Project(RodanModel):
    name = models.CharField(max_length=255)
    description = models.TextField(blank=True, null=True)
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="created_projects", null=True, on_delete=models.SET_NULL
    )
    admins = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="admin_projects", blank=True)
    workers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="worker_projects", blank=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return self.name


class UserPreference(models.Model):
    uuid = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, related_name="user_preference", on_delete=models.CASCADE)
    send_email = models.BooleanField(default=True)
