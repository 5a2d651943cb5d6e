"""Mail to a run's creator when the run finishes, fails or waits for input (``rodan.notifications``).

The notifier reads the event log from a cursor and turns the events that
concern a run's creator into ``RunNotification`` rows; the unique key makes
two notifiers reading the same events create one row, and a row's delivery
state, claimed in a transaction before its mail goes out, makes one mail.
"""

from django.db import models


class NotificationCursor(models.Model):
    """How far the event log has been turned into notifications (one row; every event up to it is done)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_event_id = models.BigIntegerField(default=0)


class RunNotification(models.Model):
    class State(models.TextChoices):
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"
        WAITING_FOR_INPUT = "waiting", "Waiting for input"

    class Delivery(models.TextChoices):
        PENDING = "pending"
        #: Claimed by ``sender`` and being handed to the mail server; never sent again from here.
        SENDING = "sending"
        SENT = "sent"
        #: Nobody to tell: the creator is gone, has no address, or turned ``send_email`` off.
        SKIPPED = "skipped"
        #: The mail server refused it for good (or kept refusing it).
        FAILED = "failed"

    id = models.BigAutoField(primary_key=True)
    workflow_run = models.ForeignKey("rodan.WorkflowRun", related_name="+", on_delete=models.CASCADE)
    state = models.CharField(max_length=16, choices=State.choices)
    #: The event that made a finished or failed run so, or, for waiting, the run's last status event
    #: before it: a run that waits on many pages between two status changes is one notification.
    period = models.BigIntegerField()
    delivery = models.CharField(max_length=16, choices=Delivery.choices, default=Delivery.PENDING, db_index=True)
    #: Times it was handed to the mail server.
    tries = models.PositiveIntegerField(default=0)
    #: ``host:pid`` of the scheduler sending it.
    sender = models.CharField(max_length=255, blank=True, default="")
    last_error = models.TextField(blank=True, default="")
    created = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["workflow_run", "state", "period"], name="one_notification_per_run_state"),
        ]

    def __str__(self):
        return f"run {self.workflow_run_id.hex[:8]} {self.state} ({self.delivery})"
