"""./setup.sh without root names every step that needs root and stops before changing anything."""
from __future__ import annotations

import subprocess

from tools.paths import REPO


def test_without_root_setup_names_the_root_steps_and_stops() -> None:
    # `id` is shadowed by a shell function reporting an ordinary user's uid.
    script = "source ./setup.sh; id() { echo 1000; }; require_root; echo went-on"
    result = subprocess.run(["bash", "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "went-on" not in result.stdout
    assert "needs root for these steps" in result.stderr
    assert "  - building the images: offline" in result.stderr
    assert "sudo ./setup.sh" in result.stderr
