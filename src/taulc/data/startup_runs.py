"""Cached start-up shear runs of a dataset's equilibrium configurations (rheology data).

    python -m taulc.data.startup_runs --root datasets/demo --rates 0.001 0.01 0.03 0.1

For every equilibrium configuration (rate-0 shard) of a dataset and every rate,
:func:`taulc.physics.startup.run_startup` shears it from rest and records the
system and per-particle stress, C_i(t) and first cage jumps (Yu, Zeng & Wang 2025,
Fig. 15 and App. B).  Each (rate, configuration) result is one
``<root>/startup/<key>/r<rate>_c<index>.npz`` written atomically (stress windows
block-averaged to at most ``max_frames`` frames, float32 per-particle arrays, so the
demo's runs stay small enough to ship with the dataset); ``<key>`` hashes the dataset
config and the run settings, so a rerun skips what exists and a killed run resumes.
:func:`load_startup_runs` reads them back.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from taulc.data.manifest import canonical_hash, read_manifest
from taulc.data.storage import DatasetError, atomic_write_json, load_npz, save_npz, shard_id
from taulc.hydra_app import add_version_flag
from taulc.md.configuration import Configuration
from taulc.md.lammps_engine import LammpsEngine
from taulc.md.system import SystemSpec
from taulc.physics.measured import gr_first_minimum, pair_distribution
from taulc.physics.startup import run_startup
from taulc.utils import install_tqdm_logging

log = logging.getLogger(__name__)

__all__ = ["StartupSettings", "StartupSpec", "startup_dir", "run_startup_stage", "load_startup_runs", "equilibrium_shards"]

DEFAULT_STRAIN = 0.3
#: stored stress frames per run (windows merged exactly, see ``coarsen_windows``)
MAX_FRAMES = 60


@dataclass(frozen=True)
class StartupSettings:
    """Run settings hashed into the cache key (:meth:`key`): strain per run, cap on its length,
    velocity replicas per configuration, seed."""

    strain: float = DEFAULT_STRAIN
    max_time: float = 150.0
    n_replicas: int = 2
    seed: int = 4242

    def __post_init__(self) -> None:
        if not (self.strain > 0 and self.max_time > 0 and self.n_replicas >= 1):
            raise ValueError(
                f"startup settings: strain, max_time > 0 and n_replicas >= 1 required, "
                f"got {self.strain}, {self.max_time}, {self.n_replicas}"
            )
        for name, tp in (("strain", float), ("max_time", float), ("n_replicas", int), ("seed", int)):
            object.__setattr__(self, name, tp(getattr(self, name)))  # the key hashes 1.0, never 1

    def key(self) -> dict[str, Any]:
        """What the cache folder's name hashes (and ``settings.json`` records)."""
        return {f.name: getattr(self, f.name) for f in fields(StartupSettings)}

    def duration(self, rate: float) -> float:
        """Run length: ``strain / γ̇`` capped at ``max_time``."""
        return float(min(self.strain / rate, self.max_time))


@dataclass(frozen=True)
class StartupSpec(StartupSettings):
    """The ``build.startup`` node of ``src/taulc/conf/build.yaml``: the run settings and the rates
    (``None``: the dataset's nonzero rates)."""

    rates: tuple[float, ...] | None = None


def startup_dir(root: str | Path, man: dict[str, Any], settings: StartupSettings) -> Path:
    return Path(root) / "startup" / canonical_hash([man["config_hash"], settings.key()])


def equilibrium_shards(root: str | Path, man: dict[str, Any]) -> list[tuple[int, dict[str, np.ndarray]]]:
    """``(config_index, shard arrays)`` of the rate-0 shards (equilibrium τ_LC labels)."""
    out = [
        (int(s["config_index"]), load_npz(Path(root) / s["file"], ("positions", "species", "cell")))
        for s in man["shards"]
        if float(s["rate"]) == 0.0
    ]
    if not out:
        raise DatasetError(
            f"{root}: manifest has no rate-0 (equilibrium) shards; the start-up "
            "runs and H_eq(τ_LC) need them (add 0.0 to dataset.rates)"
        )
    return sorted(out, key=lambda x: x[0])


