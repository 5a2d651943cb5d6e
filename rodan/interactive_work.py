"""Saved work and the edit lock of interactive jobs (Pixel, Neon): a user's edits survive the tab.

A waiting RunJob's page saves its work (a JSON document of the job's own
compact edits, opaque here) a few seconds after each change, and loads it
when it opens, so a closed tab, a crash or another day loses nothing. A
page may keep its work as a ``log`` of edits and send only the new ones.

One editor at a time: each open page is an *editor* (a random id per tab).
Saving or claiming takes a lease of ``LEASE_SECONDS`` that the page renews
while it is open; another tab of the same working user is refused with a
sentence while the lease is live, unless it takes over (the first tab's next
save is then refused). A lease given under a previous working user counts
for nothing. Every save names the version it was based on: a stale tab (one
that loaded an older version) gets a conflict instead of overwriting newer
work.

The document lives beside the project's files (removed with the project)
and is removed once a submission is accepted, since the job then holds the
submitted edits itself.
"""

import fcntl
import json
import os
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timezone

from rodan import storage

#: How large a saved document may be (its JSON text).
MAX_BYTES = 8 * 1024 * 1024
#: How long a page holds the edit lock after its last save or renewal.
LEASE_SECONDS = 60
MAX_EDITOR_ID = 64


class WorkError(Exception):
    """A save or claim that cannot be done; ``http_status`` is the HTTP status, the message a sentence."""

    def __init__(self, message, status, version=None):
        super().__init__(message)
        self.http_status = status
        self.version = version


def _folder(run_job):
    return storage.media_root() / storage.project_folder(run_job.workflow_run.project_id) / "interactive-work"


def _path(run_job):
    return _folder(run_job) / f"{run_job.uuid.hex}.json"


@contextmanager
def _locked(run_job):
    """Serialise readers-modifiers of one RunJob's document across processes."""
    folder = _folder(run_job)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{run_job.uuid.hex}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read(run_job):
    try:
        return json.loads(_path(run_job).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"version": 0, "saved": None, "work": None, "editor": None}


def _write(run_job, document):
    folder = _folder(run_job)
    handle, temp = tempfile.mkstemp(dir=folder, prefix=".work-")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(document, out, separators=(",", ":"))
    os.replace(temp, _path(run_job))


def load(run_job):
    """The saved work: ``{"version", "saved", "work"}`` (version 0 and no work before the first save)."""
    document = _read(run_job)
    return {key: document[key] for key in ("version", "saved", "work")}


def _check_editor(run_job, document, editor, take_over):
    if not isinstance(editor, str) or not 1 <= len(editor) <= MAX_EDITOR_ID:
        raise WorkError(f'"editor" must be a string of 1 to {MAX_EDITOR_ID} characters naming this page.', 400)
    lease = document.get("editor") or {}
    held = (
        lease.get("id") not in (None, editor)
        and lease.get("until", 0) > time.time()
        and lease.get("user") == run_job.working_user_id
    )
    if held and not take_over:
        raise WorkError(
            "This job is open for editing in another tab or window. Close it there, or take over here "
            "(the other page then stops saving).",
            409,
            document["version"],
        )


def _lease(run_job, editor):
    return {"id": editor, "user": run_job.working_user_id, "until": time.time() + LEASE_SECONDS}


def claim(run_job, editor, take_over=False):
    """Take or renew the edit lock for ``editor``; the saved work's version in return."""
    with _locked(run_job):
        document = _read(run_job)
        _check_editor(run_job, document, editor, take_over)
        document["editor"] = _lease(run_job, editor)
        _write(run_job, document)
        return document["version"]


def _size(value):
    return len(json.dumps(value, separators=(",", ":")))


def save(run_job, editor, base_version, work=None, append=None, take_over=False):
    """Store the next version if ``editor`` may edit and based its change on the current version.

    The change is either ``work``, a whole new document, or ``append``, items
    added to the document's ``log`` list: a page that keeps its work as a log
    of edits sends only what is new, so a save stays small however long the
    session.
    """
    if not isinstance(base_version, int) or isinstance(base_version, bool) or base_version < 0:
        raise WorkError('"version" must be the whole number of the saved version the work is based on.', 400)
    if (work is None) == (append is None):
        raise WorkError('Send either "work" (the whole document) or "append" (items for its log).', 400)
    if work is not None and not isinstance(work, dict):
        raise WorkError('"work" must be a JSON object.', 400)
    if append is not None and not isinstance(append, list):
        raise WorkError('"append" must be a list.', 400)
    with _locked(run_job):
        document = _read(run_job)
        _check_editor(run_job, document, editor, take_over)
        if base_version != document["version"]:
            raise WorkError(
                f"The saved work has changed since this page loaded it (version {document['version']}, this page "
                f"has {base_version}): another page saved it. Reload to continue from the saved work.",
                409,
                document["version"],
            )
        if append is not None:
            work = document["work"] if isinstance(document.get("work"), dict) else {}
            if not isinstance(work.setdefault("log", []), list):
                raise WorkError('The saved work has no "log" list to append to; send the whole "work".', 400)
            work["log"].extend(append)
            size = document["size"] + _size(append) if "size" in document else _size(work)
        else:
            size = _size(work)
        if size > MAX_BYTES:
            raise WorkError(f"The work would be {size} bytes long; at most {MAX_BYTES} are saved. Submit it instead.",
                            413)
        saved = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
        document = {"version": base_version + 1, "saved": saved, "work": work, "size": size,
                    "editor": _lease(run_job, editor)}
        _write(run_job, document)
        return {"version": document["version"], "saved": saved}


def clear(run_job):
    """Forget the saved work and the lock (a submission was accepted)."""
    with _locked(run_job):
        _path(run_job).unlink(missing_ok=True)
    (_folder(run_job) / f"{run_job.uuid.hex}.lock").unlink(missing_ok=True)
