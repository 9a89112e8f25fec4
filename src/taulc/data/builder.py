"""Dataset builder: simulate -> label -> assemble -> featurize -> graph, cached per shard.

A *shard* is one configuration at one shear rate.  Every stage writes its
result for a shard into ``<root>/cache/<stage>_<key>/<shard>.*`` where
``<key>`` hashes exactly the config the stage depends on.  A rerun skips every
result already present, so a killed build resumes where it stopped, and a
rerun with an unchanged config does nothing.  Files are written atomically,
so a kill never leaves a corrupt shard.  Only the final ``assemble`` stage
writes ``shards/`` and ``manifest.json``; shards hold the configuration and its
ICE labels.  ``featurize`` and ``graph`` then fill the derived caches of
:mod:`taulc.data.derived` (descriptors and edges are cheap to recompute and
keyed by their own config, so they are not part of the shards).

The stages themselves (MD, ICE labels, descriptors, graphs) live in
:mod:`taulc.data.stages`; this module only orchestrates and records.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from taulc import __version__
from taulc.data import stages
from taulc.data.derived import all_graphs, shard_features
from taulc.data.ingest import content_hashes, read_configurations
from taulc.data.ingest_checks import check_configurations, check_ingest_files
from taulc.data.manifest import MANIFEST, canonical_hash, package_versions, read_manifest
from taulc.data.manifest import dataset_identity as dataset_config  # older name, re-exported
from taulc.data.specs import ALL_STAGES, NON_SIMULATION_KEYS, SPLIT_ROLES, BuildConfig
from taulc.data.startup_runs import run_startup_stage
from taulc.data.storage import (
    FORMAT_VERSION,
    DatasetError,
    atomic_write_json,
    load_npz,
    read_json,
    save_npz,
    sha256_file,
    shard_id,
)
from taulc.md.cage import jumps_inside_window
from taulc.utils import default_threads
from taulc.utils import to_plain as _plain
from taulc.validate import check_output_dir

log = logging.getLogger(__name__)


@dataclass
class ShardKey:
    rate: float
    index: int

    @property
    def id(self) -> str:
        return shard_id(self.rate, self.index)


class DatasetBuilder:
    """Build ``<data_root>/<dataset.name>`` from a resolved config mapping.

    The config is parsed once (:meth:`taulc.data.specs.BuildConfig.from_config`, ``self.spec``; each schema
    checks its ranges), then the inputs (ingested files, ``data_root``); the stages read the typed view.
    The hashes (manifest, cache keys) cover the raw ``system``/``dataset``/``labels`` nodes,
    as they always did, so existing datasets stay valid.  ``progress`` (default
    ``build.progress``) switches the tqdm bars.
    """

    def __init__(self, cfg: Mapping[str, Any], root: str | Path, progress: bool | None = None) -> None:
        self.cfg = {k: _plain(v) for k, v in cfg.items()}
        self.spec: BuildConfig = BuildConfig.from_config(self.cfg)  # every field, before any MD
        if self.spec.dataset.source == "ingest":
            check_ingest_files(self.spec.dataset.files)
        check_output_dir(root, "data_root")
        self.dcfg = dataset_config(self.cfg)
        self.root = Path(root)
        self.cache = self.root / "cache"
        self.progress = self.spec.build.progress if progress is None else bool(progress)
        ds = self.spec.dataset
        self.source = ds.source
        self.rates = list(ds.rates) if self.source == "simulate" else []
        sim_key = {k: self.dcfg.get(k) for k in ("system",)}
        sim_key["dataset"] = {k: v for k, v in self.cfg["dataset"].items() if k not in NON_SIMULATION_KEYS}
        self.inputs: list[dict[str, str]] = []
        if self.source == "ingest":  # caches keyed by content: a replaced or fixed file is a new input
            self.inputs = content_hashes(list(ds.files))
            sim_key["inputs"] = [f["sha256"] for f in self.inputs]
        self.k_sim = canonical_hash(sim_key)
        self.k_lab = canonical_hash([self.k_sim, self.dcfg.get("labels")])
        pos = self.cfg["dataset"].get("positions")
        self.k_pos = canonical_hash([self.k_sim, pos]) if pos else None

    # ------------------------------------------------------------------ roles (dataset.splits)
    def role(self, s: ShardKey) -> str:
        """``train`` | ``val`` | ``test`` of a shard (:meth:`taulc.data.specs.DatasetSpec.role`)."""
        return self.spec.dataset.role(s.index)

    def labels_for(self, s: ShardKey):
        """Label settings of a shard: ``labels`` with ``dataset.splits.test_labels`` on test shards."""
        sp = self.spec.dataset.splits
        return self.spec.labels if sp is None else sp.labels_for(self.spec.labels, self.role(s))

    def label_key(self, s: ShardKey) -> str:
        """Cache key of a shard's labels: the ``labels`` node, with the test overrides where they apply."""
        sp = self.spec.dataset.splits
        if sp is None or not sp.test_labels or self.role(s) != "test":
            return self.k_lab
        return canonical_hash([self.k_sim, {**(self.dcfg.get("labels") or {}), **_plain(sp.test_labels)}])

    def label_path(self, s: ShardKey) -> Path:
        return self.cache / f"label_{self.label_key(s)}" / f"{s.id}.npz"

    # ------------------------------------------------------------------ plan
    def shards(self) -> list[ShardKey]:
        if self.source == "simulate":
            return [ShardKey(r, k) for r in self.rates for k in range(int(self.spec.dataset.n_configs or 0))]
        return [ShardKey(float(c.meta.get("rate", 0.0)), i) for i, c in enumerate(self._ingested())]

    def _ingested(self):
        if not hasattr(self, "_ingest_cache"):
            src = self.spec.dataset
            self._ingest_cache = read_configurations(list(src.files), species_map=src.species_map, rate=src.rate, fmt=src.format)
            check_configurations(self._ingest_cache, self.spec.system)  # N, rho, composition, overlaps: before MD
        return self._ingest_cache

    def up_to_date(self) -> bool:
        return self.stale_reason() is None

    def stale_reason(self) -> str | None:
        """Why the dataset on disk must be (re)assembled, naming the file; None when it is up to date."""
        path = self.root / MANIFEST
        if not path.exists():
            return f"{path} does not exist"
        try:
            man = read_manifest(self.root)
        except DatasetError as exc:
            return str(exc)
        if man.get("format_version") != FORMAT_VERSION:
            return f"{path}: format_version {man.get('format_version')!r}, this taulc writes {FORMAT_VERSION}"
        if man.get("config_hash") != canonical_hash(self.dcfg):
            return (
                f"{path}: built from another config (config hash {man.get('config_hash')}, requested {canonical_hash(self.dcfg)})"
            )
        if self.inputs and man.get("inputs") != self.inputs:
            return f"{path}: built from other input files (dataset.files changed or were replaced)"
        for s in man["shards"]:
            f = self.root / s["file"]
            if not f.exists():
                return f"shard {f} is missing"
            digest = sha256_file(f)
            if digest != s["sha256"]:
                return f"shard {f} is corrupt (sha256 {digest[:12]}..., the manifest records {s['sha256'][:12]}...)"
        return None

    # ------------------------------------------------------------------ stages
    def _bar(self, it: Iterable, total: int, desc: str):
        return tqdm(it, total=total, desc=desc, unit="shard", disable=not self.progress, dynamic_ncols=True)

    def stage_simulate(self, shards: list[ShardKey]) -> None:
        """Equilibrium state, equilibrium reference times, and steady-state configurations per rate."""
        d = self.cache / f"simulate_{self.k_sim}"
        eq_path = d / "equilibrium.extxyz"
        if self.source == "simulate":
            if not eq_path.exists():
                log.info("equilibrating the %s system", self.spec.system.name)
                stages.equilibrate(self.spec, eq_path)
        else:
            for key, conf in zip(shards, self._ingested()):
                p = d / f"{key.id}.extxyz"
                if not p.exists():
                    stages.save_configuration(p, conf)
            if not eq_path.exists():
                stages.equilibrate(self.spec, eq_path)
        ref_path = self.cache / f"reference_{self.k_lab}.json"
        if not ref_path.exists():
            log.info("equilibrium reference run (MSD, alpha2, F_s, l_c^2)")
            atomic_write_json(ref_path, stages.reference(self.spec, eq_path))
        if self.source != "simulate":
            return
        rates = sorted({s.rate for s in shards})
        for rate in self._bar(rates, len(rates), "simulate (rates)"):
            want = [s for s in shards if s.rate == rate]
            if all((d / f"{s.id}.extxyz").exists() for s in want) and (d / f"rate_{rate:.3e}.json").exists():
                continue
            protocol = self.spec.dataset.steady_protocol(rate, self.spec.system.dt)
            stages.sample_steady(
                self.spec,
                protocol,
                eq_path,
                [s.index for s in want],
                [d / f"{s.id}.extxyz" for s in want],
                d / f"rate_{rate:.3e}.json",
            )

    def reference(self) -> dict[str, Any]:
        return read_json(self.cache / f"reference_{self.k_lab}.json")

    def _per_shard(self, name: str, key: str, shards: list[ShardKey], fn) -> None:
        d = self.cache / f"{name}_{key}"
        todo = [s for s in shards if not (d / f"{s.id}.npz").exists()]
        if not todo:
            return
        for s in self._bar(todo, len(todo), name):
            conf_path = self.cache / f"simulate_{self.k_sim}" / f"{s.id}.extxyz"
            arrays = fn(conf_path, s)
            save_npz(d / f"{s.id}.npz", arrays)

    def stage_positions(self, shards: list[ShardKey]) -> None:
        """Inherent-state and cage-averaged positions per shard (``dataset.positions``; :mod:`taulc.md.cage`)."""
        pos = self.spec.dataset.positions
        if pos is None or self.k_pos is None:
            return
        self._per_shard(
            "positions", self.k_pos, shards, lambda p, s: stages.cage_positions(self.spec, p, self._shard_seed(s) + 1)
        )

    def stage_label(self, shards: list[ShardKey]) -> None:
        ref = self.reference()
        todo = [s for s in shards if not self.label_path(s).exists()]
        if not todo:
            return
        if self.spec.dataset.splits is not None:
            counts = {r: [s for s in todo if self.role(s) == r] for r in SPLIT_ROLES}
            log.info(
                "labels to compute: %s",
                ", ".join(f"{len(v)} {r} (R = {self.labels_for(v[0]).n_replicas})" for r, v in counts.items() if v),
            )
        for s in self._bar(todo, len(todo), "label"):
            conf_path = self.cache / f"simulate_{self.k_sim}" / f"{s.id}.extxyz"
            arrays = stages.label(self.spec, conf_path, s.rate, ref, self._shard_seed(s), labels=self.labels_for(s))
            save_npz(self.label_path(s), arrays)

    def stage_featurize(self, shards: list[ShardKey]) -> None:
        shard_features(self.root, read_manifest(self.root), self.cfg.get("descriptor"), progress=self.progress)

    def stage_graph(self, shards: list[ShardKey]) -> None:
        all_graphs(self.root, read_manifest(self.root), self.spec.dataset.graph_radius, self.progress)

    def stage_assemble(self, shards: list[ShardKey]) -> Path:
        """Write final shards and the manifest (atomic; only when every stage is complete)."""
        ref = self.reference()
        sim_dir = self.cache / f"simulate_{self.k_sim}"
        entries, per_rate = [], {}
        fj_dtype = np.dtype(self.spec.dataset.first_jump_dtype)
        for s in self._bar(shards, len(shards), "assemble"):
            conf = stages.load_configuration(sim_dir / f"{s.id}.extxyz")
            lab = dict(load_npz(self.label_path(s)))
            for k in ("first_jump_lc", "first_jump_sh"):
                lab[k] = np.asarray(lab[k]).astype(fj_dtype)
            extra: dict[str, Any] = {}
            if self.k_pos is not None:
                extra = dict(load_npz(self.cache / f"positions_{self.k_pos}" / f"{s.id}.npz"))
                if "cage_window" in extra:
                    extra["cage_jump_fraction"] = np.float64(
                        jumps_inside_window(lab["first_jump_lc"], float(extra["cage_window"]))
                    )
            slow = np.asarray(lab["slow"]).astype(np.int64)  # Eq. 2 with the labels' tau_2
            arrays = {
                "positions": conf.positions,
                "species": conf.species.astype(np.int64),
                "cell": conf.cell,
                "rate": np.float64(s.rate),
                "config_index": np.int64(s.index),
                "strain": np.float64(conf.meta.get("strain", 0.0)),
                **{k: v for k, v in lab.items()},
                **extra,
                "slow": slow,
            }
            rel = f"shards/{s.id}.npz"
            digest = save_npz(self.root / rel, arrays)
            st = {
                "p_slow": float(slow.mean()),
                "censored_lc": float(np.mean(lab["censored_lc"])),
                "censored_sh": float(np.mean(lab["censored_sh"])),
                "ln_tau_lc_mean": float(np.mean(np.log(lab["tau_lc"]))),
                "ln_tau_sh_mean": float(np.mean(np.log(lab["tau_sh"]))),
            }
            for k in ("reliability_lc", "reliability_sh"):
                if k in lab:
                    st[k] = float(lab[k])
            if "cage_jump_fraction" in extra:
                st["cage_jump_fraction"] = float(extra["cage_jump_fraction"])
            if "reliability_mobility" in lab and np.size(lab["reliability_mobility"]):
                st["reliability_mobility"] = float(np.ravel(lab["reliability_mobility"])[0])
            entries.append(
                {
                    "id": s.id,
                    "file": rel,
                    "sha256": digest,
                    "rate": s.rate,
                    "config_index": s.index,
                    **({"split": self.role(s)} if self.spec.dataset.splits is not None else {}),
                    "n_replicas": int(np.shape(lab["first_jump_lc"])[0]),
                    "n_particles": int(len(conf.species)),
                    "seeds": {"label": self._shard_seed(s), **{k: v for k, v in conf.meta.items() if "seed" in k}},
                    "time": float(conf.meta.get("time", 0.0)),
                    "stats": st,
                }
            )
            per_rate.setdefault(f"{s.rate:.6g}", []).append(st)
        rates_summary = {}
        for r, sts in per_rate.items():
            summ = {k: float(np.mean([x[k] for x in sts])) for k in sts[0]}
            summ["n_configs"] = len(sts)
            rp = sim_dir / f"rate_{float(r):.3e}.json"
            if rp.exists():
                summ.update({k: v for k, v in read_json(rp).items() if isinstance(v, (int, float))})
            rates_summary[r] = summ
        man = {
            "format_version": FORMAT_VERSION,
            "taulc_version": __version__,
            "name": self.spec.dataset.name,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "config": self.dcfg,
            "config_hash": canonical_hash(self.dcfg),
            "versions": package_versions(),
            "reference": ref,
            "shard_format": "npz; fields documented in taulc.data.storage.SHARD_FIELDS",
            "shards": entries,
            "rates": rates_summary,
        }
        if self.inputs:
            man["inputs"] = self.inputs
        if self.spec.dataset.splits is not None:  # fixed per-rate roles, with the labels of each (docs/guide/datasets.md)
            man["splits"] = {r: [e["id"] for e in entries if e.get("split") == r] for r in SPLIT_ROLES}
            man["labels_by_split"] = {
                r: {"n_replicas": int(lb.n_replicas), "t_max": float(lb.t_max)}
                for r in SPLIT_ROLES
                for lb in [self.spec.dataset.splits.labels_for(self.spec.labels, r)]
            }
        atomic_write_json(self.root / MANIFEST, man)
        return self.root / MANIFEST

    def _check_threads(self) -> None:
        """Warn when a resumed build runs LAMMPS with another OpenMP thread count than the cached results.

        For a fixed thread count the MD is bitwise reproducible (a resumed build gives the same shard
        checksums, tests/test_data_build.py); with another count the force summation order changes and
        the chaotic trajectories, hence the ICE labels, differ (measured: 1 vs 2 threads, demo N = 1500,
        10 τ at rate 0: positions differ by up to a box length).  ``engine.n_threads: null`` means *all
        cores*, which depends on the machine, so set it explicitly for reproducible builds.
        """

        n = self.spec.engine.n_threads
        threads = n if n is not None else default_threads()  # what LammpsEngine picks for null
        path = self.cache / "engine_threads.json"
        if path.exists():
            before = read_json(path).get("threads")
            if before != threads:
                log.warning(
                    "%s: cached MD results were computed with %s OpenMP thread(s), this run uses %s: shards will "
                    "not be bitwise identical to an uninterrupted build (LAMMPS summation order); set "
                    "engine.n_threads=%s to resume identically",
                    self.root,
                    before,
                    threads,
                    before,
                )
        else:
            atomic_write_json(path, {"threads": threads})

    # ------------------------------------------------------------------ run
    def build(
        self,
        run_stages: Iterable[str] = ALL_STAGES,
        only_rates: Iterable[float] | None = None,
        force: bool = False,
        only_roles: Iterable[str] | None = None,
    ) -> Path | None:
        run_stages = list(run_stages)
        unknown = [s for s in run_stages if s not in ALL_STAGES]
        if unknown:
            raise ValueError(f"build.stages: unknown stage(s) {unknown}; expected a subset of {list(ALL_STAGES)}")
        only_roles = None if only_roles is None else [str(r) for r in only_roles]
        partial = only_rates is not None or only_roles is not None
        reason = self.stale_reason() if not force and "assemble" in run_stages and not partial else "forced"
        if reason is not None and reason != "forced" and (self.root / MANIFEST).exists():
            log.warning(
                "%s: %s; rebuilding (finished stages are reused from %s, only what is missing reruns)",
                self.root,
                reason,
                self.cache,
            )
        if reason is None:
            log.info("%s is up to date (config hash %s); nothing to rebuild", self.root, canonical_hash(self.dcfg))
            for name in ("featurize", "graph"):
                if name in run_stages:
                    getattr(self, f"stage_{name}")([])
            return self.root / MANIFEST
        shards = self.shards()
        if not shards:
            raise DatasetError(f"{self.root}: nothing to build (no shards); check dataset.n_configs and dataset.files")
        if only_rates is not None:
            keep = [float(r) for r in only_rates]
            shards = [s for s in shards if any(np.isclose(s.rate, r, rtol=1e-9, atol=0.0) or s.rate == r for r in keep)]
        t0 = time.perf_counter()
        self._check_threads()
        if only_roles is not None:
            bad = sorted(set(only_roles) - set(SPLIT_ROLES))
            if bad:
                raise ValueError(f"build.only_roles: unknown role(s) {bad}; expected a subset of {list(SPLIT_ROLES)}")
        for name in ("simulate", "positions", "label"):
            if name in run_stages:
                todo = shards if name == "simulate" or only_roles is None else [s for s in shards if self.role(s) in only_roles]
                getattr(self, f"stage_{name}")(todo)
        if only_roles is not None:
            log.info("only_roles given: skipping assemble; run once more without it to write the manifest")
            return None
        if only_rates is not None:
            log.info("only_rates given: skipping assemble; run once more without it to write the manifest")
            return None
        path = None
        if "assemble" in run_stages:
            path = self.stage_assemble(shards)
            log.info("dataset written to %s in %.1f s", self.root, time.perf_counter() - t0)
        for name in ("featurize", "graph"):
            if name in run_stages:
                getattr(self, f"stage_{name}")(shards)
        if "startup" in run_stages:
            self.stage_startup()
        return path

    def stage_startup(self) -> Path:
        """Start-up shear runs from the equilibrium shards at ``build.startup.rates`` (cached per run).

        The rheology data of Yu, Zeng & Wang 2025 (Fig. 15, App. B); see :mod:`taulc.data.startup_runs`.
        """

        st = self.spec.build.startup
        rates = list(st.rates or [r for r in self.spec.dataset.rates if r > 0])
        threads = self.spec.engine.n_threads if self.spec.engine.n_threads is not None else 1
        return run_startup_stage(self.root, rates, st, threads=threads, progress=self.progress)

    def _shard_seed(self, s: ShardKey) -> int:
        """Deterministic seed per shard, derived from the dataset seed (recorded in the manifest)."""
        return int(canonical_hash([self.spec.dataset.seed, round(s.rate, 12), s.index]), 16) % (2**31 - 1)
