"""Job rows carry the job class's own time limits (set by registration, read by dispatch)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("rodan", "0003_event")]

    operations = [
        migrations.AddField(
            model_name="job",
            name="soft_time_limit",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="job",
            name="time_limit",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
    ]
