"""Static files and the built front ends: served by us (WhiteNoise), Vite's hashed files cached for a year."""

import json

from django.test import Client

from rodan.frontend import MANIFEST


def _body(response):
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_hashed_front_end_files_are_cached_for_a_year_and_the_manifest_is_revalidated():
    client = Client()
    manifest = client.get("/static/frontend/manifest.json")
    assert manifest.status_code == 200 and json.loads(_body(manifest)) == json.loads(MANIFEST.read_text())
    assert "immutable" not in manifest.get("Cache-Control", "")
    built = next(iter(json.loads(MANIFEST.read_text()).values()))["file"]  # e.g. assets/app-<hash>.js
    asset = client.get(f"/static/frontend/{built}")
    assert asset.status_code == 200 and _body(asset)
    assert "max-age=31536000" in asset["Cache-Control"] and "immutable" in asset["Cache-Control"]


def test_a_missing_static_file_is_a_404():
    assert Client().get("/static/frontend/assets/no-such-file-12345678.js").status_code == 404
