"""Simulate configurations of the sheared binary LJ mixture (Hydra entry point).

    python -m taulc.simulate system=demo protocol=steady protocol.rate=0.01 n_configs=5
    taulc-simulate system=demo protocol=cessation protocol.rate=0.03
    mpirun -np 4 python -m taulc.simulate system=sample_b engine.n_threads=1 ...

Pipeline: random start -> soft push-off + minimisation -> melt -> NVT
equilibration at T -> (steady/switch/cessation) discard the shear transient ->
``n_configs`` times: run ``protocol.config_interval`` at the chain rate
(recording p_xy for η = -<p_xy>/γ̇, Eq. 1), take the configuration at t0
(startup: ``t0`` after switching shear on), optionally record one run of
``protocol.after_duration`` at ``rate_after`` (with ``record_atom_stress=true`` also the
per-particle shear stress, ``configs/conf_<index>_after_stress.npz``), write
``configs/conf_<index>.extxyz``.
A ``summary.json`` (η, T, strain, timings, seeds) is written at the end.
Configs are read from the repository's ``src/taulc/conf/`` (see :mod:`taulc.paths`).
"""

from __future__ import annotations

import logging
import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import OmegaConf
from tqdm.auto import tqdm

from taulc import __version__
from taulc.data.storage import save_npz
from taulc.errors import exit_on_error
from taulc.fileio import atomic_write_json
from taulc.hydra_app import hydra_entry
from taulc.md import Configuration, Segment, make_engine, write_configuration
from taulc.runs import discard_refused_run
from taulc.simulate_config import SimulateConfig
from taulc.validate import check_output_dir

log = logging.getLogger(__name__)


def _downsample(t: np.ndarray, y: np.ndarray, n: int = 200) -> dict[str, list[float]]:
    idx = np.unique(np.linspace(0, len(t) - 1, min(n, len(t))).round().astype(int))
    return {"t": t[idx].tolist(), "value": y[idx].tolist()}


