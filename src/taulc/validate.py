"""Sanity checks run by every command *before* any MD, labelling or training starts.

Each check raises :class:`taulc.errors.ConfigError` (or the md/data error of the
field's own module) whose message names the config field or the file and says
what was expected, so a bad override fails in a second instead of after the
equilibration and reference runs.  What is checked, per command:

* ``taulc-simulate``: system (N, ρ, T, composition, σ/ε tables, ``dt``), protocol
  (kind, rates >= 0 and <= :data:`MAX_RATE`, durations), ``n_configs``, ``out_dir``;
* ``taulc-build``: system, labels (``n_replicas`` >= 1, ``t_max`` > 0, ...), dataset
  (``rates`` >= 0, ``n_configs`` >= 1, durations, ingest files, species map) and the
  dataset root; ingested configurations (N, ρ, composition, overlaps) through
  :func:`check_configurations`;
* ``train.py``: target, split, data options, dataset manifest, checkpoint.

``evaluate.py`` parses its config once (:class:`taulc.analysis.context.EvaluateSpec`, whose schemas check the
ranges) and checks its report directory with :func:`check_output_dir`; ``taulc-predict`` parses its command line
once (:class:`taulc.predict.config.PredictConfig`). Unknown top-level keys are refused by
:func:`taulc.hydra_app.check_unknown_top_level`.

Limits with a physical reason: ``dt`` <= :data:`MAX_DT` (velocity-Verlet for the
Kob-Andersen pair potentials, whose stiffest pair is A-B with ε = 1.5, σ = 0.8,
loses energy conservation above ~0.01 τ and LAMMPS stops with "Lost atoms");
shear rate <= :data:`MAX_RATE` (above ~1/τ the SLLOD thermostat cannot remove the
viscous heat and the cell tilt flips every few steps; the studies reproduced here
use γ̇ <= 0.1, Yu, Zeng & Wang 2025, Sec. II.A).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from taulc.config import check_number as _num
from taulc.config import from_mapping
from taulc.data.ingest import InputError
from taulc.data.specs import BuildConfig, BuildSpec, DatasetSpec
from taulc.data.storage import DatasetError
from taulc.dynamics.labels import LabelSettings
from taulc.errors import ConfigError
from taulc.hydra_app import check_unknown_top_level
from taulc.md.engine_spec import EngineSpec
from taulc.md.protocol import ProtocolSpec
from taulc.md.system import SystemSpec
from taulc.models.registry import model_class
from taulc.structure.overlaps import find_overlaps, overlap_message
from taulc.train_config import TrainConfig

__all__ = [
    "MAX_DT",
    "MAX_RATE",
    "check_build_config",
    "check_configurations",
    "check_output_dir",
    "check_simulate_config",
    "check_train_config",
]

MAX_DT = 0.01
"""Largest accepted MD time step (LJ time)."""
MAX_RATE = 1.0
"""Largest accepted shear rate (LJ units, 1/τ)."""
MAX_T_DT2 = 5e-4
"""Largest accepted T·dt² (temperatures ``system.temperature`` and ``system.melt_temperature``): velocity-Verlet
keeps the Kob-Andersen collisions resolved while T <= MAX_T_DT2 / dt² (20 at dt = 0.005).  Measured with LAMMPS,
N = 300, 5 LJ times: T = 20 at dt = 0.005 runs, T = 50 at dt = 0.005 and T = 10 at dt = 0.01 stop with 'Lost atoms'."""


# ----------------------------------------------------------------------------- small helpers
def _opt(cfg: Mapping[str, Any], key: str, prefix: str, **kw: Any) -> None:
    if cfg.get(key) is not None:
        _num(cfg[key], f"{prefix}.{key}", **kw)


def check_rate(value: Any, field: str) -> float:
    """A shear rate: finite, >= 0 and <= :data:`MAX_RATE`."""
    v = _num(value, field)
    if v < 0:
        raise ConfigError(
            f"field '{field}' must be >= 0, got {value!r} (negative rates are the mirror image x -> -x "
            "of a positive one: simulate |rate| and mirror the configurations)"
        )
    if v > MAX_RATE:
        raise ConfigError(
            f"field '{field}' = {v:g} exceeds {MAX_RATE:g} (LJ units): at such rates the SLLOD thermostat "
            "cannot hold the temperature and the cell flips every few steps (the studies reproduced here use "
            "rates <= 0.1)"
        )
    return v


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


def check_system(system: Any) -> Any:
    """Build the :class:`~taulc.md.system.SystemSpec` (its own field checks) and check ``dt``."""

    if not isinstance(system, Mapping):
        raise ConfigError("field 'system' is missing (choose system=<name>)")
    spec = SystemSpec.from_config(system)
    if spec.dt > MAX_DT:
        raise ConfigError(
            f"field 'system.dt' = {spec.dt:g} exceeds {MAX_DT:g} (LJ time): velocity-Verlet MD of the "
            "Kob-Andersen mixture is unstable there (LAMMPS stops with 'Lost atoms'); use 0.005"
        )
    t_max = MAX_T_DT2 / spec.dt**2
    for name in ("temperature", "melt_temperature"):
        t = float(getattr(spec, name))
        if t > t_max:
            raise ConfigError(
                f"field 'system.{name}' = {t:g} is outside the accepted range 0 < T <= {t_max:.3g} for "
                f"system.dt = {spec.dt:g} (T·dt² <= {MAX_T_DT2:g}): hotter, velocity-Verlet cannot resolve "
                "the collisions and LAMMPS stops with 'Lost atoms'; lower the temperature or system.dt"
            )
    return spec


def check_labels(labels: Any) -> Any:
    """Label settings (``labels.*``): the typed :class:`~taulc.dynamics.labels.LabelSettings`
    (unknown keys refused), range-checked and returned."""

    if not isinstance(labels, Mapping):
        raise ConfigError("field 'labels' is missing (choose labels=<name>)")
    st = from_mapping(LabelSettings, labels, "labels", ignore=("_target_", "name"))
    _num(st.n_replicas, "labels.n_replicas", lo=1, integer=True)
    for k in ("t_max", "sample_interval", "memory_mb"):
        _num(getattr(st, k), f"labels.{k}", lo=0, lo_open=True)
    _num(st.reliability_splits, "labels.reliability_splits", lo=1, integer=True)
    for k in ("lc2", "tau_2", "tau_alpha", "q"):
        v = getattr(st, k)
        if not isinstance(v, str):
            _num(v, f"labels.{k}", lo=0, lo_open=True)
    try:
        st.validate()
    except (ValueError, TypeError) as exc:
        raise ConfigError(str(exc)) from None
    return st


# ----------------------------------------------------------------------------- per command
def check_simulate_config(c: Mapping[str, Any], out: str | os.PathLike[str] | None) -> Any:
    """``taulc-simulate``: system, protocol, rates, ``n_configs``, ``seed``, ``engine`` and the output directory.

    Returns the typed ``engine`` node (:class:`~taulc.md.engine_spec.EngineSpec`).
    """

    check_unknown_top_level(c, "simulate", "taulc-simulate")
    spec = check_system(c.get("system"))
    if not isinstance(c.get("protocol"), Mapping):
        raise ConfigError("field 'protocol' is missing (choose protocol=<name>)")
    proto = ProtocolSpec.from_config(c["protocol"])
    for k in ("rate", "rate_after", "rate_final"):
        v = getattr(proto, k, None)
        if v is not None:
            check_rate(v, f"protocol.{k}")
    if proto.config_interval < spec.dt:
        raise ConfigError(
            f"field 'protocol.config_interval' = {proto.config_interval:g} is shorter than one time step "
            f"(system.dt = {spec.dt:g})"
        )
    _num(c.get("n_configs", 1), "n_configs", lo=1, integer=True)
    engine = from_mapping(EngineSpec, c.get("engine"), "engine")
    _num(c.get("seed", 0), "seed", lo=0, integer=True)
    if out is not None:
        check_output_dir(out, "out_dir")
    return engine


def check_build_config(c: Mapping[str, Any], root: str | os.PathLike[str] | None = None) -> Any:
    """``taulc-build``: system, labels, the dataset group, ``build``, ``engine`` and the dataset root.

    Returns the typed config (:class:`~taulc.data.specs.BuildConfig`); unknown keys in
    ``dataset``, ``build``, ``engine`` and ``labels`` are refused naming the field.
    """

    system = check_system(c.get("system"))
    labels = check_labels(c.get("labels"))
    if not isinstance(c.get("dataset"), Mapping):
        raise ConfigError("field 'dataset' is missing (choose dataset=<name>)")
    ds = from_mapping(DatasetSpec, c["dataset"], "dataset")
    if not ds.name.strip() or "/" in ds.name:
        raise ConfigError(f"field 'dataset.name' must be a non-empty directory name, got {ds.name!r}")
    if ds.source == "simulate":
        if not ds.rates:
            raise ConfigError(f"field 'dataset.rates' must be a non-empty list of shear rates, got {list(ds.rates)!r}")
        for k, r in enumerate(ds.rates):
            check_rate(r, f"dataset.rates[{k}]")
        if len(set(ds.rates)) != len(ds.rates):
            raise ConfigError(f"field 'dataset.rates' lists a rate twice: {list(ds.rates)}")
        _num(ds.n_configs, "dataset.n_configs", lo=1, integer=True)
    else:  # ingest
        if not ds.files:
            raise ConfigError(
                "field 'dataset.files' is empty: list the configuration files to ingest, e.g. 'dataset.files=[/path/run.dump]'"
            )
        for f in ds.files:
            p = Path(f)
            if not p.exists():
                raise ConfigError(f"field 'dataset.files': {p} not found")
            if not p.is_file():
                raise ConfigError(f"field 'dataset.files': {p} is not a file (a directory?); list the files themselves")
        if ds.rate is not None:
            check_rate(ds.rate, "dataset.rate")
        for k, v in (ds.species_map or {}).items():
            if v not in (0, 1):
                raise ConfigError(f"field 'dataset.species_map' entry {k!r}: {v!r}; expected 0 (big) or 1 (small)")
    for k in ("equilibration_time", "transient_time", "transient_strain", "transient_time_max"):
        _num(getattr(ds, k), f"dataset.{k}", lo=0)
    for k in ("reference_time", "spacing", "sample_interval", "graph_radius", "q"):
        if getattr(ds, k) is not None:
            _num(getattr(ds, k), f"dataset.{k}", lo=0, lo_open=True)
    _num(ds.reference_runs, "dataset.reference_runs", lo=1, integer=True)
    _num(ds.seed, "dataset.seed", lo=0, integer=True)
    build = from_mapping(BuildSpec, c.get("build"), "build")
    engine = from_mapping(EngineSpec, c.get("engine"), "engine")
    if engine.backend != "lammps":
        raise ConfigError(
            f"field 'engine.backend' = {engine.backend!r}: the build's MD (equilibration, reference, "
            "steady shear) runs on LAMMPS; choose the engine of the ICE replicas with labels.engine"
        )
    if root is not None:
        check_output_dir(root, "data_root")
    return BuildConfig(system=system, dataset=ds, labels=labels, engine=engine, build=build)


def check_checkpoint_model(state: Any, model_cfg: Mapping[str, Any], ckpt: str) -> None:
    """A resume checkpoint must fit the composed model: same class and the same parameter shapes.

    The composed model is built with the checkpoint's ``n_features`` when the config leaves it to the data
    (no data is loaded) and its ``state_dict`` keys and shapes are compared with the checkpoint's, which is
    exactly what Lightning's resume needs; the message lists the hyperparameters that differ."""

    import hydra  # noqa: PLC0415

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
        import torch  # noqa: PLC0415

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


