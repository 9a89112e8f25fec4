"""Console scripts ``taulc-train`` and ``taulc-evaluate``.

They run :func:`taulc.train.main` / :func:`taulc.evaluate.main`; the repository's ``train.py`` and
``evaluate.py`` are two-line wrappers around the same functions, so ``python train.py ...`` and
``taulc-train ...`` compose the same config (from the package's ``taulc/conf``,
:func:`taulc.paths.conf_dir`) and work from any directory, also after a non-editable ``pip install .``.
What every Hydra entry point shares (``--version``, resolvers, logging) is :mod:`taulc.hydra_app`.
"""

from __future__ import annotations

from taulc import evaluate, train

__all__ = ["train_main", "evaluate_main"]


def train_main() -> None:
    """``taulc-train model=svm ...``: the same as ``python train.py model=svm ...``."""
    train.main()


def evaluate_main() -> None:
    """``taulc-evaluate run=latest ...``: the same as ``python evaluate.py run=latest ...``."""
    evaluate.main()
