"""The deployment files in deploy/ agree with the code and with each other.

compose.yaml, the Kubernetes manifests, the systemd units, the Prometheus configs and the
NATS configs name the same services (``services.system.BUILDERS``), only real settings
(``Settings.model_fields``), R3 streams on a three-node cluster whose routes name each
other, and the metrics port each service is given. The NATS configs must pass
``nats-server -t``. deploy/README.md's stream table matches ``contracts.subjects.STREAMS``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from contracts.subjects import STREAMS
from services.infra.bus.streams import DUPLICATE_WINDOW_SECONDS, MAX_AGE_SECONDS
from services.infra.nats_server import nats_server_binary
from services.infra.settings import Settings
from services.system import BUILDERS, CORE

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
CLUSTER = DEPLOY / "nats" / "cluster"
SYSTEMD = DEPLOY / "systemd"
K8S = DEPLOY / "k8s"
NODES = ("nats-1", "nats-2", "nats-3")
RUNNABLE = set(BUILDERS)
REPLICATED = set(CORE)  # two instances each in every scaled-out topology
CLUSTER_REPLICAS = 3
# auth.conf's passwords, HOMECARE_NATS_PASSWORD_<USER> (the bare prefix where docs name the form)
PASSWORD_VARIABLE = re.compile(r"HOMECARE_NATS_PASSWORD(_[A-Z0-9_]+)?")
HOMECARE_VARIABLE = re.compile(r"\bHOMECARE_[A-Z0-9_]*[A-Z0-9]")
# deploy/grafana/ belongs to the dashboard; everything else under deploy/ is checked.
NOT_CHECKED = {"grafana"}


# ---- readers ------------------------------------------------------------------------------


def deploy_text_files() -> list[Path]:
    files = []
    for path in sorted(DEPLOY.rglob("*")):
        relative = path.relative_to(DEPLOY)
        if path.is_file() and relative.parts[0] not in NOT_CHECKED:
            files.append(path)
    return files


@cache
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    return data


@cache
def k8s_documents() -> list[dict[str, Any]]:
    documents = []
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                doc["__file__"] = path.name
                documents.append(doc)
    return documents


def k8s_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in k8s_documents() if d["kind"] == kind}


def systemd_unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    """Sections of a unit file, each a list of (key, value): keys may repeat."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        assert current is not None, f"{path.name}: {line!r} before any section"
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: not key=value: {line!r}"
        current.append((key.strip(), value.strip()))
    return sections


def values(section: list[tuple[str, str]], key: str) -> list[str]:
    return [v for k, v in section if k == key]


def env_file(path: Path) -> dict[str, str]:
    """KEY=value lines that are set (not commented out)."""
    found = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            found[key] = value
    return found


def setting_names() -> set[str]:
    return {f"HOMECARE_{name.upper()}" for name in Settings.model_fields}


def unknown_variables(text: str) -> set[str]:
    """HOMECARE_* names in ``text`` that are neither a setting nor an auth.conf password."""
    named = set(HOMECARE_VARIABLE.findall(text))
    return {n for n in named if n not in setting_names() and not PASSWORD_VARIABLE.fullmatch(n)}


def checked_settings(env: dict[str, Any]) -> Settings:
    """The HOMECARE_ values (those without ${...} interpolation) must validate as Settings."""
    given = {
        key.removeprefix("HOMECARE_").lower(): str(value)
        for key, value in env.items()
        if key.startswith("HOMECARE_") and "${" not in str(value) and key in setting_names()
    }
    return Settings(_env_file=None, **given)  # type: ignore[call-arg]


def compose_homecare_services() -> dict[str, dict[str, Any]]:
    """Compose services that run the homecare image, by what they run."""
    found = {}
    for name, svc in compose()["services"].items():
        if svc.get("image") == "homecare:local":
            found[name] = svc
    return found


