"""The built browser front ends: ``frontend/``, built by Vite into ``rodan/static/frontend/``.

Vite names its files by their content's hash and lists them in a manifest;
pages look an entry's scripts and styles up here rather than hard-coding
names, so a rebuilt front end is never hidden by a browser's cache.
"""

import json
from pathlib import Path

from django.templatetags.static import static

BUILD_DIR = Path(__file__).resolve().parent / "static" / "frontend"
MANIFEST = BUILD_DIR / "manifest.json"  # not Vite's default .vite/: package data skips dot-folders


class NotBuilt(RuntimeError):
    """The front end has not been built (``make up`` or ``npm ci && npm run build`` in ``frontend/``)."""


def entry_assets(name):
    """The URLs of entry ``name``'s script, the chunks it imports, and its stylesheets."""
    try:
        manifest = json.loads(MANIFEST.read_text())
    except FileNotFoundError:
        raise NotBuilt(f"the front end is not built ({MANIFEST} is missing)") from None
    entry = next((chunk for chunk in manifest.values() if chunk.get("isEntry") and chunk.get("name") == name), None)
    if entry is None:
        raise NotBuilt(f"the built front end has no entry named {name}")
    imported = [manifest[key] for key in entry.get("imports", [])]
    styles = [css for chunk in [entry, *imported] for css in chunk.get("css", [])]
    return {
        "script": static(f"frontend/{entry['file']}"),
        "preloads": [static(f"frontend/{chunk['file']}") for chunk in imported],
        "styles": [static(f"frontend/{css}") for css in dict.fromkeys(styles)],
    }
