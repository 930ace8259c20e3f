"""The Helm charts, rendered by Helm's own engine (helm-python-sdk binds Helm's Go SDK), every
object validated against the Kubernetes API schemas (kubernetes-validate, strict: unknown fields
refused) and the CloudNativePG CRD schemas (@kubernetes-models/cloudnative-pg, through node: its
compiled validators for types, enums and required fields, and its TypeScript types with tsc for
unknown fields, which the API server would drop without a word), then the settings a security
review looks for, asserted one by one."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_CHART = ROOT / "deploy" / "helm" / "persona-registry"
DB_CHART = ROOT / "deploy" / "helm" / "persona-registry-database"
HERE = Path(__file__).resolve().parent
POLICY = (ROOT / "policies" / "department.toml").read_text()
# The oldest Kubernetes the charts declare (kubeVersion) and the newest the validator knows.
K8S_VERSIONS = ("1.27.0", kubernetes_validate.latest_version())
SIZES = ("values-small.yaml", "values-large.yaml")
NAMESPACE = "persona-registry"

Object = dict[str, Any]


def render(chart: Path, release: str, values: dict[str, Any]) -> list[Object]:
    with helm.Chart.load(str(chart)) as loaded:
        manifests = loaded.render(values, name=release, namespace=NAMESPACE)
    return [doc for text in manifests.values() for doc in yaml.safe_load_all(text) if doc]


def app(size: str, **extra: Any) -> list[Object]:
    values = yaml.safe_load((APP_CHART / size).read_text()) | {"policy": {"content": POLICY}} | extra
    return render(APP_CHART, "registry", values)


def database(size: str, **extra: Any) -> list[Object]:
    return render(DB_CHART, "registry-db", yaml.safe_load((DB_CHART / size).read_text()) | extra)


def one(objects: list[Object], kind: str) -> Object:
    [found] = [o for o in objects if o["kind"] == kind]
    return found


def node() -> str:
    found = shutil.which("node")
    assert found, "node is needed for the CloudNativePG schemas (scripts/setup installs it)"
    assert (CNPG_TYPES / "Cluster.d.ts").is_file(), "run scripts/setup: it installs tests/deploy/package.json"
    return found


CNPG_TYPES = HERE / "node_modules" / "@kubernetes-models" / "cloudnative-pg" / "postgresql.cnpg.io" / "v1"


def validate_cnpg(objects: list[Object]) -> list[dict[str, Any]]:
    done = subprocess.run(  # noqa: S603 (a fixed script on our own rendered objects)
        [node(), str(HERE / "validate_cnpg.mjs")],
        input=json.dumps(objects),
        capture_output=True,
        text=True,
        cwd=HERE,
        timeout=60,
        check=True,
    )
    report: list[dict[str, Any]] = json.loads(done.stdout)
    return report


@pytest.mark.parametrize("size", SIZES)
def test_every_object_is_valid_kubernetes_and_cloudnativepg(size: str) -> None:
    objects = app(size) + database(size) + database(size, recovery=recovery())
    core = [o for o in objects if not o["apiVersion"].startswith("postgresql.cnpg.io/")]
    crs = [o for o in objects if o["apiVersion"].startswith("postgresql.cnpg.io/")]
    kinds = {o["kind"] for o in objects}
    assert kinds >= {
        "Deployment", "Service", "Ingress", "PodDisruptionBudget", "HorizontalPodAutoscaler",
        "NetworkPolicy", "ConfigMap", "ServiceAccount", "Job", "Cluster", "ScheduledBackup",
    }  # fmt: skip
    for version in K8S_VERSIONS:
        for obj in core:
            kubernetes_validate.validate(obj, version, strict=True)
    report = validate_cnpg(crs)
    assert [r["error"] for r in report] == [None] * len(crs), report


def test_the_cloudnativepg_validator_refuses_a_wrong_cluster() -> None:
    """The CRD check can fail: a misspelt enum and a count given as text are caught."""
    cluster = one(database("values-small.yaml"), "Cluster")
    cluster["spec"]["instances"] = "three"
    cluster["spec"]["postgresql"]["synchronous"]["method"] = "sometimes"
    [result] = validate_cnpg([cluster])
    assert result["error"] and "instances" in result["error"]


def test_cloudnativepg_objects_use_only_fields_the_crd_knows(tmp_path: Path) -> None:
    """Each object as a typed TypeScript literal: tsc refuses any property the CRD's types lack.
    A misspelt copy goes through the same run, so the check is seen to fail where it should."""
    objects = [o for size in SIZES for o in database(size) + database(size, recovery=recovery())]
    misspelt = json.loads(json.dumps(one(database("values-small.yaml"), "Cluster")))
    misspelt["spec"]["postgresql"]["synchronus"] = misspelt["spec"]["postgresql"].pop("synchronous")
    kinds = sorted({o["kind"] for o in objects})
    lines = [f'import type {{ I{kind} }} from "{CNPG_TYPES / kind}.js";' for kind in kinds]
    lines += [f"export const checked{i}: I{o['kind']} = {json.dumps(o)};" for i, o in enumerate(objects)]
    lines.append(f"export const misspelt: ICluster = {json.dumps(misspelt)};")
    source = tmp_path / "rendered.ts"
    source.write_text("\n".join(lines) + "\n")
    tsc = HERE / "node_modules" / "typescript" / "bin" / "tsc"
    flags = ["--noEmit", "--strict", "--skipLibCheck", "--module", "esnext", "--moduleResolution", "bundler"]
    done = subprocess.run(  # noqa: S603 (the TypeScript checker on a file this test wrote)
        [node(), str(tsc), *flags, "--target", "es2022", str(source)], capture_output=True, text=True, timeout=120
    )
    errors = [line for line in done.stdout.splitlines() if "error TS" in line]
    assert len(errors) == 1, done.stdout + done.stderr
    assert f"rendered.ts({len(lines)}," in errors[0] and "'\"synchronus\"' does not exist" in errors[0]


def test_the_kubernetes_validator_refuses_an_unknown_field() -> None:
    deployment = one(app("values-small.yaml"), "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesytem"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSIONS[-1], strict=True)


def recovery() -> dict[str, Any]:
    return {"enabled": True, "destinationPath": "s3://persona-registry-backups/registry-db"}


@pytest.mark.parametrize("size", SIZES)
def test_the_pods_run_restricted(size: str) -> None:
    objects = app(size)
    deployment, job = one(objects, "Deployment"), one(objects, "Job")
    for pod in (deployment["spec"]["template"]["spec"], job["spec"]["template"]["spec"]):
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        [container] = pod["containers"]
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["privileged"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}
        assert container["resources"]["requests"] and container["resources"]["limits"]


@pytest.mark.parametrize("size", SIZES)
def test_the_service_is_highly_available_and_sized_from_the_benchmark(size: str) -> None:
    objects = app(size)
    deployment = one(objects, "Deployment")
    spec = deployment["spec"]
    pod = spec["template"]["spec"]
    [container] = pod["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert spec["replicas"] >= 2
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert {c["topologyKey"] for c in pod["topologySpreadConstraints"]} == {
        "topology.kubernetes.io/zone",
        "kubernetes.io/hostname",
    }
    # A worker stays under 150 MB RSS (bench/); each concurrent argon2id hash adds 64 MiB.
    hashes = int(env["REGISTRY_PASSWORD_HASH_CONCURRENCY"]["value"])
    assert mebibytes(container["resources"]["limits"]["memory"]) >= 150 + 64 * hashes
    assert mebibytes(container["resources"]["requests"]["memory"]) >= 150
    hpa, pdb = one(objects, "HorizontalPodAutoscaler"), one(objects, "PodDisruptionBudget")
    assert 2 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    assert 1 <= pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"]
    # Pooled connections at the most pods fit the database's max_connections.
    cluster = one(database(size), "Cluster")
    pools = hpa["spec"]["maxReplicas"] * int(env["REGISTRY_DB_POOL_MAX_SIZE"]["value"])
    assert pools < int(cluster["spec"]["postgresql"]["parameters"]["max_connections"])


def mebibytes(quantity: str) -> int:
    units = {"Mi": 1, "Gi": 1024}
    return int(quantity[:-2]) * units[quantity[-2:]]


@pytest.mark.parametrize("size", SIZES)
def test_keys_come_from_a_secret_and_the_policy_from_a_configmap(size: str) -> None:
    objects = app(size, smtp={"host": "mail.example.org", "from": "registry@example.org", "username": "registry"})
    deployment = one(objects, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]
    env = {e["name"]: e for e in container["env"]}
    for name in ("REGISTRY_SECRET_KEY", "REGISTRY_SMTP_PASSWORD", "PGPASSWORD"):
        assert "value" not in env[name] and env[name]["valueFrom"]["secretKeyRef"]["name"]
    config = one(objects, "ConfigMap")
    assert config["data"]["policy.toml"].strip() == POLICY.strip()
    [volume] = [v for v in pod["volumes"] if v.get("configMap", {}).get("name") == config["metadata"]["name"]]
    [mount] = [m for m in container["volumeMounts"] if m["name"] == volume["name"]]
    assert env["REGISTRY_POLICY"]["value"] == f"{mount['mountPath']}/policy.toml"
    ingress = one(objects, "Ingress")
    [tls] = ingress["spec"]["tls"]
    assert tls["secretName"] and tls["hosts"] == [ingress["spec"]["rules"][0]["host"]]


def test_the_chart_will_not_render_without_a_policy() -> None:
    values = yaml.safe_load((APP_CHART / "values-small.yaml").read_text())
    with pytest.raises(helm.HelmError, match=r"policy.content"):
        render(APP_CHART, "registry", values)


@pytest.mark.parametrize("size", SIZES)
def test_the_service_connects_as_the_app_role_and_migrations_run_as_the_owner(size: str) -> None:
    objects, cluster = app(size), one(database(size), "Cluster")
    [container] = one(objects, "Deployment")["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    [role] = cluster["spec"]["managed"]["roles"]
    assert role["login"] is True
    assert not any(role[attr] for attr in ("superuser", "createdb", "createrole", "replication", "bypassrls"))
    url = env["REGISTRY_DATABASE_URL"]["value"]
    assert url.startswith(f"postgresql://{role['name']}@{cluster['metadata']['name']}-rw:5432/")
    assert "sslmode=verify-full" in url
    assert env["PGPASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == role["passwordSecret"]["name"]
    assert cluster["spec"]["enableSuperuserAccess"] is False
    assert cluster["spec"]["bootstrap"]["initdb"]["owner"] != role["name"]

    job = one(objects, "Job")
    hooks = set(job["metadata"]["annotations"]["helm.sh/hook"].split(","))
    assert hooks == {"pre-install", "pre-upgrade"}
    [migrate] = job["spec"]["template"]["spec"]["containers"]
    job_env = {e["name"]: e for e in migrate["env"]}
    assert migrate["args"] == ["migrate"]
    # CloudNativePG writes the owner's credentials to <cluster>-app; only the Job reads them.
    owner_secret = f"{cluster['metadata']['name']}-app"
    assert job_env["REGISTRY_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {"name": owner_secret, "key": "uri"}
    assert job_env["REGISTRY_DATABASE_APP_ROLE"]["value"] == role["name"]
    assert owner_secret not in json.dumps(one(objects, "Deployment"))


@pytest.mark.parametrize("size", SIZES)
def test_the_database_is_replicated_synchronously_and_backed_up(size: str) -> None:
    objects = database(size)
    cluster, scheduled = one(objects, "Cluster"), one(objects, "ScheduledBackup")
    spec = cluster["spec"]
    assert spec["instances"] == 3
    assert spec["postgresql"]["synchronous"]["number"] >= 1
    assert spec["postgresql"]["synchronous"]["dataDurability"] == "required"
    assert spec["affinity"]["podAntiAffinityType"] == "required"
    store = spec["backup"]["barmanObjectStore"]
    assert store["destinationPath"].startswith("s3://")
    assert store["wal"]["encryption"] and store["data"]["encryption"]
    assert scheduled["spec"]["cluster"]["name"] == cluster["metadata"]["name"]
    assert scheduled["spec"]["method"] == "barmanObjectStore"


def test_a_restore_bootstraps_from_the_backups() -> None:
    cluster = one(database("values-small.yaml", recovery=recovery()), "Cluster")
    source = cluster["spec"]["bootstrap"]["recovery"]["source"]
    [external] = cluster["spec"]["externalClusters"]
    assert external["name"] == source
    assert external["barmanObjectStore"]["destinationPath"] == recovery()["destinationPath"]


@pytest.mark.parametrize("size", SIZES)
def test_the_network_allows_only_the_ingress_controller_in_and_the_database_mail_and_dns_out(size: str) -> None:
    objects = app(size)
    policy = one(objects, "NetworkPolicy")["spec"]
    deployment = one(objects, "Deployment")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert set(policy["policyTypes"]) == {"Ingress", "Egress"}
    assert policy["podSelector"]["matchLabels"].items() <= labels.items()
    [ingress] = policy["ingress"]
    [source] = ingress["from"]
    assert source["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "ingress-nginx"}
    assert source["podSelector"]["matchLabels"]
    destinations = {json.dumps(rule["to"], sort_keys=True): rule["ports"] for rule in policy["egress"]}
    assert len(destinations) == 3
    cluster = one(database(size), "Cluster")["metadata"]["name"]
    ports = {p["port"] for rule in policy["egress"] for p in rule["ports"]}
    assert ports == {5432, 587, 53}
    [db] = [rule for rule in policy["egress"] if rule["ports"] == [{"port": 5432, "protocol": "TCP"}]]
    assert db["to"] == [{"podSelector": {"matchLabels": {"cnpg.io/cluster": cluster}}}]
    # A policy with metrics left unset lets nothing else in.
    scraper = {"metrics": {"namespace": "monitoring", "podLabels": {"app.kubernetes.io/name": "prometheus"}}}
    with_metrics = one(app(size, networkPolicy=scraper), "NetworkPolicy")
    assert len(with_metrics["spec"]["ingress"]) == 2
