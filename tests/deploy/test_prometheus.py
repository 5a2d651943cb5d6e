"""The compose `monitoring` profile's Prometheus scrapes the web app's /metrics with the token compose hands it."""

import re
from pathlib import Path

import yaml
from django.urls import resolve

ROOT = Path(__file__).resolve().parents[2]


def test_prometheus_scrapes_the_web_apps_metrics_with_the_token():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    prometheus = services["prometheus"]
    assert prometheus["profiles"] == services["flower"]["profiles"] == ["monitoring"]
    assert "redis" not in services and all("redis" not in (s.get("depends_on") or {}) for s in services.values())
    [mount] = [m for m in prometheus["volumes"] if m.endswith(":/etc/prometheus/prometheus.yml:ro")]
    config = yaml.safe_load((ROOT / mount.split(":")[0]).read_text())

    [rodan] = [job for job in config["scrape_configs"] if job["job_name"] == "rodan"]
    assert resolve(rodan["metrics_path"]).url_name == "metrics"
    [target] = rodan["static_configs"][0]["targets"]
    host, port = target.split(":")
    assert host == "web" and any(p.endswith(f":{port}") for p in services["web"]["ports"])
    # The token file the entrypoint writes from RODAN_METRICS_TOKEN is the one the scrape sends as a bearer token.
    assert rodan["authorization"]["type"] == "Bearer"
    written = re.search(r'> (\S+) &&', prometheus["entrypoint"][-1]).group(1)
    assert rodan["authorization"]["credentials_file"] == written
    assert "RODAN_METRICS_TOKEN" in prometheus["environment"]
