"""Fake executables for unit tests: small scripts put first on PATH in place of real tools."""
from __future__ import annotations

import sys
from pathlib import Path


def fake_executable(directory: Path, name: str, body: str, interpreter: str = "/bin/sh") -> Path:
    """Write an executable script `directory/name` running `body` under `interpreter`."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(f"#!{interpreter}\n{body}")
    path.chmod(0o755)
    return path


def fake_pulumi(directory: Path, version: str) -> Path:
    """A `pulumi` that prints `version`, and whose `plugin install ... --file F` copies F into
    $PULUMI_HOME/plugins/<kind>-<name>-<version>/ the way the real one lays plugins out, logging
    each call to `calls.log` beside it."""
    return fake_executable(directory, "pulumi", f"""\
echo "$*" >> "{directory}/calls.log"
case "$1" in
  version) echo "v{version}" ;;
  plugin)
    dir="$PULUMI_HOME/plugins/$3-$4-$5"; mkdir -p "$dir"
    cp "$7" "$dir/pulumi-resource-$4" ;;
  *) exit 2 ;;
esac
""")


def fake_provider(directory: Path, version: str) -> Path:
    """A `pulumi-resource-kubernetes` speaking the plugin protocol: it prints its port and answers
    GetPluginInfo with `version` until SIGINT, as a real provider in attach mode does. SIGINT is
    blocked before the port is printed and taken with sigtimedwait: a Python handler could run
    before it was installed, or inside Event.wait holding the lock that its own set() needs, and
    the process then hung until the prober's 5 s wait ran out and killed it."""
    return fake_executable(directory, "pulumi-resource-kubernetes", f"""\
import signal, grpc
from concurrent import futures
from pulumi.runtime.proto import plugin_pb2, provider_pb2_grpc

class Provider(provider_pb2_grpc.ResourceProviderServicer):
    def GetPluginInfo(self, request, context):
        return plugin_pb2.PluginInfo(version="{version}")

signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGINT])  # the server's threads inherit the mask
server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
provider_pb2_grpc.add_ResourceProviderServicer_to_server(Provider(), server)
port = server.add_insecure_port("127.0.0.1:0")
server.start()
print(port, flush=True)
signal.sigtimedwait([signal.SIGINT], 60)
server.stop(0)
""", interpreter=sys.executable)


#: How the fake kubectl answers: argv (after the global flags) starting with `args` gets this
#: stdout, stderr and exit code; the first match wins, and argv that matches none exits 0 silently.
KUBECTL_ANSWERS = "kubectl-answers.json"
#: One JSON list per call: the full argv the fake kubectl was given.
KUBECTL_CALLS = "kubectl-calls.jsonl"


def fake_kubectl(directory: Path) -> Path:
    """A `kubectl` that records its argv and answers from KUBECTL_ANSWERS beside it."""
    return fake_executable(directory, "kubectl", f"""\
import json, sys
from pathlib import Path

here = Path({str(directory)!r})
argv = sys.argv[1:]
with (here / {KUBECTL_CALLS!r}).open("a") as calls:
    calls.write(json.dumps(argv) + "\\n")
words, rest = [], iter(argv)
for word in rest:
    if word in ("--kubeconfig", "--context", "--namespace"):
        next(rest, None)
    else:
        words.append(word)
answers = here / {KUBECTL_ANSWERS!r}
for answer in json.loads(answers.read_text()) if answers.exists() else []:
    if words[:len(answer["args"])] == answer["args"]:
        sys.stdout.write(answer["stdout"])
        sys.stderr.write(answer["stderr"])
        sys.exit(answer["code"])
""", interpreter=sys.executable)
