"""The builder's stages, bound to the engine (md), labels (dynamics) and descriptors (structure).

Each function takes the typed config (:class:`taulc.data.specs.BuildConfig`: system,
dataset, labels, engine) and file paths, does one unit of work and writes its result
atomically.  :mod:`taulc.data.builder` decides what to run and what is already cached.
The MD engine is made from the ``engine`` node (:class:`taulc.md.engine_spec.EngineSpec`),
passed explicitly: there is no module state.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from taulc.data.storage import atomic_write_json, read_json
from taulc.dynamics.correlators import compute_correlators
from taulc.dynamics.labels import label_configuration
from taulc.dynamics.reference import equilibrium_reference
from taulc.md import make_engine as md_engine
from taulc.md.cage import cage_positions as compute
from taulc.md.configuration import read_configuration, write_configuration
from taulc.md.engine import Segment

if TYPE_CHECKING:
    from taulc.data.specs import BuildConfig
    from taulc.dynamics.labels import LabelSettings
    from taulc.md.engine_spec import EngineSpec
    from taulc.md.protocol import ProtocolSpec
    from taulc.md.system import SystemSpec

log = logging.getLogger(__name__)


def steps(interval: float, dt: float) -> int:
    """``interval`` (LJ time) in MD steps of ``dt``, at least 1."""
    return max(1, int(round(interval / dt)))


def make_engine(system: SystemSpec, engine: EngineSpec, sample_every: int | None = None, labels: LabelSettings | None = None):
    """An MD engine for ``system`` streaming every ``sample_every`` MD steps.

    LAMMPS with the ``engine`` node's settings (threads, affine integral, log), unless
    ``labels.engine`` is ``openmm`` (batched ICE replicas on one device; options
    ``labels.device``, ``labels.batch_replicas``, ``labels.thermostat``; ``engine.n_threads``
    CPU threads).
    """

    kw: dict[str, Any] = {} if sample_every is None else {"sample_every": int(sample_every)}
    if labels is not None and labels.engine == "openmm":
        return md_engine(
            system,
            "openmm",
            device=labels.device,
            batch_replicas=int(labels.batch_replicas),
            thermostat=labels.thermostat,
            **engine.engine_kwargs("openmm"),
            **kw,
        )
    return md_engine(system, "lammps", **engine.engine_kwargs("lammps"), **kw)


def save_configuration(path: Path, conf: Any) -> None:
    write_configuration(path, conf)


def load_configuration(path: Path) -> Any:
    return read_configuration(path)


def equilibrate(spec: BuildConfig, out: Path) -> None:
    """Random state -> melt -> NVT at T for ``dataset.equilibration_time``; saved as extxyz."""
    eng = make_engine(spec.system, spec.engine)
    try:
        conf = eng.equilibrate(spec.dataset.seed, duration=spec.dataset.equilibration_time)
        save_configuration(out, conf)
    finally:
        _close(eng)


def reference(spec: BuildConfig, eq_path: Path) -> dict[str, Any]:
    """Equilibrium reference (q, l_c², τ_2, τ_α, t_χ and curves) from quiescent runs."""

    ds, lab = spec.dataset, spec.labels
    eng = make_engine(spec.system, spec.engine, steps(lab.sample_interval, spec.system.dt))
    try:
        conf = load_configuration(eq_path)
        ref = equilibrium_reference(
            eng,
            conf,
            lab,
            t_run=ds.reference_duration(lab.t_max),
            n_runs=ds.reference_runs,
            seed=ds.seed + 17,
            temperature=spec.system.temperature,
        )
    finally:
        _close(eng)
    return ref.to_dict()


def sample_steady(
    spec: BuildConfig,
    protocol: ProtocolSpec,
    eq_path: Path,
    indices: Sequence[int],
    outs: Sequence[Path],
    summary: Path,
) -> None:
    """Run ``protocol`` (steady shear, :meth:`taulc.data.specs.DatasetSpec.steady_protocol`) from the
    equilibrium state and save a configuration every ``protocol.config_interval``.

    The transient ``protocol.transient`` is discarded.  Between configurations the run is
    streamed every ``protocol.sample_every`` steps, giving η = -<p_xy>/γ̇ (Eq. 1) and the
    non-affine F_s decay time τ_α(γ̇) (wave number ``dataset.q``), stored per configuration
    in a sidecar JSON and summarised per rate.  Resumes from the last saved configuration
    if some already exist.
    """

    rate = protocol.rate_chain
    eng = make_engine(spec.system, spec.engine, protocol.sample_every)
    try:
        done = [i for i, p in zip(indices, outs) if p.exists() and p.with_suffix(".json").exists()]
        if done:
            last = outs[list(indices).index(max(done))]
            eng.load(load_configuration(last))
            eng.set_rate(rate)
        else:
            eng.load(load_configuration(eq_path))
            eng.thermalize(spec.dataset.seed + 101 + int(round(rate * 1e6)))
            log.info("rate %g: transient %.0f time units", rate, protocol.transient)
            eng.run([Segment(protocol.transient, rate, record=False)])
        for i, out in zip(indices, outs):
            if i in done:
                continue
            traj = eng.run([Segment(protocol.config_interval, rate)])
            conf = eng.snapshot(protocol=protocol.name, config_index=int(i))
            stats: dict[str, float] = {"time": float(eng.time), "strain": float(eng.strain)}
            pxy = np.asarray(traj.stress_xy, dtype=np.float64)[1:]
            stats["mean_pxy"] = float(pxy.mean())
            if rate > 0:
                stats["eta"] = float(-pxy.mean() / rate)
            corr = compute_correlators(
                [np.asarray(traj.nonaffine, dtype=np.float32)], np.asarray(traj.times), q=spec.dataset.q, a=0.25
            )
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


def cage_positions(spec: BuildConfig, conf_path: Path, seed: int) -> dict[str, np.ndarray]:
    """Inherent-state and cage-averaged positions of one configuration (``dataset.positions``, :mod:`taulc.md.cage`)."""

    pos = spec.dataset.positions
    assert pos is not None
    eng = make_engine(spec.system, spec.engine)
    try:
        conf = load_configuration(conf_path)
        return compute(
            eng,
            conf,
            window=pos.window,
            seed=seed,
            sample_every=pos.sample_every,
            style=pos.minimize_style,
            ftol=pos.ftol,
            inherent=pos.inherent,
            cage=pos.cage,
        )
    finally:
        _close(eng)


def label(
    spec: BuildConfig, conf_path: Path, rate: float, ref: Mapping[str, Any], seed: int, labels: LabelSettings | None = None
) -> dict[str, np.ndarray]:
    """ICE labels of one configuration (τ_LC, τ_sh, censoring, mobility, reliability).

    ``labels``: the settings of this configuration's role (test configurations get
    ``dataset.splits.test_labels``); default ``spec.labels``.
    """

    lab = spec.labels if labels is None else labels
    eng = make_engine(spec.system, spec.engine, steps(lab.sample_interval, spec.system.dt), labels=lab)
    try:
        conf = load_configuration(conf_path)
        labels = label_configuration(eng, conf, rate, lab, reference=ref, seed=seed, progress=spec.build.progress)
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
