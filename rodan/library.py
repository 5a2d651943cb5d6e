"""The workflow library: ready Rodan workflow files (``__version__`` 0.2), named by their file's stem.

They live in the ``workflows/`` folder beside the ``rodan`` package: the
repository's top level, and where an installed distribution puts them (as it
does ``jobs/``, see ``rodan.jobs.HOUSE_FAMILIES``), so ``rodan run <name>``
finds them either way.
"""

import json
from pathlib import Path

FOLDER = Path(__file__).resolve().parent.parent / "workflows"


class UnknownWorkflow(LookupError):
    """No file and no library workflow by that name; the message lists the library."""

    def __init__(self, name):
        super().__init__(f"{name}: no such file, and no library workflow of that name (the library has: {', '.join(names())})")


def names():
    return sorted(path.stem for path in FOLDER.glob("*.json"))


def locate(name_or_path):
    """The workflow file a ``rodan run`` argument means: an existing file first, else a library name."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    if name_or_path in names():
        return FOLDER / f"{name_or_path}.json"
    raise UnknownWorkflow(name_or_path)


def description(name):
    """The first line of a library workflow's description."""
    doc = json.loads((FOLDER / f"{name}.json").read_text(encoding="utf-8"))
    return next(iter((doc.get("description") or "").strip().splitlines()), "")
