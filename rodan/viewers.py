"""Resource viewers (rodan-compat.md §2.5): which resources have one, and the token that opens it.

A viewer page needs no login, as in Rodan: ``resource/<u>/acquire/`` gives
the user a fresh token (one per user, replacing the last, lasting
``RODAN_WORKING_USER_EXPIRY``), and the working URL holding it opens the
viewer. The token only ever shows what its user may see (the views check
``rodan.permissions``).
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from rodan.models import ViewerToken

MEI = "application/mei+xml"


def has_viewer(resource):
    """Images (the deep-zoom viewer) and MEI (Neon's, served by a later issue)."""
    mimetype = resource.resource_type.mimetype
    return mimetype.startswith("image/") or mimetype == MEI


def issue_token(user):
    """A new token for ``user``, replacing the previous one."""
    token, _ = ViewerToken.objects.update_or_create(
        user=user,
        defaults={
            "key": secrets.token_hex(16),
            "expiry": timezone.now() + timedelta(seconds=settings.RODAN_WORKING_USER_EXPIRY),
        },
    )
    return token


def token_user(key):
    """The user whose current token is ``key``, or None for a wrong or expired one."""
    token = ViewerToken.objects.select_related("user").filter(key=key, expiry__gt=timezone.now()).first()
    return token.user if token else None
