"""The web app as an ASGI application, served by uvicorn (``rodan serve``).

Django's ASGI handler gives every request a thread of its own for its
synchronous parts, kept until the response ends; for an event stream open
for minutes that is one idle thread per browser tab. Views marked
``long_lived`` (the event stream) are handled without that per-request
thread: their few synchronous middleware steps take turns on one shared
thread, and their database work runs in pooled threads for a moment.

Each request opens its own database connection and closes it at its end
(Django's advice under ASGI, where request threads do not live on), unless
``DATABASE_CONN_MAX_AGE`` says otherwise.
"""

import os

from django.core.handlers.asgi import ASGIHandler
from django.urls import Resolver404, resolve


class Application(ASGIHandler):
    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and _long_lived(scope["path"]):
            await self.handle(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def _long_lived(path):
    try:
        return getattr(resolve(path).func, "long_lived", False)
    except Resolver404:
        return False


def create_application():
    """The application (a factory: ``uvicorn --factory rodan.asgi:create_application``)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rodan.settings")
    os.environ.setdefault("DATABASE_CONN_MAX_AGE", "0")
    import django

    django.setup(set_prefix=False)
    return Application()
