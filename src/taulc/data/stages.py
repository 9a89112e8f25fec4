"""The builder's stages, bound to the engine (md), labels (dynamics) and descriptors (structure).

Each function takes the resolved config mapping and file paths, does one unit
of work and writes its result atomically.  :mod:`taulc.data.builder` decides
what to run and what is already cached.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from taulc.data.storage import atomic_write_json, read_json

log = logging.getLogger(__name__)

THREADS: int | None = None
"""OpenMP threads per LAMMPS instance (None: all cores); set from ``engine.threads``."""


LABEL_ENGINES = ("lammps", "openmm")


def make_engine(cfg: Mapping[str, Any], sample_interval: float | None = None, engine: str = "lammps"):
    """An MD engine for ``cfg['system']`` streaming every ``sample_interval`` LJ time units.

    ``engine``: ``lammps`` (default) or ``openmm`` (batched ICE replicas on one
    device; options ``labels.device``, ``labels.batch_replicas``, ``labels.thermostat``).
    """
    from taulc.md.system import SystemSpec  # noqa: PLC0415

    system = SystemSpec.from_config(cfg["system"])
    kw: dict[str, Any] = {}
    if sample_interval is not None:
        kw["sample_every"] = max(1, int(round(sample_interval / system.dt)))
    if engine == "lammps":
        from taulc.md.lammps_engine import LammpsEngine  # noqa: PLC0415

        return LammpsEngine(system, n_threads=THREADS, **kw)
    if engine == "openmm":
        from taulc.md.openmm_engine import OpenMMEngine  # noqa: PLC0415

        lab = cfg.get("labels") or {}
        return OpenMMEngine(system, device=str(lab.get("device", "auto")),
                            batch_replicas=int(lab.get("batch_replicas", 64)),
                            thermostat=str(lab.get("thermostat", "replica")), threads=THREADS, **kw)
    raise ValueError(f"field 'labels.engine' must be one of {LABEL_ENGINES}, got {engine!r}")


def save_configuration(path: Path, conf: Any) -> None:
    from taulc.md.configuration import write_configuration  # noqa: PLC0415

    write_configuration(path, conf)


def load_configuration(path: Path) -> Any:
    from taulc.md.configuration import read_configuration  # noqa: PLC0415

    return read_configuration(path)


def equilibrate(cfg: Mapping[str, Any], out: Path) -> None:
    """Random state -> melt -> NVT at T for ``dataset.equilibration_time``; saved as extxyz."""
    ds = cfg["dataset"]
    eng = make_engine(cfg)
    try:
        conf = eng.equilibrate(int(ds.get("seed", 0)), duration=float(ds.get("equilibration_time", 300.0)))
        save_configuration(out, conf)
    finally:
        _close(eng)


def reference(cfg: Mapping[str, Any], eq_path: Path) -> dict[str, Any]:
    """Equilibrium reference (q, l_c², τ_2, τ_α, t_χ and curves) from quiescent runs."""
    from taulc.dynamics.reference import equilibrium_reference  # noqa: PLC0415

    ds, lab = cfg["dataset"], cfg["labels"]
    eng = make_engine(cfg, float(lab.get("sample_interval", 0.05)))
    try:
        conf = load_configuration(eq_path)
        ref = equilibrium_reference(
            eng,
            conf,
            lab,
            t_run=float(ds.get("reference_time", 2 * float(lab.get("t_max", 60.0)))),
            n_runs=int(ds.get("reference_runs", 2)),
            seed=int(ds.get("seed", 0)) + 17,
            temperature=float(cfg["system"]["temperature"]),
        )
    finally:
        _close(eng)
    return ref.to_dict()


def sample_steady(
    cfg: Mapping[str, Any],
    eq_path: Path,
    rate: float,
    indices: Sequence[int],
    outs: Sequence[Path],
    summary: Path,
) -> None:
    """Shear the equilibrium state at ``rate`` and save configurations every ``spacing``.

    The transient (``max(transient_time, min(transient_strain/rate, transient_time_max))``)
    is discarded.  Between configurations the run is streamed, giving η = -<p_xy>/γ̇
    (Eq. 1) and the non-affine F_s decay time τ_α(γ̇), stored per configuration
    in a sidecar JSON and summarised per rate.  Resumes from the last saved
    configuration if some already exist.
    """
    from taulc.dynamics.correlators import compute_correlators  # noqa: PLC0415
    from taulc.md.engine import Segment  # noqa: PLC0415

    ds = cfg["dataset"]
    seed = int(ds.get("seed", 0))
    spacing = float(ds.get("spacing", 64.0))
    interval = float(ds.get("sample_interval", 0.5))
    q = float(ds.get("q", 7.25))
    eng = make_engine(cfg, interval)
    try:
        done = [i for i, p in zip(indices, outs) if p.exists() and p.with_suffix(".json").exists()]
        if done:
            last = outs[list(indices).index(max(done))]
            eng.load(load_configuration(last))
            eng.set_rate(rate)
        else:
            eng.load(load_configuration(eq_path))
            eng.thermalize(seed + 101 + int(round(rate * 1e6)))
            transient = float(ds.get("transient_time", 60.0))
            if rate > 0:
                transient = max(transient, min(float(ds.get("transient_strain", 0.5)) / rate, float(ds.get("transient_time_max", 300.0))))
            log.info("rate %g: transient %.0f time units", rate, transient)
            eng.run([Segment(transient, rate, record=False)])
        for i, out in zip(indices, outs):
            if i in done:
                continue
            traj = eng.run([Segment(spacing, rate)])
            conf = eng.snapshot(protocol="steady", config_index=int(i))
            stats: dict[str, float] = {"time": float(eng.time), "strain": float(eng.strain)}
            pxy = np.asarray(traj.stress_xy, dtype=np.float64)[1:]
            stats["mean_pxy"] = float(pxy.mean())
            if rate > 0:
                stats["eta"] = float(-pxy.mean() / rate)
            corr = compute_correlators([np.asarray(traj.nonaffine, dtype=np.float32)], np.asarray(traj.times), q=q, a=0.25)
            stats["tau_alpha"] = float(corr.tau_alpha)
            save_configuration(out, conf)
            atomic_write_json(out.with_suffix(".json"), stats)
    finally:
        _close(eng)
    per = [read_json(p.with_suffix(".json")) for p in outs]
    summ: dict[str, Any] = {"rate": rate, "n_configs": len(per)}
    if rate > 0:
        etas = np.array([p["eta"] for p in per])
        summ["eta"] = float(etas.mean())
        summ["eta_sem"] = float(etas.std(ddof=1) / np.sqrt(len(etas))) if len(etas) > 1 else float("nan")
    taus = np.array([p["tau_alpha"] for p in per], dtype=float)
    summ["tau_alpha_flow"] = float(np.nanmean(taus)) if np.isfinite(taus).any() else float("nan")
    atomic_write_json(summary, summ)


def label(cfg: Mapping[str, Any], conf_path: Path, rate: float, ref: Mapping[str, Any], seed: int) -> dict[str, np.ndarray]:
    """ICE labels of one configuration (τ_LC, τ_sh, censoring, mobility, reliability)."""
    from taulc.dynamics.labels import label_configuration  # noqa: PLC0415

    lab = cfg["labels"]
    eng = make_engine(cfg, float(lab.get("sample_interval", 0.05)), str(lab.get("engine", "lammps")))
    progress = bool((cfg.get("build") or {}).get("progress", False))
    try:
        conf = load_configuration(conf_path)
        labels = label_configuration(eng, conf, rate, lab, reference=ref, seed=seed, progress=progress)
    finally:
        _close(eng)
    arrays = labels.to_arrays()
    arrays["first_jump_lc"] = arrays["first_jump_lc"].astype(np.float32)
    arrays["first_jump_sh"] = arrays["first_jump_sh"].astype(np.float32)
    arrays["mobility"] = arrays["mobility"].astype(np.float32)
    arrays["mobility_sh"] = arrays["mobility_sh"].astype(np.float32)
    arrays.pop("estimator", None)
    return arrays


def _close(eng: Any) -> None:
    close = getattr(eng, "close", None)
    if close is not None:
        close()
