from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("rodan", "0002_workflow_resource_assignments")]

    operations = [
        migrations.CreateModel(
            name="Event",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("kind", models.CharField(max_length=32)),
                ("object_uuid", models.UUIDField()),
                ("project_uuid", models.UUIDField(db_index=True)),
                ("status", models.IntegerField(null=True)),
                ("error_summary", models.TextField(blank=True, default="")),
                ("data", models.JSONField(blank=True, default=dict)),
                ("created", models.DateTimeField(auto_now_add=True, db_index=True)),
            ],
            options={"ordering": ["id"]},
        ),
    ]
