"""The event log: one row per state change, in the transaction that made it.

Streams read it from a cursor (the event id, which only grows), so a client
that reconnects with ``Last-Event-ID`` misses nothing and hears nothing
twice. Rows are pruned by the periodic work after ``RODAN_EVENT_RETENTION``.
"""

from django.db import models


class Event(models.Model):
    id = models.BigAutoField(primary_key=True)
    #: ``runjob``, ``workflowrun``, ``resource`` or ``resultspackage``: the SSE event name.
    kind = models.CharField(max_length=32)
    object_uuid = models.UUIDField()
    #: Not a foreign key: events outlive deleted objects and never block deleting them.
    project_uuid = models.UUIDField(db_index=True)
    status = models.IntegerField(null=True)
    error_summary = models.TextField(blank=True, default="")
    #: What a client needs besides the status, e.g. a RunJob's run and job name.
    data = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"#{self.id} {self.kind} {self.object_uuid.hex[:8]} -> {self.status}"
