"""Checks that need the inputs, run by the commands *before* any MD, labelling or training starts.

The ranges of every config field are checked where the field is defined, by its schema's
``__post_init__`` (the frozen roots :class:`taulc.simulate_config.SimulateConfig`,
:class:`taulc.data.specs.BuildConfig`, :class:`taulc.train_config.TrainConfig` and the node schemas
they hold: ``system.dt`` in :class:`taulc.md.system.SystemSpec`, shear rates in
:mod:`taulc.md.protocol`, ``labels.*`` in :class:`taulc.dynamics.labels.LabelSettings`, ...).  What
stays here needs the file system or other inputs: :func:`check_output_dir` (``out_dir``,
``data_root``, ``results_table``), the ``train.py`` checkpoint, results table and dataset manifest
(:func:`check_train_config`, :func:`check_checkpoint_model`). ``evaluate.py`` parses its config once
(:class:`taulc.analysis.context.EvaluateSpec`) and checks its report directory with :func:`check_output_dir`;
``taulc-predict`` parses its command line once (:class:`taulc.predict.config.PredictConfig`); unknown top-level
keys are refused by the roots themselves (:func:`taulc.config.check_unknown_top_level`).  Ingested files and configurations are checked
next to the ingest code (:mod:`taulc.data.ingest_checks`).

Each check raises :class:`taulc.errors.ConfigError` (or the error of the input's own module) whose
message names the config field or the file and says what was expected.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from taulc.data.storage import DatasetError
from taulc.errors import ConfigError
from taulc.models.registry import model_class
from taulc.train_config import TrainConfig

__all__ = [
    "check_output_dir",
    "check_train_config",
]


# ----------------------------------------------------------------------------- small helpers
def check_output_dir(path: str | os.PathLike[str], field: str) -> Path:
    """``path`` is (or can be created as) a writable directory; nothing is created here."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ConfigError(f"field '{field}' = {p}: exists and is not a directory")
    q = p
    while not q.exists():
        q = q.parent
    if not q.is_dir():
        raise ConfigError(f"field '{field}' = {p}: {q} is a file, so the directory cannot be created")
    if not os.access(q, os.W_OK | os.X_OK):
        raise ConfigError(f"field '{field}' = {p}: {q} is not writable")
    return p


# ----------------------------------------------------------------------------- per command
def check_checkpoint_model(state: Any, model_cfg: Mapping[str, Any], ckpt: str) -> None:
    """A resume checkpoint must fit the composed model: same class and the same parameter shapes.

    The composed model is built with the checkpoint's ``n_features`` when the config leaves it to the data
    (no data is loaded) and its ``state_dict`` keys and shapes are compared with the checkpoint's, which is
    exactly what Lightning's resume needs; the message lists the hyperparameters that differ."""

    import hydra

    if not isinstance(state, Mapping) or not isinstance(state.get("state_dict"), Mapping):
        raise ConfigError(
            f"field 'ckpt_path' = {ckpt}: not a Lightning checkpoint (no state_dict); only resume from "
            "checkpoints that train.py wrote"
        )
    hp = dict(state.get("hyper_parameters") or {})
    cfg = {k: v for k, v in model_cfg.items()}
    cls = model_class(str(cfg.get("_target_", "")))
    params = inspect.signature(cls.__init__).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    foreign = sorted(k for k in hp if k not in params and not takes_any)
    if foreign:
        raise ConfigError(
            f"field 'ckpt_path' = {ckpt}: the checkpoint is of another model (its hyperparameters "
            f"{foreign[:6]} are not {cls.__name__}'s); compose the model that wrote it (model=...) or "
            "train from scratch without ckpt_path"
        )
    if cfg.get("n_features") in (None, "???") and "n_features" in hp:
        cfg["n_features"] = hp["n_features"]
    diffs = [
        f"model.{k} = {cfg[k]!r} (checkpoint: {hp[k]!r})"
        for k in cfg
        if k in hp and not k.startswith("_") and _plain_value(cfg[k]) != _plain_value(hp[k])
    ]
    try:
        want = {k: tuple(v.shape) for k, v in hydra.utils.instantiate(cfg).state_dict().items()}
    except Exception as exc:  # noqa: BLE001 - a model config that cannot be built is reported by training itself
        raise ConfigError(f"field 'model': cannot build {cls.__name__} to compare with ckpt_path ({exc})") from None
    have = {k: tuple(getattr(v, "shape", ())) for k, v in state["state_dict"].items()}
    bad = sorted(k for k in set(want) | set(have) if want.get(k) != have.get(k))
    if bad:
        detail = "; ".join(diffs[:6]) if diffs else f"parameters {bad[:4]} differ"
        raise ConfigError(
            f"field 'ckpt_path' = {ckpt}: the checkpoint does not fit the composed {cls.__name__} "
            f"({detail}); resume with the settings that wrote it, or train from scratch without ckpt_path"
        )


def _plain_value(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {k: _plain_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain_value(x) for x in v]
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v


def check_train_config(c: Mapping[str, Any], dataset_root: str | os.PathLike[str]) -> TrainConfig:
    """``train.py``: the config parsed once (:class:`taulc.train_config.TrainConfig`, its schemas check the
    ranges naming the field), then what needs the inputs: the checkpoint, the results table, the dataset."""

    tc = TrainConfig.from_config(c)
    ckpt = tc.ckpt_path
    if ckpt is not None:
        if not Path(ckpt).is_file():
            raise ConfigError(
                f"field 'ckpt_path' = {ckpt}: checkpoint file not found (runs write <run_dir>/checkpoints/last.ckpt)"
            )
        import torch

        try:  # what Lightning will do on resume (trainer.fit(..., weights_only=True)), with a clear message
            state = torch.load(ckpt, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - UnpicklingError, zip errors, truncation
            raise ConfigError(
                f"field 'ckpt_path' = {ckpt}: not a checkpoint that loads with weights_only=True "
                f"({type(exc).__name__}: {str(exc).splitlines()[0][:200]}); only resume from "
                "checkpoints that train.py wrote"
            ) from None
        check_checkpoint_model(state, c.get("model") or {}, str(ckpt))
    if tc.results_table:
        rt = Path(tc.results_table)
        if rt.is_dir():
            raise ConfigError(f"field 'results_table' = {rt}: is a directory; expected a CSV file path")
        check_output_dir(rt.parent, "results_table")
    root = Path(dataset_root)
    if not (root / "manifest.json").is_file():
        name = (c.get("dataset") or {}).get("name", root.name)
        raise DatasetError(
            f"{root / 'manifest.json'}: dataset '{name}' is not built (field 'dataset.name' / 'data_root'); "
            f"build it first: python -m taulc.build dataset={name}"
        )
    return tc
