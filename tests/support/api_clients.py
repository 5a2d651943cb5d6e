"""An API client per user, and users with known passwords, for the API tests."""

import uuid

from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

PASSWORD = "pw"


def make_user(**extra):
    tag = uuid.uuid4().hex[:10]
    return get_user_model().objects.create_user(f"u{tag}", f"{tag}@example.org", PASSWORD, **extra)


def client_for(user=None):
    """A JSON client logged in with ``user``'s token (anonymous without a user)."""
    client = APIClient(HTTP_ACCEPT="application/json")
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {user.auth_token.key}")
    return client
