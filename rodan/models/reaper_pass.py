"""What the reaper did: one row per pass that changed something, for the admins' monitoring page.

Only the newest ``KEPT`` rows stay: the log answers "what has the safety net
been doing lately", not "what did it do last year" (the process log has that).
"""

from django.db import models

KEPT = 200


class ReaperPass(models.Model):
    id = models.BigAutoField(primary_key=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    #: What the pass did, by kind, e.g. ``{"redispatched": 2, "scheduled": 5}``; kinds it did nothing of are left out.
    actions = models.JSONField(default=dict)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"reaper pass #{self.id}: {self.actions}"

    @classmethod
    def record(cls, counts):
        """Keep what a pass did (if anything), and forget passes beyond the newest ``KEPT``."""
        actions = {kind: count for kind, count in counts.items() if count}
        if not actions:
            return None
        row = cls.objects.create(actions=actions)
        cls.objects.filter(id__lte=row.id - KEPT).delete()
        return row
