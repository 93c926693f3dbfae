"""The resource graph the program builds, checked against Pulumi's mock monitor."""
from __future__ import annotations

from typing import Any

import pytest
from pulumi.runtime import rpc

from components.activemq import log_tail_command
from components.pod import SECRETS_ANNOTATION
from tests.unit.program_under_mocks import STACK_SECRETS, ProgramRun, run_program

POD = "kubernetes:core/v1:Pod"
DEV = {**STACK_SECRETS, "broker": {"persistence": {"enabled": True}}}


@pytest.fixture(scope="module")
def dev() -> ProgramRun:
    return run_program(DEV)


def secret_value(value: Any) -> Any:
    """The plain value inside a Pulumi secret as the mock monitor sees it; fails if not secret."""
    assert isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig, (
        f"not a Pulumi secret: {value!r}")
    return value["value"]


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def test_every_resource_and_its_parent(dev: ProgramRun) -> None:
    graph = sorted((r.type, r.name, r.parent_type) for r in dev.resources)
    broker, job, api = ("news-tracker:pods:ActiveMQBroker", "news-tracker:pods:NewsJob",
                        "news-tracker:pods:NewsApi")
    assert graph == sorted([
        ("kubernetes:core/v1:Namespace", "namespace", "pulumi:pulumi:Stack"),
        (broker, "activemq", "pulumi:pulumi:Stack"),
        ("kubernetes:core/v1:Secret", "activemq-admin", broker),
        ("kubernetes:core/v1:Secret", "activemq-publisher", broker),
        ("kubernetes:core/v1:Secret", "activemq-consumer", broker),
        ("kubernetes:core/v1:PersistentVolumeClaim", "activemq-data", broker),
        ("kubernetes:core/v1:Service", "activemq-service", broker),
        (POD, "activemq-pod", broker),
        (job, "news-job", "pulumi:pulumi:Stack"),
        ("kubernetes:core/v1:ConfigMap", "news-job-articles", job),
        (POD, "news-job-pod", job),
        (api, "news-api", "pulumi:pulumi:Stack"),
        (POD, "news-api-pod", api),
    ])


def test_pods_keep_the_posts_names_containers_and_ports(dev: ProgramRun) -> None:
    pods = {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in dev.of_type(POD)}
    containers = {pod: [(c["name"], [p["containerPort"] for p in c.get("ports", [])])
                        for c in spec["containers"]] for pod, spec in pods.items()}
    assert containers == {
        "activemq-pod": [("activemq", [8161, 61616, 61613]), ("broker-log", [])],
        "newsproducer-pod": [("newsproducer", [])],
        "newsapi-pod": [("newsapi", [8080])],
    }


def test_labels_are_the_posts_plus_the_recommended_set(dev: ProgramRun) -> None:
    labels = dev.one(POD, "news-api-pod").inputs["metadata"]["labels"]
    assert labels == {
        "app": "be-api", "part-of": "backend", "env": "dev",
        "app.kubernetes.io/name": "news-api", "app.kubernetes.io/instance": "news-api",
        "app.kubernetes.io/component": "api", "app.kubernetes.io/part-of": "news-tracker",
        "app.kubernetes.io/managed-by": "pulumi",
    }
    for resource in dev.resources:
        if resource.type.startswith("kubernetes:"):
            assert resource.inputs["metadata"]["labels"]["app.kubernetes.io/part-of"] == "news-tracker"


def test_namespace_enforces_the_restricted_pod_security_standard(dev: ProgramRun) -> None:
    namespace = dev.one("kubernetes:core/v1:Namespace", "namespace").inputs["metadata"]
    assert namespace["name"] == "develop"
    for mode in ("enforce", "warn", "audit"):
        assert namespace["labels"][f"pod-security.kubernetes.io/{mode}"] == "restricted"
    assert {r.inputs["metadata"]["namespace"] for r in dev.resources
            if r.type.startswith("kubernetes:") and "Namespace" not in r.type} == {"develop"}