# ----------------------------------------------------------------------------- configurations
def check_configurations(confs: Sequence[Any], system: Mapping[str, Any]) -> None:
    """Ingested configurations against the system they will be simulated with: N, ρ, composition, overlaps.

    ``confs`` are :class:`taulc.md.configuration.Configuration` with ``meta['source_file']`` /
    ``meta['source_frame']``.  Raises :class:`taulc.data.ingest.InputError` naming the file and frame.
    """

    spec = check_system(system)
    sig = spec.sigma
    sigma = np.array([[sig["bb"], sig["bs"]], [sig["bs"], sig["ss"]]], dtype=float)
    for conf in confs:
        where = f"{conf.meta.get('source_file', '<configuration>')} (frame {conf.meta.get('source_frame', 0)})"
        n = len(conf.species)
        if n != spec.n_atoms:
            raise InputError(
                f"{where}: {n} particles, but system '{spec.name}' has system.n_atoms = {spec.n_atoms}; "
                f"choose the matching system or override system.n_atoms={n}"
            )
        rho = n / abs(float(np.linalg.det(conf.cell)))
        if abs(rho - spec.density) > 1e-4 * spec.density:
            raise InputError(
                f"{where}: density N/V = {rho:.6g}, but system '{spec.name}' has system.density = "
                f"{spec.density:g}; override system.density={rho:.6g} or check the box"
            )
        n_small = int(np.sum(conf.species == 1))
        if n_small != spec.n_small:
            hint = (
                " - the type map looks swapped (type 1 is the small species here): set dataset.species_map='{1: 1, 2: 0}'"
                if n - n_small == spec.n_small
                else "; check dataset.species_map or system.fraction_small"
            )
            raise InputError(
                f"{where}: {n_small} small particles (species 1), but system '{spec.name}' has "
                f"{spec.n_small} (system.fraction_small = {spec.fraction_small:g}){hint}"
            )
        found = find_overlaps(conf.positions, conf.species, conf.cell, sigma)
        if found[0]:
            raise InputError(overlap_message(where, found))
