"""Console scripts ``taulc-train`` and ``taulc-evaluate``.

They run the repository's ``train.py`` / ``evaluate.py`` as scripts (``runpy``, so Hydra sees the
same task name, config and command line as ``python train.py ...``); the logic stays in
:mod:`taulc.training` and :mod:`taulc.analysis.report`. Like the configs in ``src/taulc/conf/``, the two
entry points sit at the root of an editable install (:data:`taulc.paths.REPO_ROOT`).
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from taulc.paths import REPO_ROOT

__all__ = ["train_main", "evaluate_main"]


def _run_script(name: str) -> None:
    script = Path(REPO_ROOT) / name
    if not script.is_file():
        raise SystemExit(
            f"{script} not found: taulc-{script.stem} runs the repository's {name}; install taulc from its "
            "repository with `pip install -e .`"
        )
    sys.argv[0] = str(script)
    runpy.run_path(str(script), run_name="__main__")


def train_main() -> None:
    """``taulc-train model=svm ...``: the same as ``python train.py model=svm ...``."""
    _run_script("train.py")


def evaluate_main() -> None:
    """``taulc-evaluate run=latest ...``: the same as ``python evaluate.py run=latest ...``."""
    _run_script("evaluate.py")
