"""Pieces of the local driver that need no root and no cluster: process supervision, the
certificates' identities, and the add-on manifests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tools.cluster.local import addons, configs, layout, loaded, processes
from tools.cluster.local.layout import Layout
from tools.cluster.local.pki import ensure_pki
from tools.errors import SetupError
from tools.images.archive import ImageConfig, write_docker_archive, write_layer


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Layout:
    monkeypatch.setattr(processes, "READY_POLL_SECONDS", 0.01)  # these probes cost nothing
    return Layout.under(tmp_path / "cluster")


def test_a_component_that_dies_at_start_names_its_log_and_shows_its_tail(state: Layout) -> None:
    failing = processes.Process(
        "broken", [sys.executable, "-c", "print('bad flag --frobnicate'); raise SystemExit(3)"], lambda: False
    )
    started = processes.start(state, failing)
    with pytest.raises(SetupError) as raised:
        processes.wait_ready(state, [started], timeout=30)
    message = str(raised.value)
    assert str(state.logs / "broken.log") in message
    assert "bad flag --frobnicate" in message
    assert "exit 3" in message


def test_a_started_process_is_tracked_by_pid_file_and_stopped(state: Layout) -> None:
    # Ready once its code runs, as a real component's probe is: just after start() the process
    # can still be inside exec, with an empty /proc/<pid>/environ that holds no marker yet.
    up = state.root / "sleeper.up"
    code = f"import pathlib, time; pathlib.Path({str(up)!r}).touch(); time.sleep(60)"
    sleeper = processes.Process("sleeper", [sys.executable, "-c", code], up.exists)
    started = processes.start(state, sleeper)
    processes.wait_ready(state, [started], timeout=30)
    assert processes.running(state, "sleeper")
    processes.stop(state, ["sleeper"])
    assert started.child.wait(timeout=10) is not None
    assert not processes.running(state, "sleeper")
    assert not processes.pid_file(state, "sleeper").exists()


def test_a_stale_pid_file_naming_someone_elses_process_is_ignored(state: Layout) -> None:
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        state.pids.mkdir(parents=True)
        processes.pid_file(state, "etcd").write_text(f"{bystander.pid}\n")
        assert not processes.running(state, "etcd")
        processes.stop(state, ["etcd"])
        assert bystander.poll() is None, "stop must not signal a process that is not the cluster's"
    finally:
        bystander.kill()
        bystander.wait()


def test_certificates_carry_the_identities_rbac_expects(tmp_path: Path) -> None:
    ensure_pki(tmp_path)

    def text(name: str) -> str:
        return subprocess.run(
            ["openssl", "x509", "-in", str(tmp_path / name), "-noout", "-subject", "-ext", "subjectAltName"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    assert f"O = system:nodes, CN = system:node:{layout.NODE_NAME}" in text("kubelet.crt")
    assert "O = system:masters" in text("admin.crt")
    apiserver = text("apiserver.crt")
    for name in (layout.NODE_IP, layout.KUBERNETES_SERVICE_IP, "kubernetes.default.svc.cluster.local"):
        assert name in apiserver
    usages = {name: subprocess.run(["openssl", "x509", "-in", str(tmp_path / name), "-noout", "-ext", "extendedKeyUsage"],
                                   capture_output=True, text=True, check=True).stdout
              for name in ("etcd-server.crt", "apiserver-etcd-client.crt", "apiserver.crt")}
    # etcd's gRPC gateway dials etcd with the server certificate: it must be a client one too
    assert "TLS Web Server Authentication" in usages["etcd-server.crt"]
    assert "TLS Web Client Authentication" in usages["etcd-server.crt"]
    assert "TLS Web Server Authentication" not in usages["apiserver-etcd-client.crt"]
    assert "TLS Web Client Authentication" not in usages["apiserver.crt"]
    assert {oct(key.stat().st_mode & 0o777) for key in tmp_path.glob("*.key")} == {"0o600"}
    for certificate in sorted(tmp_path.glob("*.crt")):
        subprocess.run(
            ["openssl", "verify", "-CAfile", str(tmp_path / "ca.crt"), str(certificate)],
            capture_output=True,
            check=True,
        )


def test_addons_render_to_valid_manifests_without_placeholders(state: Layout) -> None:
    rendered = [
        addons.render("kubelet-api-access", apiserver_kubelet_client="user"),
        addons.render("coredns", cluster_domain="cluster.local", coredns_image="img:1", dns_service_ip="10.96.0.10"),
        addons.render("storage"),
        addons.render("persistent-volume", name="pv", path="/tmp/pv"),
        addons.pv_recycler_template(state).read_text(),
    ]
    for manifest in rendered:
        assert "${" not in manifest
        assert all(document["kind"] for document in yaml.safe_load_all(manifest))


def test_cluster_dns_has_no_upstream_forwarding() -> None:
    corefile = next(
        document["data"]["Corefile"]
        for document in yaml.safe_load_all(
            addons.render("coredns", cluster_domain="cluster.local", coredns_image="i:1", dns_service_ip="x")
        )
        if document["kind"] == "ConfigMap"
    )
    assert "forward" not in corefile
    assert "proxy" not in corefile


def archive_of(tmp_path: Path, reference: str) -> Path:
    """A tiny real docker-archive tagged `reference`."""
    rootfs = tmp_path / f"rootfs-{reference.rsplit(':', 1)[-1]}"
    rootfs.mkdir()
    (rootfs / "hello").write_text("hi")
    write_layer(rootfs, tmp_path / "layer.tar")
    archive = tmp_path / f"{rootfs.name}.tar"
    write_docker_archive(archive, reference, [tmp_path / "layer.tar"], ImageConfig(cmd=("/hello",)))
    return archive


def test_loaded_images_are_remembered_and_the_lost_ones_found_with_their_archive(
    state: Layout, tmp_path: Path
) -> None:
    first = archive_of(tmp_path, "localhost/news-tracker/a:1")
    second = archive_of(tmp_path, "localhost/news-tracker/b:2")
    loaded.remember(state, [first, second])
    assert loaded.lost(state, ["localhost/news-tracker/a:1", "localhost/news-tracker/b:2"]) == {}
    assert loaded.lost(state, ["localhost/news-tracker/a:1"]) == {"localhost/news-tracker/b:2": second}


def test_a_file_that_is_not_a_docker_archive_is_named(state: Layout, tmp_path: Path) -> None:
    (tmp_path / "junk.tar").write_text("junk")
    with pytest.raises(SetupError, match="junk.tar is not a docker-archive"):
        loaded.remember(state, [tmp_path / "junk.tar"])


def test_a_config_with_the_same_content_is_not_written_again(state: Layout) -> None:
    """A running kube-proxy exits on any write (or chmod) of its config file, and every
    `cluster.up` builds each component's config: an unchanged one must stay untouched."""
    path = configs.kube_proxy_config(state)
    before = path.stat()
    configs.kube_proxy_config(state)
    after = path.stat()
    assert (after.st_mtime_ns, after.st_ctime_ns) == (before.st_mtime_ns, before.st_ctime_ns)
    path.write_text("changed: true\n")
    assert configs.kube_proxy_config(state).read_text() != "changed: true\n"


def test_a_private_config_is_created_with_its_final_mode_never_chmod_ed_after(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A kubeconfig holds a client key: created 0644 and chmod-ed to 0600 afterwards, others could
    open it in between."""
    chmods: list[int] = []
    monkeypatch.setattr(Path, "chmod", lambda self, mode: chmods.append(mode))
    path = configs._write(tmp_path / "admin.kubeconfig", "client-key-data: x\n", mode=0o600)
    assert (path.stat().st_mode & 0o777, chmods) == (0o600, [])
    assert [p.name for p in tmp_path.iterdir()] == ["admin.kubeconfig"]  # no temporary left
