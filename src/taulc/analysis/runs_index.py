"""Finished ``train.py`` runs for the report: :class:`RunInfo` (a :class:`taulc.runs.Run` with its config
and metrics read), :func:`load_run`, :func:`auto_runs` (``runs=auto``), :func:`pick_run` (one run per report
role) and :func:`split_codes`.

Run directories themselves (their files, completion, the newest run, :func:`resolve_run`) are owned by
:mod:`taulc.runs`; this module only reads them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from taulc.analysis.context import dataset_of
from taulc.data.manifest import dataset_hash
from taulc.data.splits import SplitSpec, split_particles
from taulc.data.train_spec import TrainDataSpec
from taulc.evaluation.skill import target_spec
from taulc.models.outputs import REGRESSION, regression_output
from taulc.models.registry import MODEL_CLASSES, discover_models, model_class_or_none
from taulc.runs import Run, read_dataset_record, resolve_run, run_dataset

log = logging.getLogger("taulc.evaluate")

__all__ = [
    "RunInfo",
    "resolve_run",
    "load_run",
    "auto_runs",
    "pick_run",
    "canonical_hash_of",
    "run_dataset_of",
    "dataset_key",
    "split_codes",
]


@dataclass(frozen=True)
class RunInfo(Run):
    """A finished ``train.py`` run: its directory (the :class:`~taulc.runs.Run` files), resolved config,
    model class and metrics."""

    cfg: dict[str, Any]
    model_class: str
    metrics: dict[str, Any] = field(repr=False)

    @property
    def model(self) -> Any:
        """The registered model class of the recorded class name (:mod:`taulc.models.registry`), or None."""

        return model_class_or_none(self.model_class)

    @property
    def roles(self) -> tuple[str, ...]:
        """Report sections the run's model declares it can feed (``report_roles``)."""
        return tuple(getattr(self.model, "report_roles", ()))

    def output_key(self, task: str) -> str | None:
        """The ``predict_step`` key (its name in the saved test predictions) of the run's first declared output of
        ``task`` (:mod:`taulc.models.outputs`, ``metrics.json`` ``outputs``); runs saved before the declaration have
        the usual regression output of their target."""

        record = self.metrics.get("outputs")
        if record is None:
            return regression_output(self.target.name).key if task == REGRESSION else None
        return next((o["key"] for o in record if o.get("task") == task), None)

    @property
    def short(self) -> str:
        return getattr(self.model, "short_name", "") or self.model_class

    @property
    def name(self) -> str:
        return f"{self.short} ({self.path})"

    @property
    def split(self) -> Any:
        """The run's ``split`` node as a :class:`taulc.data.splits.SplitSpec`."""

        return SplitSpec.from_config(self.cfg.get("split"))

    @property
    def target(self) -> Any:
        """The run's ``target`` node as a :class:`taulc.evaluation.skill.TargetSpec` (bare names of older runs too)."""

        return target_spec(self.cfg.get("target"))

    @property
    def data(self) -> Any:
        """The run's ``data`` node as a :class:`taulc.data.train_spec.TrainDataSpec`."""

        return TrainDataSpec.from_config(self.cfg.get("data"))


def auto_runs(runs: Sequence[RunInfo], runs_root: Path) -> list[RunInfo]:
    """The latest run of every other model type under ``runs_root`` trained on the same dataset."""
    have = {r.model for r in runs}
    key0 = dataset_key(runs[0])
    out: list[RunInfo] = []

    discover_models()
    for model in [cls.short_name for cls in MODEL_CLASSES.values()]:
        try:
            p = resolve_run(model, runs_root)
        except FileNotFoundError:
            continue
        if p is None or any(p == r.path for r in runs):
            continue
        r = load_run(p)
        if r.model in have or dataset_key(r) != key0:
            continue
        log.info("runs=auto: adding %s", r.name)
        have.add(r.model)
        out.append(r)
    return out


def pick_run(runs: Sequence[RunInfo], role: str) -> RunInfo | None:
    """The run for one report section: its model declares ``role`` in ``report_roles`` (lowest
    ``report_priority`` first, then the order given); a ``regression`` run must have saved its declared regression
    output."""

    cands = sorted((r for r in runs if role in r.roles), key=lambda r: r.model.report_priority)
    if role == REGRESSION:
        cands = [r for r in cands if (k := r.output_key(REGRESSION)) is not None and k in r.prediction_names()]
    return cands[0] if cands else None


def canonical_hash_of(cfg: Mapping[str, Any]) -> str:
    """``config_hash`` of the dataset a config names (:func:`taulc.data.manifest.dataset_hash`)."""

    return dataset_hash(cfg)


def run_dataset_of(run: RunInfo, data_root: str | os.PathLike[str] | None = None) -> tuple[Path, dict[str, Any] | None]:
    """Dataset directory and dataset config of ``run``: from its dataset record (:func:`taulc.runs.run_dataset`,
    the manifest's hash checked; config None) or, for runs without one, re-composed from the run's config.
    ``data_root`` looks for the dataset under another root."""
    root = run_dataset(run.path, data_root)
    if root is not None:
        return root, None
    root, dcfg = dataset_of(run.cfg)
    return (Path(data_root) / root.name if data_root else root), dcfg


def dataset_key(run: RunInfo) -> tuple[Path, str]:
    """(resolved dataset directory, manifest ``config_hash``) of ``run``, for grouping runs by dataset."""
    rec = read_dataset_record(run.path)
    if rec is not None:
        return Path(rec["dir"]).resolve(), str(rec["config_hash"])
    return dataset_of(run.cfg)[0].resolve(), canonical_hash_of(run.cfg)


def load_run(path: str | os.PathLike[str]) -> RunInfo:
    """Read a run's config (resolved) and metrics."""
    run = Run(path)
    cfg = run.read_config()
    metrics = run.read_metrics()
    cls = metrics.get("model") or str(cfg.get("model", {}).get("_target_", "?")).rsplit(".", 1)[-1]
    return RunInfo(path=run.path, cfg=cfg, model_class=cls, metrics=metrics)


def split_codes(run: RunInfo, table: Any) -> tuple[np.ndarray, dict[int, str]]:
    """Per-particle split (0 train, 1 val, 2 test) of ``run`` on ``table`` and a per-configuration name."""

    codes = split_particles(run.split, table.config_id, table.rate, table.shard_roles)
    names = {0: "train", 1: "val", 2: "test"}
    per_cfg = {}
    recorded = run.metrics.get("configs")  # written by train.py when available: {split: [config ids]}
    if isinstance(recorded, Mapping) and recorded:
        for c in np.unique(table.config_id):
            per_cfg[int(c)] = "+".join(k for k in ("train", "val", "test") if int(c) in recorded.get(k, [])) or "unused"
        return codes, per_cfg
    for c in np.unique(table.config_id):
        v = np.unique(codes[table.config_id == c])
        per_cfg[int(c)] = names[int(v[0])] if len(v) == 1 else "mixed (random split)"
    return codes, per_cfg
