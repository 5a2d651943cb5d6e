from django.apps import AppConfig


class RodanConfig(AppConfig):
    name = "rodan"
    verbose_name = "Rodan"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Registering jobs is explicit and idempotent: it runs after ``migrate``.
        from django.db.models.signals import post_migrate

        from rodan import tiles
        from rodan.api import signals
        from rodan.jobs.registry import register_after_migrate

        post_migrate.connect(register_after_migrate, sender=self)
        signals.connect()
        tiles.connect()
