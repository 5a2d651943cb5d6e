"""The names a person sees when a resource leaves the system as a file.

The archive download, results packages and ``rodan run``'s output folder all
name files here, so a resource is called the same wherever it is downloaded
(rodan-compat.md §2.5: ``<name>.<ext>``; the client's own download of a
result, ``Hello World - Python3 - Text output.txt``, follows the same rule).
Paths inside archives and output folders are built by ``entry_name`` only, so
no name a user typed can climb out of the folder it is unpacked into.
"""

import posixpath
import unicodedata


def file_name(resource, stem=None):
    """``<stem>.<extension>`` of the resource's type, the stem being its name unless given.

    A type without an extension adds no dot.
    """
    stem = resource.name if stem is None else stem
    extension = resource.resource_type.extension
    return f"{stem}.{extension}" if extension else stem


def step_name(job_name, port_type_name):
    """``<job> - <output port type>``: what an output is called where a page's name is not used."""
    return f"{job_name} - {port_type_name}"


def safe_part(text):
    """``text`` as one harmless path component: separators and control characters become ``_``.

    A part made only of dots and blanks (``..``, ``.``, nothing) becomes ``_``:
    with no separator left, no part can be absolute or climb out (zip-slip).
    """
    part = "".join("_" if ch in "/\\" or unicodedata.category(ch) == "Cc" else ch for ch in text)
    return part if part.strip(". ") else "_"


def entry_name(*parts):
    """The ``/``-separated relative path of ``parts``, each made safe: an archive entry or an output file."""
    return "/".join(safe_part(part) for part in parts)


def unique_name(name, taken):
    """``name``, else ``name (2)``, ``name (3)``, ... before its extension: the first not in ``taken``.

    The chosen name is added to ``taken``, so that one set names a whole
    archive or folder without two files overwriting each other.
    """
    stem, suffix = posixpath.splitext(name)
    counter = 1
    while name in taken:
        counter += 1
        name = f"{stem} ({counter}){suffix}"
    taken.add(name)
    return name