def run_startup_stage(
    root: str | Path, rates: list[float], settings: StartupSettings, threads: int = 1, progress: bool = True
) -> Path:
    """Run (or resume) the start-up runs of every equilibrium configuration at ``rates``."""

    man = read_manifest(root)
    system = SystemSpec.from_config(man["config"]["system"])
    lc2 = float(man["reference"]["lc2"])
    eq = equilibrium_shards(root, man)
    r_cut = gr_first_minimum(pair_distribution([a["positions"] for _, a in eq], [a["cell"] for _, a in eq]))
    out = startup_dir(root, man, settings)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "settings.json", {**settings.key(), "r_cut": r_cut, "lc2": lc2})
    eng = LammpsEngine(system, n_threads=threads)
    try:
        for rate in rates:
            for idx, arr in eq:
                path = out / f"{shard_id(rate, idx)}.npz"
                if path.exists():
                    continue
                conf = Configuration(arr["positions"], arr["species"], arr["cell"], None, {"system": system.name})
                t0 = time.perf_counter()
                run = run_startup(
                    eng,
                    conf,
                    rate,
                    settings.duration(rate),
                    n_replicas=settings.n_replicas,
                    seed=settings.seed + 1000 * idx + int(round(rate * 1e6)),
                    lc2=lc2,
                    r_cut=r_cut,
                    progress=progress,
                )
                arrays = run.to_arrays(max_frames=MAX_FRAMES)
                arrays["config_index"] = np.int64(idx)
                arrays["wall_seconds"] = np.float64(time.perf_counter() - t0)
                arrays["meta_json"] = np.array(json.dumps(run.meta))
                save_npz(path, arrays)
                log.info("start-up γ̇=%g config %d: %.0f s", rate, idx, arrays["wall_seconds"])
    finally:
        eng.close()
    return out


def load_startup_runs(root: str | Path, settings: StartupSettings | None = None) -> dict[float, list[dict[str, np.ndarray]]]:
    """Start-up runs of a dataset by rate (each a list over configurations); {} if none.

    With ``settings=None`` the most recently written ``startup/<key>`` folder is used.
    """
    root = Path(root)
    if settings is not None:
        dirs = [startup_dir(root, read_manifest(root), settings)]
    else:
        dirs = (
            sorted((p for p in (root / "startup").glob("*") if p.is_dir()), key=lambda p: p.stat().st_mtime)[-1:]
            if (root / "startup").is_dir()
            else []
        )
    runs: dict[float, list[dict[str, np.ndarray]]] = {}
    for d in dirs:
        for f in sorted(d.glob("r*_c*.npz")):
            a = load_npz(f)
            runs.setdefault(float(a["rate"]), []).append(a)
    for lst in runs.values():
        lst.sort(key=lambda a: int(a["config_index"]))
    return dict(sorted(runs.items()))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--root", default="datasets/demo", help="dataset folder (with manifest.json)")
    p.add_argument("--rates", type=float, nargs="+", required=True, help="shear rates γ̇ > 0")
    p.add_argument("--strain", type=float, default=DEFAULT_STRAIN, help="strain per run")
    p.add_argument("--max-time", type=float, default=150.0, help="cap on the run length (LJ time)")
    p.add_argument("--replicas", type=int, default=2, help="velocity replicas per configuration")
    p.add_argument("--seed", type=int, default=4242)
    p.add_argument("--threads", type=int, default=1, help="LAMMPS OpenMP threads")

    add_version_flag(p, "python -m taulc.data.startup_runs")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")

    install_tqdm_logging()  # log lines above the progress bars
    t0 = time.perf_counter()
    d = run_startup_stage(a.root, a.rates, StartupSettings(a.strain, a.max_time, a.replicas, a.seed), threads=a.threads)
    log.info("start-up runs in %s (%.0f s)", d, time.perf_counter() - t0)


if __name__ == "__main__":
    main()
