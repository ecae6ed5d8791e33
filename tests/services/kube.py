"""A real kube-apiserver and kube-controller-manager backed by a real etcd on loopback, for
integration tests and the local run.

Berth's registry app must be tested against Kubernetes' own validation, admission, conflict and
RBAC behaviour rather than a fake. No registry reachable from here ships these servers, so
``tests/k8s/build.sh`` builds the binaries from Go modules once and caches them; this module
starts them in a throw-away working directory and stops them again.

The API server gets a self-signed serving certificate, a fresh service-account signing key, static
bearer tokens for its users and RBAC authorization:

* ``berth-admin`` is in ``system:masters``;
* ``berth-restricted`` is bound by a Role to one namespace (``RESTRICTED_NAMESPACE``) only;
* ``system:kube-controller-manager`` is the controller manager, with the rights Kubernetes' bootstrap
  RBAC policy gives it; as on a kubeadm cluster, each controller then acts as its own ServiceAccount
  in ``kube-system``.

The controller manager runs only the controllers a cluster without nodes needs to behave like a
real one towards Berth (``CONTROLLERS``): every namespace gets its ``default`` ServiceAccount,
deleted namespaces are emptied and removed, and dependents are garbage-collected.

All processes lead their own process group so that ``stop()`` ends anything they spawn. Servers
started for a test run are also stopped at interpreter exit, on SIGTERM, and killed by the kernel
if the parent dies outright (PR_SET_PDEATHSIG). Servers started by the CLI are detached on purpose and
live until ``stop``:

    python -m tests.services.kube start --dir DIR   # last stdout line: admin kubeconfig path
    python -m tests.services.kube status --dir DIR
    python -m tests.services.kube stop --dir DIR
"""

from __future__ import annotations

import argparse
import atexit
import base64
import ctypes
import datetime as dt
import ipaddress
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

BUILD_SCRIPT = Path(__file__).resolve().parents[1] / "k8s" / "build.sh"
ADMIN_USER = "berth-admin"
RESTRICTED_USER = "berth-restricted"
RESTRICTED_NAMESPACE = "team-a"
READY_TIMEOUT = 120.0
STOP_TIMEOUT = 15.0
CONTROLLER_MANAGER_USER = "system:kube-controller-manager"
CONTROLLERS = (
    "serviceaccount-controller",
    "serviceaccount-token-controller",
    "namespace-controller",
    "garbage-collector-controller",
)

# The restricted user's rights in its one namespace: what the registry app needs to manage
# image-pull secrets and attach them to ServiceAccounts, plus read access for troubleshooting.
RESTRICTED_RULES = [
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "create", "update", "patch", "delete"]},
    {"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["get", "list", "patch"]},
    {"apiGroups": [""], "resources": ["pods", "events"], "verbs": ["get", "list"]},
]

# Everything a start creates inside the working directory; a fresh start removes exactly these.
_STATE_NAMES = (
    "etcd-data",
    "pki",
    "logs",
    "tokens.csv",
    "admin.kubeconfig",
    "restricted.kubeconfig",
    "controller-manager.kubeconfig",
    "server.json",
    "etcd.pid",
    "kube-apiserver.pid",
    "kube-controller-manager.pid",
)
# Started in this order; stopped in reverse, the apiserver before etcd because its graceful
# shutdown still writes to etcd and stalls without it.
_PROCESS_NAMES = ("etcd", "kube-apiserver", "kube-controller-manager")


class KubeStartError(RuntimeError):
    """A server failed to start; the message carries the tail of its log."""


