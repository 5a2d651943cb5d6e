"""Where files live under MEDIA_ROOT, and how they get there atomically.

A resource's file is ``projects/<project>/resources/<resource>/original_file``
(Rodan's layout). Files are first written elsewhere on the same file system,
then renamed into place with ``os.replace``: a crash leaves either the old
state or the new file, never a half-written file under the final name. A
resource counts as ready only once its ``resource_file`` field is set, which
happens in the same database transaction that follows the rename.
"""

import errno
import os
import shutil
import tempfile
from pathlib import Path

from django.conf import settings

ORIGINAL_FILE = "original_file"
#: A resource's deep-zoom tiles (``rodan.tiles``), beside its file.
TILES_FOLDER = "tiles"


#: The error summary of a RunJob that failed because the disk was full: the reaper resumes such runs.
DISK_FULL_SUMMARY = "The disk is full: the job could not write its files. The run resumes by itself once space is freed."


def has_room():
    """Whether MEDIA_ROOT's file system has ``RODAN_RESUME_FREE_BYTES`` free: enough to resume jobs a full disk failed."""
    return shutil.disk_usage(media_root()).free >= settings.RODAN_RESUME_FREE_BYTES


def disk_full(exc):
    """Whether ``exc``, or an exception that led to it, is a file system out of space (or quota)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def media_root():
    return Path(settings.MEDIA_ROOT)


def project_folder(project_id):
    """The folder, relative to MEDIA_ROOT, that holds every file of a project's resources."""
    return f"projects/{project_id.hex}"


def resource_folder(resource):
    """The folder, relative to MEDIA_ROOT, that holds a resource's file and what is derived from it."""
    return f"{project_folder(resource.project_id)}/resources/{resource.uuid.hex}"


def remove_folder(relative):
    """Delete a folder under MEDIA_ROOT with everything in it (nothing if it is not there)."""
    shutil.rmtree(media_root() / relative, ignore_errors=True)


def resource_relative_path(resource):
    return f"{resource_folder(resource)}/{ORIGINAL_FILE}"


def tiles_relative_dir(resource):
    return f"{resource_folder(resource)}/{TILES_FOLDER}"


def absolute_path(resource):
    """The absolute path of a ready resource's file."""
    return str(media_root() / resource.resource_file)


def install_file(resource, source_path):
    """Move ``source_path`` into ``resource``'s place (same file system) and record it.

    The caller saves ``resource``; until then the file is in place but the
    resource is not ready, which is the safe side.
    """
    relative = resource_relative_path(resource)
    target = media_root() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source_path, target)
    resource.resource_file = relative


def store_stream(resource, chunks):
    """Write an upload (an iterable of bytes) for ``resource`` through a temporary file."""
    staging = work_root() / "uploads"
    staging.mkdir(parents=True, exist_ok=True)
    handle, temp_path = tempfile.mkstemp(dir=staging)
    try:
        with os.fdopen(handle, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
        install_file(resource, temp_path)
    except BaseException:
        Path(temp_path).unlink(missing_ok=True)
        raise


def store_copy(resource, source_path):
    """Copy a local file in as ``resource``'s file."""
    with open(source_path, "rb") as source:
        store_stream(resource, iter(lambda: source.read(1 << 20), b""))


def work_root():
    """Scratch space on the same file system as the resources, so renames are atomic."""
    return media_root() / "tmp"


def runjob_workdir(runjob, token):
    """A fresh, empty folder for one attempt of a RunJob's outputs."""
    path = work_root() / "runjobs" / f"{runjob.uuid.hex}-{token}"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def remove_workdir(path):
    shutil.rmtree(path, ignore_errors=True)


def resources_for_paths(paths):
    """The Resources whose files are at the given absolute paths."""
    from rodan.models import Resource

    root = media_root()
    relative = [str(Path(p).resolve().relative_to(root)) for p in paths]
    return Resource.objects.filter(resource_file__in=relative)
