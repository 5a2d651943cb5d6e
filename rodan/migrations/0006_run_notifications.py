import django.db.models.deletion
from django.db import migrations, models


def start_at_the_end_of_the_log(apps, schema_editor):
    """An upgraded system mails about what happens from now on, not about the runs its event log still holds."""
    Event = apps.get_model("rodan", "Event")
    NotificationCursor = apps.get_model("rodan", "NotificationCursor")
    newest = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    NotificationCursor.objects.create(pk=1, last_event_id=newest)


class Migration(migrations.Migration):

    dependencies = [
        ("rodan", "0005_viewer_token"),
    ]

    operations = [
        migrations.CreateModel(
            name="NotificationCursor",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("last_event_id", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name="RunNotification",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                (
                    "state",
                    models.CharField(
                        choices=[("finished", "Finished"), ("failed", "Failed"), ("waiting", "Waiting for input")],
                        max_length=16,
                    ),
                ),
                ("period", models.BigIntegerField()),
                (
                    "delivery",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("sending", "Sending"),
                            ("sent", "Sent"),
                            ("skipped", "Skipped"),
                            ("failed", "Failed"),
                        ],
                        db_index=True,
                        default="pending",
                        max_length=16,
                    ),
                ),
                ("tries", models.PositiveIntegerField(default=0)),
                ("sender", models.CharField(blank=True, default="", max_length=255)),
                ("last_error", models.TextField(blank=True, default="")),
                ("created", models.DateTimeField(auto_now_add=True)),
                ("sent_at", models.DateTimeField(blank=True, null=True)),
                (
                    "workflow_run",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="rodan.workflowrun"
                    ),
                ),
            ],
            options={
                "ordering": ["id"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("workflow_run", "state", "period"), name="one_notification_per_run_state"
                    )
                ],
            },
        ),
        migrations.RunPython(start_at_the_end_of_the_log, migrations.RunPython.noop),
    ]
