"""Every user gets a permanent API token when the user is created (Rodan's rule)."""

from django.conf import settings
from django.db.models.signals import post_save
from rest_framework.authtoken.models import Token


def create_token(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        Token.objects.get_or_create(user=instance)


def connect():
    post_save.connect(create_token, sender=settings.AUTH_USER_MODEL, dispatch_uid="rodan-api-token")
