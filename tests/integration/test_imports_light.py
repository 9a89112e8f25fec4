"""Analysis commands that only need metrics must not pay for Lightning, PyG and torch at import."""

from __future__ import annotations

import subprocess
import sys


def test_metrics_skill_and_label_quality_import_without_lightning() -> None:
    code = (
        "import sys, taulc.models.metrics, taulc.evaluation.skill, taulc.analysis.label_quality; "
        "print(','.join(m for m in ('lightning', 'torch_geometric', 'torch') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_lazy_package_attributes_resolve_like_hydra_targets() -> None:
    import hydra.utils

    import taulc.models as pkg
    from taulc.models.svm import LinearSVM

    assert hydra.utils.get_class("taulc.models.LinearSVM") is LinearSVM
    assert pkg.LinearSVM is LinearSVM and set(pkg.__all__) <= set(dir(pkg))


def test_simulate_and_build_start_without_the_ml_stack() -> None:
    """The libraries banned at module level in pyproject.toml (TID253) stay out of the MD and dataset commands."""
    code = (
        "import sys, taulc.simulate, taulc.build, taulc.data.builder, taulc.dynamics.labels, taulc.structure.descriptors; "
        "print(','.join(m for m in ('torch', 'torch_geometric', 'lightning', 'sklearn', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""
