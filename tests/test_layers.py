"""Data flows down the layers of DESIGN.md: a lower layer never imports a higher one."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src" / "pictune"
# `explain` sits below `pipeline`: the pipeline runs explanation as one of its stages, and
# explanations take plain records, never the pipeline's objects. The command line is the
# outermost shell: `pictune serve` starts the web app, `pictune batch` the batch runner,
# `pictune eval` the evaluation (which finds pictures as batch does).
ORDER = [
    "abc",
    "music",
    "corpus",
    "models",
    "explain",
    "pipeline",
    "web",
    "batch",
    "evaluation",
    "cli",
]


def imported_layers(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "pictune" and len(parts) > 1 and parts[1] in ORDER:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("layer", [name for name in ORDER if (SRC / name).is_dir()])
def test_layer_imports_only_itself_and_lower_layers(layer):
    allowed = set(ORDER[: ORDER.index(layer) + 1])
    for path in (SRC / layer).rglob("*.py"):
        higher = imported_layers(path) - allowed
        assert not higher, f"{path.relative_to(SRC)} imports higher layer(s) {sorted(higher)}"
