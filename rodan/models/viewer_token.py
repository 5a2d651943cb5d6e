"""The token that opens resource viewers without a login (Rodan's temporary auth token, §2.5)."""

from django.conf import settings
from django.db import models


class ViewerToken(models.Model):
    """One per user, replaced on each ``resource/<u>/acquire/``: a new acquire invalidates older links."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, related_name="viewer_token", on_delete=models.CASCADE
    )
    key = models.CharField(max_length=64, unique=True)
    expiry = models.DateTimeField()
