"""A bad config key through the real engine: its message is one error diagnostic, never "an
unhandled error occurred", and the task's own error line does not repeat it (no cluster needed:
the render stack, in a throwaway backend, with a config file outside the repo)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tools import stack as pulumi_stack
from tools.errors import SetupError
from tools.paths import REPO

pytestmark = pytest.mark.integration

MESSAGE = "news-tracker:namespce: unknown config key; did you mean 'namespace'?"


def test_a_bad_config_key_is_one_diagnostic_of_the_engine(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "Pulumi.render.yaml"
    config.write_text((REPO / "Pulumi.render.yaml").read_text().replace(
        "config:\n", "config:\n  news-tracker:namespce: develop\n", 1))
    events: list[Any] = []
    selected = pulumi_stack.open_stack("render", backend=tmp_path / "backend", create=True)

    with pytest.raises(SetupError) as failure:
        pulumi_stack._run(selected.preview, config_file=str(config), on_event=events.append)

    errors = [event.diagnostic_event.message.strip() for event in events
              if event.diagnostic_event is not None and event.diagnostic_event.severity == "error"]
    assert errors == [MESSAGE]
    shown = capsys.readouterr().out
    assert MESSAGE in shown and "unhandled error" not in shown
    assert MESSAGE not in str(failure.value)
