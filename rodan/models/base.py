"""Fields every Rodan object shares: a UUID key and creation/update times."""

import uuid

from django.db import models


class RodanModel(models.Model):
    uuid = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    @property
    def hex(self):
        """The 32-hex-digit id Rodan embeds in paths and ``resource_uuid``."""
        return self.uuid.hex
