"""Turning uploaded files into Resources: size limit, atomic storage, type identification.

Each file becomes a Resource named after the file without its extension. A
claimed type other than octet-stream is used as given (Rodan's rule);
otherwise the content decides (``rodan.identify``). Rodan identifies
asynchronously; reading a file's first bytes is cheap, so it happens here,
and a resource appears already identified (``processing_status`` null).
"""

from pathlib import PurePath

from django.conf import settings
from django.db import transaction

from rodan import storage, tiles
from rodan.engine import events
from rodan.identify import identify
from rodan.models import Resource, ResourceType
from rodan.resource_types import OCTET_STREAM


class UploadError(ValueError):
    """An upload that cannot be accepted; nothing was stored."""


class _Limited:
    """Iterates a file's chunks, refusing it as soon as it passes the size limit."""

    def __init__(self, chunks, name, limit):
        self.chunks, self.name, self.limit = chunks, name, limit

    def __iter__(self):
        size = 0
        for chunk in self.chunks:
            size += len(chunk)
            if size > self.limit:
                raise UploadError(
                    f"{self.name} is larger than the upload limit of {self.limit // (1024 * 1024)} MiB "
                    "(RODAN_MAX_UPLOAD_BYTES)"
                )
            yield chunk


def create_resources(project, files, creator=None, claimed_type=None, each=None):
    """Store uploaded files as new Resources of ``project``: all of them, or none.

    ``files`` holds (file name, chunks) pairs, chunks being an iterable of
    bytes (a Django UploadedFile's ``chunks()``, or a local file read in
    blocks). Everything happens in one transaction, with ``each`` called on
    every new resource (the API sets labels there); if anything fails, the
    files already stored are removed and the error is raised (UploadError for
    a refused file): no row, no file is left. Events are recorded last, so the
    transaction holds back the event log only for a moment.
    """
    types = {t.mimetype: t for t in ResourceType.objects.all()}
    if claimed_type and claimed_type not in types:
        raise UploadError(f"unknown resource type {claimed_type}")
    created = []
    try:
        with transaction.atomic():
            for name, chunks in files:
                resource = Resource(name=PurePath(name).stem or name, project=project, creator=creator)
                created.append(resource)
                storage.store_stream(resource, _Limited(chunks, name, settings.DATA_UPLOAD_MAX_MEMORY_SIZE))
                if claimed_type and claimed_type != OCTET_STREAM:
                    mimetype = claimed_type
                else:
                    mimetype = identify(storage.absolute_path(resource))
                resource.resource_type = types.get(mimetype, types[OCTET_STREAM])
                resource.save()
                if each is not None:
                    each(resource)
            for resource in created:
                events.record_resource(resource)
                tiles.after_write(resource)
    except BaseException:
        for resource in created:
            storage.remove_folder(storage.resource_folder(resource))
        raise
    return created


def create_resource(project, name, chunks, creator=None, claimed_type=None):
    """Store one uploaded file as a new Resource (see ``create_resources``)."""
    return create_resources(project, [(name, chunks)], creator, claimed_type)[0]


def create_resource_from_path(project, path, creator=None, claimed_type=None):
    with open(path, "rb") as source:
        return create_resource(
            project, PurePath(path).name, iter(lambda: source.read(1 << 20), b""), creator, claimed_type
        )