def simulate(cfg: Any, out_dir: str | os.PathLike | None = None) -> dict[str, Any]:
    """Run the simulate stage for a composed config (``src/taulc/conf/simulate.yaml``).

    Returns the summary dict (also written to ``<out_dir>/summary.json``).
    """

    container = OmegaConf.to_container(cfg, resolve=True) if not isinstance(cfg, dict) else cfg
    assert isinstance(container, dict)
    sc = SimulateConfig.from_config(container)  # before any MD: system, protocol, rates, dt, n_configs, engine
    out = Path(out_dir or sc.out_dir or _hydra_dir() or Path.cwd() / "outputs" / "simulate")
    check_output_dir(out, "out_dir")
    system, protocol, eng_spec = sc.system, sc.protocol, sc.engine
    n_configs, seed, atom_stress = sc.n_configs, sc.seed, sc.record_atom_stress
    backend = eng_spec.backend
    engine = make_engine(system, backend, sample_every=protocol.sample_every, **eng_spec.engine_kwargs())
    rank0 = getattr(engine, "rank", 0) == 0
    dt = system.dt
    chain_rate = protocol.rate_chain
    branch = protocol.t0 > 0 or protocol.after_duration > 0
    total_time = (
        system.melt_time
        + system.equilibration_time
        + protocol.transient
        + n_configs * (protocol.config_interval + protocol.t0 + protocol.after_duration)
    )
    bar = tqdm(
        total=int(round(total_time / dt)),
        unit="step",
        unit_scale=True,
        desc=f"{system.name}/{protocol.name}",
        disable=not (sc.progress and rank0),
    )
    progress = bar.update
    t_start = time.perf_counter()
    log.info("simulate %s / %s -> %s", system.name, protocol.name, out)

    engine.equilibrate(seed, progress=progress)
    engine.protocol = protocol.name
    if protocol.transient > 0:
        log.info("discarding transient: %g time units at rate %g", protocol.transient, chain_rate)
        engine.run([Segment(protocol.transient, chain_rate, record=False)], progress=progress)

    stress_blocks: list[float] = []
    temps: list[float] = []
    records: list[dict[str, Any]] = []
    for i in range(n_configs):
        traj = engine.run([Segment(protocol.config_interval, chain_rate)], record_positions=False, progress=progress)
        assert traj is not None
        stress_blocks.append(float(traj.stress_xy[1:].mean()))
        temps.append(float(traj.temperature[1:].mean()))
        chain_state: Configuration | None = engine.snapshot() if branch else None
        if protocol.kind == "startup" and protocol.t0 > 0:
            engine.run([Segment(protocol.t0, protocol.rate, record=False)], progress=progress)
        conf = engine.snapshot(
            protocol=protocol.name,
            protocol_kind=protocol.kind,
            config_index=i,
            rate_after=protocol.rate_after,
            rate_final=protocol.rate_final,
            t0=protocol.t0,
            master_seed=seed,
        )
        rec: dict[str, Any] = {
            "index": i,
            "time": conf.meta["time"],
            "strain": conf.meta["strain"],
            "tilt": conf.tilt,
            "mean_stress_xy": stress_blocks[-1],
            "mean_temperature": temps[-1],
        }
        if protocol.after_duration > 0:
            after = engine.run(
                [Segment(protocol.after_duration, protocol.rate_after)],
                record_positions=False,
                progress=progress,
                record_atom_stress=atom_stress,
            )
            assert after is not None
            rec["after"] = {
                "rate": protocol.rate_after,
                "stress_xy": _downsample(after.times, after.stress_xy),
                "temperature_mean": float(after.temperature[1:].mean()),
            }
            if atom_stress and rank0:  # per-particle σ_i,xy(t) (Zeng, Yu & Wang 2025 Eq. 2-3)
                rel = f"configs/conf_{i:04d}_after_stress.npz"
                save_npz(
                    out / rel,
                    {
                        "times": after.times,
                        "strain": after.strain,
                        "stress_xy": after.stress_xy,
                        "atom_stress_xy": after.atom_stress_xy.astype(np.float32),
                        "particle_volume": after.particle_volume,
                        "species": conf.species,
                    },
                )
                rec["after"]["atom_stress_file"] = rel
        if rank0:
            path = write_configuration(out / "configs" / f"conf_{i:04d}.extxyz", conf)
            rec["file"] = str(path.relative_to(out))
        records.append(rec)
        if chain_state is not None:
            engine.load(chain_state)
            engine.protocol = protocol.name
    bar.close()
    wall = time.perf_counter() - t_start

    summary: dict[str, Any] = {
        "system": system.to_dict(),
        "protocol": protocol.to_dict(),
        "n_configs": n_configs,
        "seed": seed,
        "engine": {
            "backend": backend,
            "version": engine.version,
            "n_threads": getattr(engine, "n_threads", None),
            "mpi_ranks": getattr(engine, "world_size", 1),
        },
        "taulc_version": __version__,
        "temperature_mean": float(np.mean(temps)),
        "wall_seconds": wall,
        "throughput_atom_steps_per_s": system.n_atoms * total_time / dt / wall,
        "configs": records,
    }
    if chain_rate > 0:
        blocks = -np.asarray(stress_blocks) / chain_rate
        summary["viscosity"] = {
            "rate": chain_rate,
            "eta": float(blocks.mean()),
            "eta_sem": float(blocks.std(ddof=1) / math.sqrt(len(blocks))) if len(blocks) > 1 else None,
            "strain_averaged": chain_rate * protocol.config_interval * n_configs,
            "transient_discarded": protocol.transient,
        }
        log.info("eta = %.3f at rate %g", summary["viscosity"]["eta"], chain_rate)
    if rank0:
        atomic_write_json(out / "summary.json", summary)
        log.info("wrote %d configurations and summary.json to %s (%.0f s)", n_configs, out, wall)
    close = getattr(engine, "close", None)
    if close:
        close()
    return summary


def _hydra_dir() -> Path | None:
    try:
        from hydra.core.hydra_config import HydraConfig

        return Path(HydraConfig.get().runtime.output_dir)
    except Exception:  # noqa: BLE001 - not running under Hydra
        return None


def _simulate(cfg: Any) -> float | None:
    with exit_on_error("taulc-simulate", cleanup=lambda: discard_refused_run(_hydra_dir())):  # refused input: exit 2
        summary = simulate(cfg)
    visc = summary.get("viscosity")
    return None if visc is None else float(visc["eta"])


def main() -> None:
    """Console entry point (``taulc-simulate``); Hydra overrides on the command line (``--help``, ``--version``)."""

    hydra_entry(_simulate, "simulate", "taulc-simulate")


if __name__ == "__main__":
    main()
