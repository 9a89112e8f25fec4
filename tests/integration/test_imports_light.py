"""Commands that need no neural network must not pay for torch, Lightning, PyG (or scikit-learn, matplotlib) at import."""

from __future__ import annotations

import subprocess
import sys


def _heavy_loaded(modules: str, heavy: tuple[str, ...]) -> str:
    """The ``heavy`` modules in ``sys.modules`` of a fresh interpreter after ``import <modules>``."""
    code = f"import sys, {modules}; print(','.join(m for m in {heavy!r} if m in sys.modules))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_metrics_skill_and_label_quality_import_without_lightning() -> None:
    modules = "taulc.models.metrics, taulc.evaluation.skill, taulc.analysis.label_quality"
    assert _heavy_loaded(modules, ("lightning", "torch_geometric", "torch")) == ""


def test_simulate_and_build_start_without_the_ml_stack() -> None:
    """The libraries banned at module level in pyproject.toml (TID253) stay out of the MD and dataset commands."""
    modules = "taulc.simulate, taulc.build, taulc.data.builder, taulc.dynamics.labels, taulc.structure.descriptors"
    assert _heavy_loaded(modules, ("torch", "torch_geometric", "lightning", "sklearn", "matplotlib")) == ""


def test_lazy_package_attributes_resolve_like_hydra_targets() -> None:
    import hydra.utils

    import taulc.models as pkg
    from taulc.models.svm import LinearSVM

    assert hydra.utils.get_class("taulc.models.LinearSVM") is LinearSVM
    assert pkg.LinearSVM is LinearSVM and set(pkg.__all__) <= set(dir(pkg))
