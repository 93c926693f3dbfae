"""The cluster's certificates: one CA, and a key and certificate per component identity.

Made with the openssl CLI (ECDSA P-256: fast to generate, accepted by every component). The
identities follow Kubernetes' conventions: the CN is the user name and O the group, so RBAC's
built-in roles (system:node, system:kube-scheduler, ...) apply without extra bindings.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from tools.cluster.commands import run
from tools.cluster.local import layout

VALID_DAYS = 3650


@dataclass(frozen=True)
class Identity:
    """One certificate to issue: file stem, subject, usage and (for servers) alternative names."""

    stem: str
    common_name: str
    organization: str = ""
    server_names: tuple[str, ...] = ()
    client_too: bool = False
    """A server certificate that its server also presents as a client (etcd's gRPC gateway
    dials etcd itself with it)."""

    @property
    def subject(self) -> str:
        return (f"/O={self.organization}" if self.organization else "") + f"/CN={self.common_name}"


APISERVER_KUBELET_CLIENT = "kube-apiserver-kubelet-client"
"""The user the API server is when it calls kubelets (logs, exec, port-forward); RBAC-bound in addons."""

IDENTITIES: tuple[Identity, ...] = (
    Identity(
        "apiserver",
        "kube-apiserver",
        server_names=(
            f"IP:{layout.NODE_IP}",
            "IP:127.0.0.1",
            f"IP:{layout.KUBERNETES_SERVICE_IP}",
            "DNS:localhost",
            "DNS:kubernetes",
            "DNS:kubernetes.default",
            "DNS:kubernetes.default.svc",
            f"DNS:kubernetes.default.svc.{layout.CLUSTER_DOMAIN}",
        ),
    ),
    Identity(
        "kubelet-serving",
        f"system:node:{layout.NODE_NAME}",
        server_names=(f"IP:{layout.NODE_IP}", f"DNS:{layout.NODE_NAME}"),
    ),
    Identity("apiserver-kubelet-client", APISERVER_KUBELET_CLIENT),
    Identity("etcd-server", "etcd", server_names=("IP:127.0.0.1", "DNS:localhost"), client_too=True),
    Identity("apiserver-etcd-client", "kube-apiserver-etcd-client"),
    Identity("kubelet", f"system:node:{layout.NODE_NAME}", "system:nodes"),
    Identity("controller-manager", "system:kube-controller-manager"),
    Identity("scheduler", "system:kube-scheduler"),
    Identity("kube-proxy", "system:kube-proxy"),
    Identity("admin", "news-tracker-admin", "system:masters"),
)


def ensure_pki(directory: Path) -> None:
    """Create the CA, every identity's certificate and the service-account key pair if missing."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not (directory / "ca.crt").is_file():
        _new_key(directory / "ca.key")
        run(
            [
                "openssl",
                "req",
                "-x509",
                "-new",
                "-key",
                str(directory / "ca.key"),
                "-subj",
                "/CN=news-tracker-ca",
                "-days",
                str(VALID_DAYS),
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
                "-out",
                str(directory / "ca.crt"),
            ]
        )
    for identity in IDENTITIES:
        if not (directory / f"{identity.stem}.crt").is_file():
            _issue(directory, identity)
    if not (directory / "service-account.pub").is_file():
        _new_key(directory / "service-account.key")
        run(
            [
                "openssl",
                "pkey",
                "-in",
                str(directory / "service-account.key"),
                "-pubout",
                "-out",
                str(directory / "service-account.pub"),
            ]
        )


def _new_key(path: Path) -> None:
    run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(path)])
    path.chmod(0o600)


def _issue(directory: Path, identity: Identity) -> None:
    key, csr, extensions = (directory / f"{identity.stem}{suffix}" for suffix in (".key", ".csr", ".ext"))
    _new_key(key)
    usage = ("serverAuth,clientAuth" if identity.client_too else "serverAuth") if identity.server_names else "clientAuth"
    lines = [
        "basicConstraints=critical,CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        f"extendedKeyUsage={usage}",
    ]
    if identity.server_names:
        lines.append("subjectAltName=" + ",".join(identity.server_names))
    extensions.write_text("\n".join(lines) + "\n")
    try:
        run(["openssl", "req", "-new", "-key", str(key), "-subj", identity.subject, "-out", str(csr)])
        run(
            [
                "openssl",
                "x509",
                "-req",
                "-in",
                str(csr),
                "-CA",
                str(directory / "ca.crt"),
                "-CAkey",
                str(directory / "ca.key"),
                "-set_serial",
                f"0x{secrets.token_hex(16)}",
                "-days",
                str(VALID_DAYS),
                "-extfile",
                str(extensions),
                "-out",
                str(directory / f"{identity.stem}.crt"),
            ]
        )
    finally:
        csr.unlink(missing_ok=True)
        extensions.unlink(missing_ok=True)
