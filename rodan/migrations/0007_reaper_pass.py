from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("rodan", "0006_run_notifications"),
    ]

    operations = [
        migrations.CreateModel(
            name="ReaperPass",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("created", models.DateTimeField(auto_now_add=True, db_index=True)),
                ("actions", models.JSONField(default=dict)),
            ],
            options={"ordering": ["-id"]},
        ),
    ]