def ensure_binaries() -> Path:
    """The folder holding ``kube-apiserver``, ``kube-controller-manager`` and ``etcd``, building them
    on first use.

    build.sh reports progress on stderr, which is passed through so a long cold build is visible.
    """
    result = subprocess.run(["bash", str(BUILD_SCRIPT)], stdout=subprocess.PIPE, text=True, check=True)
    return Path(result.stdout.strip().splitlines()[-1])


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:
    # atexit and signal handlers cannot run when the parent is SIGKILLed; the kernel then
    # signals the child instead. SIGKILL, not SIGTERM: etcd gets the signal at the same moment,
    # and kube-apiserver's graceful shutdown then hangs waiting for it. The data is disposable.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _pem_private_key(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _serving_certificate() -> tuple[bytes, bytes]:
    """A self-signed certificate for 127.0.0.1/localhost; clients trust it as their CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "berth-test-kube-apiserver")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM), _pem_private_key(key)


def _process_alive(pid: int, binary_name: str) -> bool:
    # Matching the executable guards against a recycled pid from a stale pid file; a zombie
    # has an empty command line, so it counts as gone.
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False
    return Path(os.fsdecode(cmdline.split(b"\0", 1)[0])).name == binary_name


def _stop_group(pid: int, binary_name: str, process: subprocess.Popen | None = None) -> None:
    """SIGTERM the process group led by ``pid``, then SIGKILL it if it lingers.

    ``process`` is given when ``pid`` is our own child, which must then be reaped.
    """
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not _process_alive(pid, binary_name):
            break
        os.killpg(pid, sig)
        deadline = time.monotonic() + STOP_TIMEOUT
        while _process_alive(pid, binary_name) and time.monotonic() < deadline:
            time.sleep(0.1)
    if process is not None:
        process.wait(timeout=STOP_TIMEOUT)


class KubeApiServer:
    """etcd, kube-apiserver and kube-controller-manager on loopback, configured from files in ``workdir``.

    ``tied_to_parent=False`` is for the CLI: the processes then outlive this Python process and
    are found again through the pid files in ``workdir``.
    """

    def __init__(self, workdir: Path, bin_dir: Path, *, tied_to_parent: bool = True) -> None:
        self.workdir = Path(workdir)
        self.bin_dir = Path(bin_dir)
        self.tied_to_parent = tied_to_parent
        self.admin_kubeconfig = self.workdir / "admin.kubeconfig"
        self.restricted_kubeconfig = self.workdir / "restricted.kubeconfig"
        self.controller_manager_kubeconfig = self.workdir / "controller-manager.kubeconfig"
        self.restricted_namespace = RESTRICTED_NAMESPACE
        self.url = ""
        self._pki = self.workdir / "pki"
        self._logs = self.workdir / "logs"
        self._admin_token = ""
        self._processes: dict[str, subprocess.Popen] = {}

    def __enter__(self) -> KubeApiServer:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self) -> None:
        for name in _STATE_NAMES:
            path = self.workdir / name
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
        self._pki.mkdir(parents=True)
        self._logs.mkdir()
        if self.tied_to_parent:
            _safety_net.track(self)
        try:
            tokens = self._write_credentials()
            etcd_url = self._start_etcd()
            self._start_apiserver(etcd_url)
            self._write_kubeconfig(self.admin_kubeconfig, ADMIN_USER, tokens[ADMIN_USER])
            self._write_kubeconfig(self.restricted_kubeconfig, RESTRICTED_USER, tokens[RESTRICTED_USER])
            self._write_kubeconfig(
                self.controller_manager_kubeconfig, CONTROLLER_MANAGER_USER, tokens[CONTROLLER_MANAGER_USER]
            )
            self._grant_restricted_user()
            self._start_controller_manager()
        except BaseException:
            self.stop()
            raise
        (self.workdir / "server.json").write_text(
            json.dumps(
                {
                    "url": self.url,
                    "admin_kubeconfig": str(self.admin_kubeconfig),
                    "restricted_kubeconfig": str(self.restricted_kubeconfig),
                    "restricted_namespace": self.restricted_namespace,
                },
                indent=2,
            )
        )

    def stop(self) -> None:
        for name in reversed(_PROCESS_NAMES):
            process = self._processes.pop(name, None)
            if process is not None:
                _stop_group(process.pid, name, process)
            (self.workdir / f"{name}.pid").unlink(missing_ok=True)
        _safety_net.forget(self)

    def _write_credentials(self) -> dict[str, str]:
        certificate, key = _serving_certificate()
        (self._pki / "serving.crt").write_bytes(certificate)
        (self._pki / "serving.key").write_bytes(key)
        account_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        (self._pki / "service-account.key").write_bytes(_pem_private_key(account_key))
        (self._pki / "service-account.pub").write_bytes(
            account_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
        tokens = {user: secrets.token_hex(24) for user in (ADMIN_USER, RESTRICTED_USER, CONTROLLER_MANAGER_USER)}
        self._admin_token = tokens[ADMIN_USER]
        # token,user,uid,"groups"; the others get only system:authenticated, the controller manager
        # its rights from the bootstrap ClusterRoleBinding named after it.
        (self.workdir / "tokens.csv").write_text(
            f'{tokens[ADMIN_USER]},{ADMIN_USER},{ADMIN_USER},"system:masters"\n'
            f"{tokens[RESTRICTED_USER]},{RESTRICTED_USER},{RESTRICTED_USER}\n"
            f"{tokens[CONTROLLER_MANAGER_USER]},{CONTROLLER_MANAGER_USER},{CONTROLLER_MANAGER_USER}\n"
        )
        return tokens

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        with (self._logs / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(
                [str(self.bin_dir / name), *args],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                start_new_session=True,
                preexec_fn=_die_with_parent if self.tied_to_parent else None,
            )
        self._processes[name] = process
        (self.workdir / f"{name}.pid").write_text(f"{process.pid}\n")
        return process

    def _start_etcd(self) -> str:
        client_url = f"http://127.0.0.1:{free_loopback_port()}"
        peer_url = f"http://127.0.0.1:{free_loopback_port()}"
        process = self._spawn(
            "etcd",
            [
                "--name=berth-test",
                f"--data-dir={self.workdir / 'etcd-data'}",
                f"--listen-client-urls={client_url}",
                f"--advertise-client-urls={client_url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=berth-test={peer_url}",
                # The data is thrown away after the run; fsync would only slow every write.
                "--unsafe-no-fsync",
                "--log-level=warn",
            ],
        )
        self._wait_until("etcd", process, f"{client_url}/health")
        return client_url

    def _start_apiserver(self, etcd_url: str) -> None:
        port = free_loopback_port()
        self.url = f"https://127.0.0.1:{port}"
        process = self._spawn(
            "kube-apiserver",
            [
                f"--etcd-servers={etcd_url}",
                "--bind-address=127.0.0.1",
                # Without it the apiserver looks for a default route, which a sandbox may lack.
                "--advertise-address=127.0.0.1",
                # The endpoint reconcilers refuse a loopback address for the `kubernetes`
                # Service, which no pod here would ever use anyway.
                "--endpoint-reconciler-type=none",
                f"--secure-port={port}",
                f"--tls-cert-file={self._pki / 'serving.crt'}",
                f"--tls-private-key-file={self._pki / 'serving.key'}",
                f"--token-auth-file={self.workdir / 'tokens.csv'}",
                "--authorization-mode=RBAC",
                f"--service-account-key-file={self._pki / 'service-account.pub'}",
                f"--service-account-signing-key-file={self._pki / 'service-account.key'}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                "--service-cluster-ip-range=10.96.0.0/24",
                "--profiling=false",
            ],
        )
        self._wait_until(
            "kube-apiserver",
            process,
            f"{self.url}/readyz",
            headers={"Authorization": f"Bearer {self._admin_token}"},
            verify=str(self._pki / "serving.crt"),
        )

    def _start_controller_manager(self) -> None:
        process = self._spawn(
            "kube-controller-manager",
            [
                f"--kubeconfig={self.controller_manager_kubeconfig}",
                f"--controllers={','.join(CONTROLLERS)}",
                "--use-service-account-credentials=true",
                # Signs the token Secrets of type service-account-token; the apiserver verifies
                # them with the public half.
                f"--service-account-private-key-file={self._pki / 'service-account.key'}",
                f"--root-ca-file={self._pki / 'serving.crt'}",
                "--leader-elect=false",
                # Its health endpoint is not used, but the default port 10257 would clash between
                # test sessions, and the default certificate folder is /var/run/kubernetes.
                "--bind-address=127.0.0.1",
                f"--secure-port={free_loopback_port()}",
                f"--cert-dir={self._pki / 'controller-manager'}",
                "--profiling=false",
            ],
        )
        # Healthy is not yet working: the namespace made just before must have got its account.
        self._wait_until(
            "kube-controller-manager",
            process,
            f"{self.url}/api/v1/namespaces/{self.restricted_namespace}/serviceaccounts/default",
            headers={"Authorization": f"Bearer {self._admin_token}"},
            verify=str(self._pki / "serving.crt"),
        )

    def _wait_until(self, name: str, process: subprocess.Popen, url: str, **request_options) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise KubeStartError(f"{name} exited with {process.returncode}:\n{self._log_tail(name)}")
            try:
                if requests.get(url, timeout=2, **request_options).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise KubeStartError(f"{name} not ready after {READY_TIMEOUT:.0f}s:\n{self._log_tail(name)}")

    def _log_tail(self, name: str) -> str:
        return "\n".join((self._logs / f"{name}.log").read_text(errors="replace").splitlines()[-40:])

    def _write_kubeconfig(self, path: Path, user: str, token: str) -> None:
        ca_data = base64.b64encode((self._pki / "serving.crt").read_bytes()).decode()
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": "berth-test", "cluster": {"server": self.url, "certificate-authority-data": ca_data}}
            ],
            "users": [{"name": user, "user": {"token": token}}],
            "contexts": [{"name": user, "context": {"cluster": "berth-test", "user": user}}],
            "current-context": user,
        }
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        path.chmod(0o600)

    def _grant_restricted_user(self) -> None:
        namespace = self.restricted_namespace
        role = "berth-restricted"
        objects = [
            ("/api/v1/namespaces", {"metadata": {"name": namespace}}),
            (
                f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/roles",
                {"metadata": {"name": role}, "rules": RESTRICTED_RULES},
            ),
            (
                f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/rolebindings",
                {
                    "metadata": {"name": role},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
                    "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": RESTRICTED_USER}],
                },
            ),
        ]
        for path, body in objects:
            # verify per request: a Session's own verify loses to REQUESTS_CA_BUNDLE.
            response = requests.post(
                f"{self.url}{path}",
                json=body,
                headers={"Authorization": f"Bearer {self._admin_token}"},
                verify=str(self._pki / "serving.crt"),
                timeout=10,
            )
            if response.status_code != 201:
                raise KubeStartError(f"POST {path}: {response.status_code} {response.text}")


class _SafetyNet:
    """Stops servers a test run started when the interpreter exits or is sent SIGTERM."""

    def __init__(self) -> None:
        self._servers: list[KubeApiServer] = []
        self._installed = False

    def track(self, server: KubeApiServer) -> None:
        if not self._installed:
            self._installed = True
            atexit.register(self.stop_all)
            # Python dies on SIGTERM without running atexit; take over only an untouched default.
            try:
                if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
                    signal.signal(signal.SIGTERM, self._on_sigterm)
            except ValueError:  # not the main thread: atexit and PDEATHSIG still apply
                pass
        self._servers.append(server)

    def forget(self, server: KubeApiServer) -> None:
        if server in self._servers:
            self._servers.remove(server)

    def stop_all(self) -> None:
        for server in list(self._servers):
            server.stop()

    def _on_sigterm(self, signum, frame) -> None:
        self.stop_all()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)


_safety_net = _SafetyNet()


def _running(workdir: Path) -> dict | None:
    """The server.json of a server still running from ``workdir``, else None."""
    try:
        info = json.loads((workdir / "server.json").read_text())
        pids = {name: int((workdir / f"{name}.pid").read_text()) for name in _PROCESS_NAMES}
    except (FileNotFoundError, ValueError):
        return None
    if not all(_process_alive(pid, name) for name, pid in pids.items()):
        return None
    try:
        response = requests.get(f"{info['url']}/readyz", verify=str(workdir / "pki" / "serving.crt"), timeout=2)
        ready = response.status_code == 200
    except requests.RequestException:
        ready = False
    return info if ready else None


def _stop_from_pid_files(workdir: Path) -> None:
    for name in reversed(_PROCESS_NAMES):
        pid_file = workdir / f"{name}.pid"
        try:
            pid = int(pid_file.read_text())
        except (FileNotFoundError, ValueError):
            continue
        _stop_group(pid, name)
        pid_file.unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.services.kube", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["start", "stop", "status"])
    parser.add_argument("--dir", type=Path, required=True, help="working directory for data, logs and pid files")
    args = parser.parse_args(argv)
    workdir = args.dir.resolve()

    if args.command == "start":
        info = _running(workdir)
        if info is None:
            _stop_from_pid_files(workdir)  # leftovers of a half-dead earlier start
            workdir.mkdir(parents=True, exist_ok=True)
            server = KubeApiServer(workdir, ensure_binaries(), tied_to_parent=False)
            server.start()
            print(f"kube-apiserver and kube-controller-manager ready at {server.url}", file=sys.stderr)
            print(server.admin_kubeconfig)
        else:
            print(f"kube-apiserver already running at {info['url']}", file=sys.stderr)
            print(info["admin_kubeconfig"])
        return 0
    if args.command == "stop":
        _stop_from_pid_files(workdir)
        return 0
    info = _running(workdir)
    if info is None:
        print("stopped")
        return 3  # the LSB status code for "not running"
    print(f"running url={info['url']} admin_kubeconfig={info['admin_kubeconfig']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