def test_broker_service_selects_the_broker_pod_only(dev: ProgramRun) -> None:
    service = dev.one("kubernetes:core/v1:Service", "activemq-service").inputs
    assert service["metadata"]["name"] == "activemq"
    assert service["spec"]["type"] == "ClusterIP"
    assert [(p["name"], p["port"]) for p in service["spec"]["ports"]] == [
        ("stomp", 61613), ("openwire", 61616), ("console", 8161)]
    selected = [r.name for r in dev.of_type(POD)
                if service["spec"]["selector"].items() <= r.inputs["metadata"]["labels"].items()]
    assert selected == ["activemq-pod"]


@pytest.mark.parametrize(("pod", "login"), [("newsproducer-pod", "activemq-publisher"),
                                             ("newsapi-pod", "activemq-consumer")])
def test_job_and_api_reach_the_broker_through_its_service_each_with_its_own_login(
        dev: ProgramRun, pod: str, login: str) -> None:
    spec = next(r.inputs["spec"] for r in dev.of_type(POD) if r.inputs["metadata"]["name"] == pod)
    env = env_of(spec["containers"][0])
    assert env["ACTIVEMQ_HOST"] == "activemq"
    assert env["ACTIVEMQ_STOMP_PORT"] == "61613"
    assert env["ACTIVEMQ_QUEUE"] == "news-queue"
    assert env["ACTIVEMQ_PASSWORD"] == {"secretKeyRef": {"name": login, "key": "password"}}
    assert env["ACTIVEMQ_USER"] == {"secretKeyRef": {"name": login, "key": "username"}}
    assert not [name for name, value in env.items() if isinstance(value, dict)
                and value["secretKeyRef"]["name"] != login]  # no other login in reach


def test_the_broker_reads_every_roles_login_from_its_own_secret(dev: ProgramRun) -> None:
    env = env_of(dev.one(POD, "activemq-pod").inputs["spec"]["containers"][0])
    assert {name: (value["secretKeyRef"]["name"], value["secretKeyRef"]["key"])
            for name, value in env.items() if isinstance(value, dict)} == {
        f"ACTIVEMQ_{role.upper()}_{field.upper()}": (f"activemq-{role}", key)
        for role in ("admin", "publisher", "consumer") for field, key in (("user", "username"),
                                                                         ("password", "password"))}


@pytest.mark.parametrize(("secret", "user", "key"), [("activemq-admin", "newsadmin", "brokerPassword"),
                                                     ("activemq-publisher", "news-publisher", "brokerPublisherPassword"),
                                                     ("activemq-consumer", "news-consumer", "brokerConsumerPassword")])
def test_credentials_live_only_in_their_secret(dev: ProgramRun, secret: str, user: str, key: str) -> None:
    data = dev.one("kubernetes:core/v1:Secret", secret).inputs
    assert secret_value(data["stringData"]) == {"username": user, "password": STACK_SECRETS[key]}
    for resource in dev.resources:
        if resource.type != "kubernetes:core/v1:Secret" or resource.name != secret:
            assert STACK_SECRETS[key] not in repr(resource.inputs), resource.name


