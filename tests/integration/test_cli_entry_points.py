"""Console scripts: every [project.scripts] target exists, and taulc-train / taulc-evaluate
compose exactly what ``python train.py`` / ``python evaluate.py`` compose."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO, console_scripts


def _env() -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), *filter(None, [e.get("PYTHONPATH")])])
    return e


def test_every_console_script_resolves() -> None:
    scripts = console_scripts()
    assert {"taulc-simulate", "taulc-build", "taulc-train", "taulc-evaluate", "taulc-predict"} <= set(scripts)
    for name, target in scripts.items():
        module, func = target.split(":")
        assert callable(getattr(importlib.import_module(module), func)), name


@pytest.mark.parametrize(
    ("script", "entry", "overrides", "expect"),
    [
        ("train.py", "train_main", ["model=ridge", "split=rate", "seed=3"], "seed: 3"),
        ("evaluate.py", "evaluate_main", ["run=svm", "analysis.n_grid=10"], "  n_grid: 10"),
    ],
)
def test_console_script_composes_like_the_script(
    tmp_path: Path, script: str, entry: str, overrides: list[str], expect: str
) -> None:
    args = ["--cfg", "job", *overrides]
    direct = subprocess.run(
        [sys.executable, str(REPO / script), *args], cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300
    )
    via = subprocess.run(
        [sys.executable, "-c", f"from taulc.cli import {entry}; {entry}()", *args],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert direct.returncode == 0 and via.returncode == 0, direct.stderr[-2000:] + via.stderr[-2000:]
    assert via.stdout == direct.stdout
    assert expect in direct.stdout.splitlines()  # the override reached the composed config
