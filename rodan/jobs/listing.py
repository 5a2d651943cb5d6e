"""What ``rodan jobs`` prints, kept between calls while nothing it came from has changed.

Building the registry imports Django and every job family, and with them
NumPy, OpenCV and the rest: more than half a second of work to print a table.
The table depends only on the files those imports read, on which modules
exist, and on the settings, so it is stored with the size and modification
time of every module file loaded while building it and of every folder those
files and the import path are in (installing, removing or adding a module
changes a folder). A later call that finds all of them unchanged, under the
same interpreter, import path and ``RODAN_*`` settings, prints the stored
table without importing anything.
"""

import json
import os
import stat
import sys


def _stamp(path):
    """(size, modification time) of a file, (0, modification time) of a folder; None when it is gone."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return [0 if stat.S_ISDIR(info.st_mode) else info.st_size, info.st_mtime_ns]


def context():
    """What the table depends on besides files: take it before building the table (imports may change sys.path)."""
    variables = {k: v for k, v in os.environ.items() if k.startswith("RODAN_") or k == "DJANGO_SETTINGS_MODULE"}
    return {"python": sys.executable, "version": sys.version, "path": list(sys.path), "environment": variables}


def _sources():
    files = {module.__file__ for module in list(sys.modules.values()) if getattr(module, "__file__", None)}
    folders = {os.path.dirname(path) for path in files} | {path for path in sys.path if os.path.isdir(path)}
    return {path: _stamp(path) for path in sorted(files | folders)}


def read(cache_file):
    """The stored (stdout lines, stderr lines), or None when they may no longer be true."""
    try:
        saved = json.loads(cache_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if saved.get("context") != context():
        return None
    if any(_stamp(path) != stamp for path, stamp in saved["sources"].items()):
        return None
    return saved["stdout"], saved["stderr"]


def write(cache_file, before, stdout, stderr):
    """Store the table with what it came from: ``before`` is ``context()`` taken before building it, in this process."""
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    partial = cache_file.with_name(f".{cache_file.name}.{os.getpid()}")
    saved = {"context": before, "sources": _sources(), "stdout": stdout, "stderr": stderr}
    partial.write_text(json.dumps(saved), encoding="utf-8")
    os.replace(partial, cache_file)
