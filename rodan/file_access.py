"""Who may read a file under ``/uploads/``: the members of its project, or the holder of a signed link.

Rodan serves resource files and results packages to anyone who has the URL;
our users include libraries with unpublished manuscripts, so we do not. A
request may read a file when it carries the credentials of a user who may see
the file's project (the ``Authorization: Token`` header, or the ``token``
cookie that Rodan's client keeps), or when its ``signature`` query parameter
signs the file's path. The API puts signatures on every file link it hands out
(``resource_file``, ``package_url``, the interactive jobs' ``/uploads`` links),
valid ``RODAN_FILE_LINK_SECONDS``, so ``<img>`` tags, downloads and clients
that send no header keep working for whoever was given the link.
"""

import posixpath
from uuid import UUID

from django.conf import settings
from django.core import signing

SALT = "rodan.file_access"
PARAMETER = "signature"


def normalized(path):
    """The path relative to MEDIA_ROOT with ``.``, ``..`` and doubled slashes resolved; None if it leaves it."""
    relative = posixpath.normpath("/" + path).lstrip("/")
    return relative if relative and relative != "." and not relative.startswith("..") else None


def signature(relative):
    """The signature of one file path, with the time it was made (the part after the path)."""
    return signing.TimestampSigner(salt=SALT).sign(normalized(relative)).split(":", 1)[1]


def link(relative):
    """``/uploads/<relative>?signature=...``: the path as Rodan writes it, readable by whoever holds the link."""
    return f"{settings.MEDIA_URL}{relative}?{PARAMETER}={signature(relative)}"


def link_is_valid(relative, given):
    """Whether ``given`` signs ``relative`` and is younger than RODAN_FILE_LINK_SECONDS."""
    try:
        signing.TimestampSigner(salt=SALT).unsign(f"{relative}:{given}", max_age=settings.RODAN_FILE_LINK_SECONDS)
    except signing.BadSignature:  # SignatureExpired is one
        return False
    return True


def project_of(relative):
    """The uuid of the project a stored file belongs to, or None for a path that is no project's file.

    Resource files (and what is derived from them) live under
    ``projects/<project hex>/``; results packages are ``results_packages/<package hex>.zip``.
    """
    from rodan.models import ResultsPackage

    parts = relative.split("/")
    try:
        if parts[0] == "projects" and len(parts) > 2:
            return UUID(parts[1])
        if parts[0] == "results_packages" and len(parts) == 2 and parts[1].endswith(".zip"):
            package = UUID(parts[1][: -len(".zip")])
            return ResultsPackage.objects.filter(pk=package).values_list("workflow_run__project", flat=True).first()
    except ValueError:
        return None
    return None
