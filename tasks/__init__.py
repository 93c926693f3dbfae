"""invoke tasks: `invoke --list` shows them all. Stack and cluster are chosen in one place:
invoke.yaml (`news_tracker.stack`), overridable with INVOKE_NEWS_TRACKER_STACK=<stack>."""
import gc
import sys
from pathlib import Path

# invoke imports this package by file location; the project's modules (tools, components,
# settings) live beside it and are imported as top-level packages.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from invoke import Collection  # noqa: E402

from tasks import benchmark, ci, cluster, deploy, doctor, images, lesson, pods, toolchain  # noqa: E402

namespace = Collection()
for module in (deploy, pods, lesson):
    for body in Collection.from_module(module).tasks.values():
        namespace.add_task(body)
namespace.add_task(toolchain.toolchain)
namespace.add_task(toolchain.env)
namespace.add_task(doctor.doctor)
namespace.add_task(benchmark.bench)
for collection in (ci, cluster, images):
    namespace.add_collection(Collection.from_module(collection))
namespace.configure({"news_tracker": {"stack": "dev"}})

# What invoke and the task modules imported lives until the process exits: frozen, the collector
# never scans it again, neither during the task nor at exit, where that scan was 30 of a pod
# task's 250 ms.
gc.freeze()