def test_every_pod_has_production_defaults(dev: ProgramRun) -> None:
    for resource in dev.of_type(POD):
        spec = resource.inputs["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert spec["terminationGracePeriodSeconds"] >= 0
        for container in spec["containers"]:
            assert container["securityContext"] == {"allowPrivilegeEscalation": False,
                                                    "capabilities": {"drop": ["ALL"]}}
            assert container["imagePullPolicy"] == "IfNotPresent"
            assert not container["image"].endswith(":latest")
            assert {"requests", "limits"} <= container["resources"].keys()
            assert "memory" in container["resources"]["limits"]


def test_probes_and_restart_policies_fit_each_pod(dev: ProgramRun) -> None:
    specs = {r.inputs["metadata"]["name"]: r.inputs["spec"] for r in dev.of_type(POD)}
    broker, job, api = specs["activemq-pod"], specs["newsproducer-pod"], specs["newsapi-pod"]
    assert broker["containers"][0]["readinessProbe"]["tcpSocket"] == {"port": 61613}
    assert api["containers"][0]["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": 8080}
    assert api["containers"][0]["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": 8080}
    # the job is Ready while its last batch reached the broker (a file the app keeps)
    ready_file = env_of(job["containers"][0])["NEWS_JOB_READY_FILE"]
    assert job["containers"][0]["readinessProbe"]["exec"] == {"command": ["test", "-e", ready_file]}
    assert (broker["restartPolicy"], job["restartPolicy"], api["restartPolicy"]) == (
        "Always", "OnFailure", "Always")


def test_broker_data_on_a_claim_and_logs_streamed_by_a_sidecar(dev: ProgramRun) -> None:
    spec = dev.one(POD, "activemq-pod").inputs["spec"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["data"]["persistentVolumeClaim"] == {"claimName": "activemq-data"}
    assert volumes["logs"]["emptyDir"] == {}
    broker, sidecar = spec["containers"]
    assert {m["mountPath"] for m in broker["volumeMounts"]} == {"/opt/activemq/data", "/var/log/activemq"}
    assert sidecar["command"] == list(log_tail_command("/var/log/activemq/activemq.log"))


def test_pods_are_created_together_each_after_the_secrets_it_reads(dev: ProgramRun) -> None:
    """kubectl's order: the job and the api do not wait for the broker pod, only for the Secret
    and ConfigMap their containers read (the Service needs no order: the apps retry)."""
    assert dev.one(POD, "activemq-pod").dependencies == {
        "activemq-admin", "activemq-publisher", "activemq-consumer", "activemq-data"}
    for component in ("news-tracker:pods:NewsJob", "news-tracker:pods:NewsApi"):
        assert [r.dependencies for r in dev.of_type(component)] == [{"namespace"}]
    assert dev.one(POD, "news-job-pod").dependencies == {"news-job-articles", "activemq-publisher"}
    assert dev.one(POD, "news-api-pod").dependencies == {"activemq-consumer"}
    newsapi = run_program({**STACK_SECRETS, "newsapiKey": "k", "job": {"source": "newsapi"}})
    assert newsapi.one(POD, "news-job-pod").dependencies == {"news-job-newsapi", "activemq-publisher"}


def secrets_versions(run: ProgramRun) -> dict[str, str]:
    """Each pod's SECRETS_ANNOTATION, by pod resource name."""
    return {pod.name: pod.inputs["metadata"].get("annotations", {}).get(SECRETS_ANNOTATION)
            for pod in run.of_type(POD)}


def test_a_changed_secret_replaces_exactly_the_pods_that_read_it(dev: ProgramRun) -> None:
    """Env from a Secret is read at container start: rotating a broker login must replace the
    broker and the one client that logs in with it (the admin's: the broker alone), and rotating
    newsapiKey only the job."""
    for pod in dev.of_type(POD):
        assert pod.replace_on_changes == (f'metadata.annotations["{SECRETS_ANNOTATION}"]',), pod.name
        assert pod.delete_before_replace, pod.name  # fixed pod names: the old one goes first
    before = secrets_versions(dev)
    assert {name: [secret.split("@")[0] for secret in value.split(",")] for name, value in before.items()} == {
        "activemq-pod": ["activemq-admin", "activemq-publisher", "activemq-consumer"],
        "news-job-pod": ["activemq-publisher"], "news-api-pod": ["activemq-consumer"]}
    assert secrets_versions(run_program(DEV)) == before  # nothing changed: nothing replaced

    for key, replaced in (("brokerPassword", {"activemq-pod"}),
                          ("brokerPublisherPassword", {"activemq-pod", "news-job-pod"}),
                          ("brokerConsumerPassword", {"activemq-pod", "news-api-pod"})):
        rotated = secrets_versions(run_program({**DEV, key: "rotated"}))
        assert {name for name in before if rotated[name] != before[name]} == replaced, key

    newsapi = {**STACK_SECRETS, "newsapiKey": "k1", "job": {"source": "newsapi"}}
    first = secrets_versions(run_program(newsapi))
    assert first["news-job-pod"].split(",")[1].startswith("news-job-newsapi@")
    second = secrets_versions(run_program({**newsapi, "newsapiKey": "k2"}))
    assert [name for name in first if first[name] != second[name]] == ["news-job-pod"]
    assert not [value for value in before.values() for password in STACK_SECRETS.values() if password in value]


def test_persistence_off_means_no_claim() -> None:
    run = run_program({**STACK_SECRETS, "broker": {"persistence": {"enabled": False}}})
    assert run.of_type("kubernetes:core/v1:PersistentVolumeClaim") == []
    assert "data" not in {v["name"] for v in run.one(POD, "activemq-pod").inputs["spec"]["volumes"]}


def test_spread_across_nodes_puts_one_spread_over_nodes_on_every_pod_and_is_off_by_default(
        dev: ProgramRun) -> None:
    assert all("topologySpreadConstraints" not in pod.inputs["spec"] for pod in dev.of_type(POD))
    spread = run_program({**STACK_SECRETS, "spreadAcrossNodes": True})
    for pod in spread.of_type(POD):
        assert pod.inputs["spec"]["topologySpreadConstraints"] == [{
            "maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "DoNotSchedule",
            "nodeTaintsPolicy": "Honor",
            "labelSelector": {"matchLabels": {"app.kubernetes.io/part-of": "news-tracker"}},
        }], pod.name


def test_job_mounts_its_articles_from_a_configmap(dev: ProgramRun) -> None:
    job = dev.one(POD, "news-job-pod").inputs["spec"]
    assert env_of(job["containers"][0])["NEWS_SOURCE_FILE"] == "/etc/news-job/articles.json"
    assert job["volumes"] == [{"name": "articles", "configMap": {"name": "news-job-articles"}}]
    configmap = dev.one("kubernetes:core/v1:ConfigMap", "news-job-articles").inputs
    assert "articles" in configmap["data"]["articles.json"]


def test_newsapi_source_reads_its_key_from_a_secret() -> None:
    run = run_program({**STACK_SECRETS, "newsapiKey": "not-a-real-key", "job": {"source": "newsapi"}})
    assert run.of_type("kubernetes:core/v1:ConfigMap") == []
    env = env_of(run.one(POD, "news-job-pod").inputs["spec"]["containers"][0])
    assert env["NEWSAPI_KEY"] == {"secretKeyRef": {"name": "news-job-newsapi", "key": "apiKey"}}
    secret = run.one("kubernetes:core/v1:Secret", "news-job-newsapi").inputs
    assert secret_value(secret["stringData"]) == {"apiKey": "not-a-real-key"}


def test_outputs_name_each_pod_with_its_own_ip_containers_and_ports(dev: ProgramRun) -> None:
    pods = dev.outputs["pods"]
    assert dev.outputs["namespace"] == "develop"
    assert {role: (p["name"], p["containers"], p["ports"]) for role, p in pods.items()} == {
        "broker": ("activemq-pod", ["activemq", "broker-log"],
                   {"console": 8161, "openwire": 61616, "stomp": 61613}),
        "job": ("newsproducer-pod", ["newsproducer"], {}),
        "api": ("newsapi-pod", ["newsapi"], {"http": 8080}),
    }
    # The provider's IPs are the mock's; what the program owns is that each pod's output carries
    # the IP of that pod (distinct IPs on a real cluster: tests/live/test_post.py test_02).
    assert {p["name"]: p["ip"] for p in pods.values()} == dev.pod_ips
    assert len(set(dev.pod_ips.values())) == 3


def test_render_stack_makes_no_secret() -> None:
    run = run_program({"renderDirectory": "manifests-under-test"})
    assert run.of_type("kubernetes:core/v1:Secret") == []
    assert set(secrets_versions(run).values()) == {None}  # the kubectl user's Secret: not ours
    assert [r.name for r in run.of_type("pulumi:providers:kubernetes")] == ["render"]


def test_every_wait_on_the_cluster_is_bounded_by_ready_timeout_seconds(dev: ProgramRun) -> None:
    default = {r.name: r.timeouts for r in dev.resources}
    assert set(default.values()) == {("180s", "180s", "180s")}, default
    short = run_program({**DEV, "readyTimeoutSeconds": 45})
    assert {r.timeouts for r in short.resources} == {("45s", "45s", "45s")}