def nats_conf(path: Path) -> str:
    """The text of a nats-server config with its includes inlined (auth.conf left out)."""
    text = path.read_text(encoding="utf-8")

    def inline(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.endswith("auth.conf"):
            return ""
        return nats_conf(path.parent / name)

    return re.sub(r'(?m)^\s*include\s+"([^"]+)"\s*$', inline, text)


def without_comments(text: str) -> str:
    return re.sub(r"(?m)#.*$", "", text)


def block(text: str, name: str) -> str:
    """The body of ``name { ... }`` (no nested braces in homecare's configs)."""
    match = re.search(rf"(?m)^\s*{name}\s*\{{([^{{}}]*)\}}", without_comments(text))
    assert match, f"no {name} {{...}} block"
    return match.group(1)


def setting(text: str, key: str) -> str | None:
    match = re.search(rf"(?m)^\s*{key}\s*[:=]\s*(\S+)\s*$", without_comments(text))
    return match.group(1) if match else None


def routes(text: str) -> set[str]:
    cluster = block(text, "cluster")
    listed = re.search(r"routes\s*[:=]?\s*\[([^\]]*)\]", cluster)
    assert listed, "the cluster block lists no routes"
    return set(listed.group(1).split())


def k8s_nats_conf() -> str:
    conf: str = k8s_kind("ConfigMap")["nats-config"]["data"]["nats.conf"]
    return conf


def passwords_of_auth_conf() -> dict[str, str]:
    text = (DEPLOY / "nats" / "auth.conf").read_text(encoding="utf-8")
    return {m.group(0): "secret" for m in PASSWORD_VARIABLE.finditer(text)}


def check_with_nats_server(config: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [nats_server_binary(), "-t", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": os.environ.get("PATH", ""), **env},
    )


# ---- the same services everywhere ----------------------------------------------------------


def test_compose_runs_each_runnable_service_and_migrate() -> None:
    services = compose_homecare_services()
    runs = {svc["command"][1]: name for name, svc in services.items() if svc["command"][0] == "run"}
    assert set(runs) == RUNNABLE
    assert all(runs[s] == s for s in runs), "a compose service is named after what it runs"
    migrates = [n for n, svc in services.items() if svc["command"] == ["migrate"]]
    assert migrates == ["migrate"]
    for name in REPLICATED:
        assert services[name]["deploy"]["replicas"] == 2, name
    assert "deploy" not in services["console"], "one console (deploy/README.md says why)"


def test_kubernetes_runs_each_runnable_service_and_migrate() -> None:
    deployments = k8s_kind("Deployment")
    runs = {}
    for name, d in deployments.items():
        (container,) = d["spec"]["template"]["spec"]["containers"]
        assert container["args"][0] == "run"
        runs[container["args"][1]] = name
    assert set(runs) == RUNNABLE
    assert all(runs[s] == s for s in runs)
    for name in REPLICATED:
        assert deployments[name]["spec"]["replicas"] == 2, name
        assert name in k8s_kind("PodDisruptionBudget"), f"no PodDisruptionBudget for {name}"
    (job,) = k8s_kind("Job").values()
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["migrate"]
    (console,) = (s for s in k8s_kind("Service").values() if s["metadata"]["name"] == "console")
    assert console["spec"]["selector"] == {"app.kubernetes.io/name": "console"}
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    manifests = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(listed["resources"]) == manifests - {"secret.example.yaml"}


def test_systemd_has_a_unit_for_each_runnable_service() -> None:
    runs: dict[str, set[str]] = {}
    for path in sorted(SYSTEMD.glob("homecare-*.service")):
        unit = systemd_unit(path)
        for command in values(unit["Service"], "ExecStart"):
            match = re.fullmatch(r"/opt/homecare/\.venv/bin/homecare run (\S+)", command)
            if match:
                runs.setdefault(match.group(1), set()).add(path.name)
    assert set(runs) == RUNNABLE
    templates = {s for s, units in runs.items() if f"homecare-{s}@.service" in units}
    assert templates == REPLICATED, "a template unit per replicated service"
    for service in REPLICATED:
        unit = systemd_unit(SYSTEMD / f"homecare-{service}@.service")
        assert "HOMECARE_METRICS_PORT=%i" in values(unit["Service"], "Environment")
        assert values(unit["Service"], "EnvironmentFile") == [
            "/etc/homecare/homecare.env",
            f"-/etc/homecare/{service}.env",
        ]


def test_the_migrate_unit_runs_after_nats_and_before_every_service() -> None:
    unit = systemd_unit(SYSTEMD / "homecare-migrate.service")
    after = " ".join(values(unit["Unit"], "After")).split()
    assert "homecare-nats.service" in after
    assert {f"homecare-nats@{node}.service" for node in NODES} <= set(after)
    before = set(" ".join(values(unit["Unit"], "Before")).split())
    assert before == {f"homecare-{s}.service" for s in RUNNABLE}
    assert values(unit["Service"], "ExecStart") == ["/opt/homecare/.venv/bin/homecare migrate"]
    assert values(unit["Service"], "Restart") == ["on-failure"], "retries until NATS is up"
    for path in SYSTEMD.glob("homecare-*@.service"):
        if path.name.startswith("homecare-nats"):
            continue
        service_after = " ".join(values(systemd_unit(path)["Unit"], "After")).split()
        assert "homecare-migrate.service" in service_after, path.name
    nats = systemd_unit(SYSTEMD / "homecare-nats@.service")
    assert values(nats["Service"], "ExecStart") == [
        "/opt/homecare/.venv/bin/nats-server -c /etc/homecare/%i.conf"
    ]


# ---- only real settings ---------------------------------------------------------------------


def test_unknown_variables_are_found() -> None:
    assert unknown_variables("HOMECARE_NATS_URL=x HOMECARE_NATS_PASSWORD_CARER_C9=y") == set()
    assert unknown_variables("HOMECARE_NATS_URLS=x\n${HOMECARE_STREAM_REPLICA}") == {
        "HOMECARE_NATS_URLS",
        "HOMECARE_STREAM_REPLICA",
    }


def test_every_homecare_variable_in_deploy_is_a_setting() -> None:
    named: set[str] = set()
    for path in deploy_text_files():
        text = path.read_text(encoding="utf-8")
        named |= set(HOMECARE_VARIABLE.findall(text))
        assert not unknown_variables(text), f"{path.relative_to(DEPLOY)}: not a setting"
    assert len(named) > 20, "the files name the settings they use"


def test_the_env_example_lists_every_setting_and_leaves_the_metrics_port_to_the_units() -> None:
    text = (SYSTEMD / "homecare.env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"(?m)^#?(HOMECARE_[A-Z0-9_]+)=", text))
    assert listed == setting_names()
    active = env_file(SYSTEMD / "homecare.env.example")
    checked_settings(active)
    assert "HOMECARE_METRICS_PORT" not in active, "it would win over the units' Environment="
    cluster = env_file(SYSTEMD / "homecare-cluster.env.example")
    assert "HOMECARE_METRICS_PORT" not in cluster
    checked_settings(cluster)


def test_settings_given_in_compose_and_kubernetes_are_valid() -> None:
    for name, svc in compose_homecare_services().items():
        settings = checked_settings(svc["environment"])
        assert settings.metrics_host == "0.0.0.0", name
    checked_settings(k8s_kind("ConfigMap")["homecare-config"]["data"])


# ---- the cluster: three nodes, R3 -----------------------------------------------------------


def test_stream_replicas_is_three_wherever_the_cluster_is_used() -> None:
    places = {
        f"compose {name}": svc["environment"] for name, svc in compose_homecare_services().items()
    }
    places["k8s ConfigMap"] = k8s_kind("ConfigMap")["homecare-config"]["data"]
    places["homecare-cluster.env.example"] = env_file(SYSTEMD / "homecare-cluster.env.example")
    for where, env in places.items():
        assert str(env.get("HOMECARE_STREAM_REPLICAS")) == str(CLUSTER_REPLICAS), where
        assert checked_settings(env).stream_replicas == CLUSTER_REPLICAS, where
    assert "HOMECARE_STREAM_REPLICAS" not in env_file(SYSTEMD / "homecare.env.example")


def test_the_cluster_has_three_nodes_whose_routes_name_each_other() -> None:
    names = []
    for node in NODES:
        text = nats_conf(CLUSTER / f"{node}.conf")
        names.append(setting(text, "server_name"))
        assert routes(text) == {f"nats-route://{n}:6222" for n in NODES}
        assert setting(block(text, "cluster"), "name") == "homecare"
        assert setting(block(text, "cluster"), "listen") == "0.0.0.0:6222"
        jetstream = block(text, "jetstream")
        assert setting(jetstream, "sync_interval") == "always"
        assert setting(jetstream, "store_dir")
        assert setting(text, "listen") == "0.0.0.0:4222"
        assert setting(text, "http") == "0.0.0.0:8222"
        assert setting(text, "max_payload") == "1MB"
        assert 'include "auth.conf"' in (CLUSTER / "homecare-cluster.conf").read_text()
    assert names == list(NODES)
    single = nats_conf(DEPLOY / "nats" / "nats-server.conf")
    assert setting(block(single, "jetstream"), "sync_interval") == "always"
    for key in ("max_file_store", "max_memory_store"):
        assert setting(block(single, "jetstream"), key) == setting(
            block(nats_conf(CLUSTER / "nats-1.conf"), "jetstream"), key
        )


def test_compose_runs_the_three_nodes_with_their_own_files() -> None:
    services = compose()["services"]
    for node in NODES:
        svc = services[node]
        assert svc["hostname"] == node
        assert svc["image"].startswith("nats:2.15.1")
        config = svc["command"][-1]
        assert config == f"/etc/nats/homecare/{node}.conf"
        mounts = dict(reversed(m.removesuffix(":ro").rsplit(":", 1)) for m in svc["volumes"])
        assert mounts[config] == f"./nats/cluster/{node}.conf"
        assert mounts["/etc/nats/homecare/homecare-cluster.conf"] == (
            "./nats/cluster/homecare-cluster.conf"
        )
        assert mounts["/etc/nats/homecare/auth.conf"] == "${NATS_AUTH_CONF:-./nats/auth.conf}"
        assert mounts["/var/lib/homecare/nats"] == f"{node}-data"
        assert set(svc["environment"]) == set(passwords_of_auth_conf())
    migrate = services["migrate"]
    needs = {name: dep["condition"] for name, dep in migrate["depends_on"].items()}
    assert needs == {**dict.fromkeys(NODES, "service_healthy"), "postgres": "service_healthy"}
    for name in RUNNABLE:
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )


def nats_urls(value: str) -> list[tuple[str | None, str]]:
    """(user, host:port) of each server in a HOMECARE_NATS_URL value."""
    parts = [urlsplit(u.strip()) for u in value.split(",")]
    return [(p.username, f"{p.hostname}:{p.port}") for p in parts]


def test_each_process_lists_every_node_with_its_own_nats_user() -> None:
    nodes = {f"{n}:4222" for n in NODES}
    for name, svc in compose_homecare_services().items():
        user = "admin" if name == "migrate" else name
        urls = nats_urls(svc["environment"]["HOMECARE_NATS_URL"])
        assert {u for u, _ in urls} == {user}, name
        assert {h for _, h in urls} == nodes, name
    secret = k8s_kind("Secret")["homecare-secrets"]["stringData"]
    statefulset = k8s_kind("StatefulSet")["nats"]
    pods = {
        f"nats-{i}.nats.homecare.svc.cluster.local:4222"
        for i in range(statefulset["spec"]["replicas"])
    }
    for user in (*RUNNABLE, "admin"):
        urls = nats_urls(secret[f"nats-url-{user}"])
        assert {u for u, _ in urls} == {user}
        assert {h for _, h in urls} == pods
    for d in [*k8s_kind("Deployment").values(), *k8s_kind("Job").values()]:
        (container,) = d["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e.get("valueFrom", {}).get("secretKeyRef", {}) for e in container["env"]}
        user = "admin" if container["args"] == ["migrate"] else container["args"][1]
        assert env["HOMECARE_NATS_URL"] == {"name": "homecare-secrets", "key": f"nats-url-{user}"}
    passwords = k8s_kind("Secret")["homecare-nats-passwords"]["stringData"]
    assert set(passwords) == set(passwords_of_auth_conf())


def test_the_kubernetes_cluster_is_three_pods_routed_by_their_dns_names() -> None:
    statefulset = k8s_kind("StatefulSet")["nats"]
    assert statefulset["spec"]["replicas"] == CLUSTER_REPLICAS
    service = k8s_kind("Service")[statefulset["spec"]["serviceName"]]
    assert service["spec"]["clusterIP"] == "None"
    assert service["spec"]["publishNotReadyAddresses"] is True
    text = k8s_nats_conf()
    assert routes(text) == {
        f"nats-route://nats-{i}.{service['metadata']['name']}.homecare.svc.cluster.local:6222"
        for i in range(CLUSTER_REPLICAS)
    }
    assert statefulset["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    # the same settings as the hosts' cluster
    hosts = nats_conf(CLUSTER / "nats-1.conf")
    for key in ("max_payload", "lame_duck_duration"):
        assert setting(text, key) == setting(hosts, key), key
    assert setting(block(text, "cluster"), "name") == setting(block(hosts, "cluster"), "name")
    for key in ("sync_interval", "max_file_store", "max_memory_store", "store_dir"):
        assert setting(block(text, "jetstream"), key) == setting(block(hosts, "jetstream"), key)
    assert k8s_kind("PodDisruptionBudget")["nats"]["spec"]["maxUnavailable"] == 1


# ---- nats-server accepts the files ----------------------------------------------------------


@pytest.fixture
def passwords() -> dict[str, str]:
    return passwords_of_auth_conf()


def test_nats_server_accepts_each_node_config(tmp_path: Path, passwords: dict[str, str]) -> None:
    for path in CLUSTER.glob("*.conf"):
        text = path.read_text(encoding="utf-8")
        text = text.replace("/var/lib/homecare/nats", str(tmp_path / "js"))
        (tmp_path / path.name).write_text(text, encoding="utf-8")
    shutil.copy(DEPLOY / "nats" / "auth.conf", tmp_path / "auth.conf")
    for node in NODES:
        checked = check_with_nats_server(tmp_path / f"{node}.conf", passwords)
        assert checked.returncode == 0, checked.stdout + checked.stderr
    # -t does check: a misspelled key or a missing password fails
    shared = tmp_path / "homecare-cluster.conf"
    shared.write_text(shared.read_text().replace("sync_interval:", "sync_intervall:"))
    assert check_with_nats_server(tmp_path / "nats-1.conf", passwords).returncode != 0
    shared.write_text(shared.read_text().replace("sync_intervall:", "sync_interval:"))
    partial = dict(list(passwords.items())[1:])
    assert check_with_nats_server(tmp_path / "nats-1.conf", partial).returncode != 0


def test_nats_server_accepts_the_single_node_and_kubernetes_configs(
    tmp_path: Path, passwords: dict[str, str]
) -> None:
    single = check_with_nats_server(DEPLOY / "nats" / "nats-server.conf", {})
    assert single.returncode == 0, single.stderr
    (tmp_path / "auth").mkdir()
    shutil.copy(DEPLOY / "nats" / "auth.conf", tmp_path / "auth" / "auth.conf")
    config = tmp_path / "nats.conf"
    config.write_text(
        k8s_nats_conf()
        .replace("/var/lib/homecare/nats", str(tmp_path / "js"))
        .replace("/var/run/nats/", f"{tmp_path}/"),
        encoding="utf-8",
    )
    checked = check_with_nats_server(config, {**passwords, "POD_NAME": "nats-0"})
    assert checked.returncode == 0, checked.stdout + checked.stderr


# ---- metrics ports --------------------------------------------------------------------------


def test_compose_scrapes_and_checks_each_service_on_its_metrics_port() -> None:
    services = compose_homecare_services()
    scrape = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    jobs = {j["job_name"]: j for j in scrape["scrape_configs"] if j["job_name"] in RUNNABLE}
    assert set(jobs) == RUNNABLE
    for name, job in jobs.items():
        (sd,) = job["dns_sd_configs"]
        assert sd["names"] == [name]
        port = int(services[name]["environment"]["HOMECARE_METRICS_PORT"])
        assert sd["port"] == port, name
        probe = " ".join(services[name]["healthcheck"]["test"])
        assert f"http://127.0.0.1:{port}/health/live" in probe, name
    prometheus = compose()["services"]["prometheus"]
    assert "./prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in prometheus["volumes"]


def test_the_hosts_scrape_config_matches_the_units_the_guide_enables() -> None:
    guide = (DEPLOY / "README.md").read_text(encoding="utf-8")
    enabled: dict[str, set[int]] = {}
    for service, port in re.findall(r"homecare-(\w+)@(\d+)\.service", guide):
        enabled.setdefault(service, set()).add(int(port))
    console = systemd_unit(SYSTEMD / "homecare-console.service")
    (console_port,) = (
        v.split("=", 1)[1]
        for v in values(console["Service"], "Environment")
        if v.startswith("HOMECARE_METRICS_PORT=")
    )
    enabled["console"] = {int(console_port)}
    assert set(enabled) == RUNNABLE
    scrape = yaml.safe_load((DEPLOY / "prometheus" / "prometheus-hosts.yml").read_text())
    jobs = {j["job_name"]: j for j in scrape["scrape_configs"]}
    assert set(jobs) == RUNNABLE
    for name, job in jobs.items():
        (static,) = job["static_configs"]
        ports = {int(t.rsplit(":", 1)[1]) for t in static["targets"]}
        assert ports <= enabled[name], f"{name}: scraped {ports}, enabled {enabled[name]}"
    every_port = [p for ports in enabled.values() for p in ports]
    assert len(every_port) == len(set(every_port)), "two services on one metrics port"


def test_kubernetes_probes_and_annotations_use_the_metrics_port() -> None:
    port = int(k8s_kind("ConfigMap")["homecare-config"]["data"]["HOMECARE_METRICS_PORT"])
    for name, d in k8s_kind("Deployment").items():
        template = d["spec"]["template"]
        annotations = template["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true", name
        assert int(annotations["prometheus.io/port"]) == port, name
        assert annotations["prometheus.io/path"] == "/metrics", name
        (container,) = template["spec"]["containers"]
        assert {"configMapRef": {"name": "homecare-config"}} in container["envFrom"]
        named = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert named["metrics"] == port, name
        assert container["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "metrics"}
        assert container["readinessProbe"]["httpGet"] == {"path": "/health", "port": "metrics"}


# ---- the guide ------------------------------------------------------------------------------


def test_the_guide_lists_the_streams_of_the_code() -> None:
    guide = (DEPLOY / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"(?m)^\| `(HC_[A-Z_]+)` \| `([^`]+)` \|", guide)
    assert dict(rows) == {s.name: s.subjects[0] for s in STREAMS}
    assert all(len(s.subjects) == 1 for s in STREAMS)
    prose = " ".join(guide.split())
    assert DUPLICATE_WINDOW_SECONDS == 120 and "**120 s** duplicate window" in prose
    assert MAX_AGE_SECONDS == 90 * 24 * 3600 and "**90-day** max age" in prose


def test_the_guide_lists_every_file_in_its_tree() -> None:
    guide = (DEPLOY / "README.md").read_text(encoding="utf-8")
    tree = guide.split("```", 2)[1]
    for path in deploy_text_files():
        if path.name in {"README.md"}:
            continue
        assert path.name in tree, f"deploy/README.md's tree does not show {path.name}"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    """`systemd-analyze verify` on copies whose programs are /bin/true (the real ones live
    under /opt/homecare): it reports unknown keys and bad values."""
    for path in [*SYSTEMD.glob("*.service"), *SYSTEMD.glob("*.target")]:
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"/opt/homecare/\.venv/bin/(homecare|nats-server)", "/bin/true", text)
        (tmp_path / path.name).write_text(text, encoding="utf-8")
    units = []
    for path in sorted(tmp_path.iterdir()):
        if path.name.endswith("@.service"):
            instance = "nats-1" if path.name.startswith("homecare-nats@") else "9101"
            path = path.with_name(path.name.replace("@.", f"@{instance}."))
        units.append(str(path))
    checked = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *units],
        capture_output=True,
        text=True,
        timeout=60,
    )
    problems = [
        line
        for line in checked.stderr.splitlines()
        if re.search(r"Unknown|Invalid|Failed to parse|bad|not valid", line, re.IGNORECASE)
    ]
    assert not problems, checked.stderr


def test_deploy_streams_prints_what_migrate_declares() -> None:
    """`homecare deploy streams`: every stream with the asked copies, every service's durable
    consumers, each filtering on a subject its stream holds."""
    from typer.testing import CliRunner

    from services.cli_deploy import deploy_app

    result = CliRunner().invoke(deploy_app, ["streams", "--replicas", "3"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert [s["name"] for s in document["streams"]] == [spec.name for spec in STREAMS]
    assert {s["num_replicas"] for s in document["streams"]} == {3}
    assert {s["duplicate_window"] for s in document["streams"]} == {120 * 10**9}
    by_name = {s["name"]: s for s in document["streams"]}
    names = [c["config"]["durable_name"] for c in document["consumers"]]
    assert len(names) == len(set(names)) > 40
    assert {c["service"] for c in document["consumers"]} == set(BUILDERS)
    for consumer in document["consumers"]:
        prefixes = [p.removesuffix(">") for p in by_name[consumer["stream"]]["subjects"]]
        subject = consumer["config"]["filter_subject"]
        assert any(subject.startswith(p) for p in prefixes), consumer
        assert consumer["config"]["ack_policy"] == "explicit", consumer
