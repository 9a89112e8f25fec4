"""Label quality of a built dataset, and its trade-offs with replicas and horizon, from stored labels only (no MD).

The ICE labels ``τ_LC`` (shear off) and ``τ_sh`` (shear on) of every particle are
estimated from ``R`` isoconfigurational replicas whose first cage-jump times are
stored per replica in each shard (``first_jump_lc`` / ``first_jump_sh``, ``(R, N)``,
NaN = censored, no jump before ``t_max``; Yu, Zeng & Wang 2025, Sec. II.B-C).
For the reference species (big, species 0) within each shear rate this module
reports:

1. **Reliability** ``ρ`` of ``ln τ`` -- split-half correlation of the labels
   estimated from two disjoint halves of the replicas, Spearman-Brown corrected
   to ``R`` (:func:`taulc.dynamics.estimators.split_half_reliability`), with the
   learning targets' estimator (``logmean``, ``⟨ln min(τ_p, t_max)⟩``, by default;
   ``--estimator km`` for the paper's Kaplan-Meier mean) and, beside it, the
   reliability and ceiling of each ``--compare`` estimator (``km`` by default),
   computed within each configuration then averaged over the
   configurations of the rate; the **noise ceiling** ``√ρ``
   (:func:`taulc.models.metrics.split_half_ceiling`, the ``config`` scope of
   the honest-skill tables), and the **censored fraction** of (replica, particle)
   pairs.
2. **ρ versus replicas** ``R' = 2 … R`` (random subsets of the replicas) and the
   Spearman-Brown extrapolation ``R* = R · ρ*(1 - ρ) / (ρ (1 - ρ*))`` to the
   replicas that reach ``ρ* = 0.8`` (``ln τ_LC``) / ``0.7`` (``ln τ_sh``).
3. **Censoring and ρ versus the horizon** ``t_max' ≤ t_max``: first jumps later
   than ``t_max'`` become censored and the estimator is restricted to
   ``t_max'``; ``t_max'`` is also given in units of the equilibrium ``τ_α`` of
   the manifest's reference.  The horizon for ``≤ 5 %`` censored pairs is read
   from the pooled first-jump distribution when it lies inside ``t_max``, else
   extrapolated with the exponential tail fitted between the two largest
   ``t_max'``.  The tail check fits the same exponential one horizon earlier
   and predicts the censored fraction at ``t_max``: on the demo it falls 15-21 %
   short of the measured one (the hazard of a mixture of particles decreases
   with time), so read the extrapolated horizon as a lower estimate.

Run: ``python -m taulc.analysis.label_quality datasets/ka_shear [--split test] [--species 0|all] [--out DIR]``
(also ``taulc-label-quality``); prints one table per quantity and writes
``label_quality.json`` and ``label_quality.png`` into ``--out``.  ``--split`` restricts the
analysis to the configurations of one role of a dataset with fixed splits (``dataset.splits``:
the test configurations carry many more replicas than the training ones).
"""

from __future__ import annotations

import argparse
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from taulc.data.dataset import verify_shards
from taulc.data.manifest import check_compatible, read_manifest
from taulc.data.storage import DatasetError, atomic_write_json, atomic_write_with, load_npz
from taulc.dynamics.estimators import (
    ESTIMATORS,
    ice_estimate,
    replicas_needed,
    spearman_brown,
    split_half_reliability,
    split_halves,
)
from taulc.errors import exit_on_error
from taulc.hydra_app import add_version_flag
from taulc.models.metrics import split_half_ceiling
from taulc.utils import install_tqdm_logging

log = logging.getLogger(__name__)

__all__ = [
    "KINDS",
    "TARGETS",
    "CENSORED_TARGET",
    "TMAX_FRACTIONS",
    "ShardJumps",
    "load_first_jumps",
    "replica_grid",
    "replica_curve",
    "truncation_curve",
    "censoring_horizon",
    "label_quality",
    "quality_tables",
    "plot_label_quality",
    "main",
]

KINDS = {"lc": "first_jump_lc", "sh": "first_jump_sh"}
"""Label kind -> shard field of its per-replica first-jump times (shear off / shear on)."""
TARGETS = {"lc": 0.8, "sh": 0.7}
"""Reliability goals of ln τ_LC and ln τ_sh (issue 17: a default dataset whose labels can be learned)."""
CENSORED_TARGET = 0.05
"""Goal for the censored fraction of (replica, particle) pairs."""
TMAX_FRACTIONS = (0.25, 0.5, 0.75, 1.0)
"""Default truncation horizons, as fractions of the dataset's t_max."""
_NAMES = {"lc": "ln τ_LC", "sh": "ln τ_sh"}


@dataclass(frozen=True)
class ShardJumps:
    """Per-replica first-jump times of one shard, restricted to the selected species."""

    file: str
    rate: float
    config_index: int
    t_max: float
    seed: int
    first_jump: dict[str, np.ndarray]  # kind -> (R, n) float64, NaN = censored
    stored_reliability: dict[str, float]  # manifest's all-particle split-half reliability per kind


def load_first_jumps(
    root: str | Path, species: int | None = 0, split: str | None = None
) -> tuple[dict[str, Any], list[ShardJumps]]:
    """Manifest and per-replica first-jump arrays of every shard of the dataset at ``root``.

    ``split``: only the shards of that role (``train``/``val``/``test``; the manifest must
    record fixed splits).  Checks the format version and checksums; raises
    :class:`taulc.data.storage.DatasetError` naming the shard file and the missing field when a
    shard lacks per-replica arrays, and when it holds fewer than two replicas.
    """

    root = Path(root)
    man = read_manifest(root)
    check_compatible(man, root)
    verify_shards(root, man)
    out = []
    entries = list(enumerate(man["shards"]))
    if split is not None:
        if "splits" not in man:
            raise DatasetError(
                f"{root / 'manifest.json'}: --split {split}: the dataset has no fixed splits "
                "(dataset.splits); analyse all of it without --split"
            )
        entries = [(i, e) for i, e in entries if e.get("split") == split]
        if not entries:
            raise DatasetError(
                f"{root / 'manifest.json'}: no shard has split '{split}' "
                f"(roles: {sorted({str(e.get('split')) for e in man['shards']})})"
            )
    for i, entry in entries:
        path = root / entry["file"]
        z = load_npz(path, (*KINDS.values(), "t_max", "species", "rate"))
        sel = np.ones(z["species"].shape, bool) if species is None else np.asarray(z["species"]) == int(species)
        fj = {}
        for kind, key in KINDS.items():
            a = np.asarray(z[key], dtype=np.float64)
            if a.ndim != 2 or a.shape[1] != sel.size or a.shape[0] < 2:
                raise DatasetError(
                    f"{path}: field '{key}' must be (R >= 2, N = {sel.size}) per-replica first-jump times, got shape {a.shape}"
                )
            fj[kind] = a[:, sel]
        if not sel.any():
            raise DatasetError(f"{path}: no particle of species {species} in field 'species'")
        stats = entry.get("stats") or {}
        out.append(
            ShardJumps(
                file=str(entry["file"]),
                rate=float(z["rate"]),
                config_index=int(entry.get("config_index", i)),
                t_max=float(z["t_max"]),
                seed=int((entry.get("seeds") or {}).get("label", i)),
                first_jump=fj,
                stored_reliability={k: float(stats.get(f"reliability_{k}", math.nan)) for k in KINDS},
            )
        )
    return man, out


def _stat(t_max: float, estimator: str) -> Callable[[np.ndarray], np.ndarray]:
    """Per-particle ICE estimate of a ``(R', n)`` block, as the dataset's labels use it."""

    def stat(x: np.ndarray) -> np.ndarray:
        return ice_estimate(x, t_max, estimator)[0]

    return stat


def replica_curve(
    first_jump: np.ndarray,
    t_max: float,
    estimator: str,
    r_values: Sequence[int],
    *,
    n_subsets: int = 8,
    n_splits: int = 20,
    seed: int = 0,
) -> np.ndarray:
    """Reliability of ``ln τ`` from ``R'`` replicas, ``(len(r_values), n_subsets)`` (NaN-padded).

    For each ``R'`` random subsets of ``R'`` replicas (one, all of them, when ``R' = R``)
    give a split-half reliability over halves of ``h = ⌊R'/2⌋`` replicas, which is the
    reliability of ``2h`` replicas; it is carried to ``R'`` by Spearman-Brown with
    ``k = R'/2h`` (exact for even ``R'``).
    """
    rng = np.random.default_rng(seed)
    r = first_jump.shape[0]
    stat = _stat(t_max, estimator)
    out = np.full((len(r_values), max(1, n_subsets)), np.nan)
    for j, rp in enumerate(r_values):
        if not 2 <= rp <= r:
            raise ValueError(f"R' = {rp} outside [2, {r}]")
        subsets = [np.arange(r)] if rp == r else [rng.choice(r, rp, replace=False) for _ in range(max(1, n_subsets))]
        for k, sub in enumerate(subsets):
            rho = split_half_reliability(first_jump[sub], stat, n_splits=n_splits, seed=int(rng.integers(2**31)))
            out[j, k] = spearman_brown(rho, rp / (2 * (rp // 2)))
    return out


def truncation_curve(
    first_jump: np.ndarray, t_max: float, estimator: str, fractions: Sequence[float], *, n_splits: int = 20, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Censored count and reliability of ``ln τ`` at horizons ``f · t_max`` (first jumps later become NaN).

    Returns ``(n_censored (F,), reliability (F,))``; the estimator is restricted to each horizon.
    """
    n_cens = np.empty(len(fractions))
    rel = np.empty(len(fractions))
    for j, f in enumerate(fractions):
        tp = float(f) * t_max
        with np.errstate(invalid="ignore"):
            cut = np.where(first_jump <= tp, first_jump, np.nan)
        n_cens[j] = np.isnan(cut).sum()
        rel[j] = split_half_reliability(cut, _stat(tp, estimator), n_splits=n_splits, seed=seed)
    return n_cens, rel


def censoring_horizon(
    first_jumps: Sequence[np.ndarray], t_max: float, t_fit: float, target: float = CENSORED_TARGET
) -> tuple[float, str]:
    """Horizon at which ``target`` of the (replica, particle) pairs are still censored, and how it was found.

    ``first_jumps``: the ``(R, n)`` arrays of one rate.  Inside ``t_max`` the horizon is the
    empirical ``1 - target`` quantile of the pooled first-jump times (``"measured"``); beyond it
    the pooled survival ``S`` is continued as ``S(t_max) exp(-λ (t - t_max))`` with
    ``λ = ln(S(t_fit) / S(t_max)) / (t_max - t_fit)`` (``"exponential tail"``; too short when the
    hazard decreases with time).
    """
    x = np.concatenate([np.ravel(a) for a in first_jumps])
    n_tot = x.size
    done = np.sort(x[np.isfinite(x) & (x <= t_max)])
    k = math.ceil((1.0 - target) * n_tot - 1e-9)  # jumps needed so that at most target * n_tot remain
    if k <= 0:
        return 0.0, "measured"
    if k <= done.size:
        return float(done[k - 1]), "measured"
    s_max = 1.0 - done.size / n_tot
    s_fit = 1.0 - np.searchsorted(done, t_fit, side="right") / n_tot
    if not (t_fit < t_max and s_fit > s_max > 0):
        return math.inf, "no decay to extrapolate"
    lam = math.log(s_fit / s_max) / (t_max - t_fit)
    return t_max + math.log(s_max / target) / lam, "exponential tail"


def _mean_sd(v: Any) -> tuple[float, float]:
    a = np.asarray(v, dtype=np.float64)
    a = a[np.isfinite(a)]
    return (float(a.mean()), float(a.std(ddof=1)) if a.size > 1 else math.nan) if a.size else (math.nan, math.nan)


def replica_grid(r: int) -> list[int]:
    """Replica counts ``R'`` of the reliability-vs-replicas curve: every value up to 16, then about
    six per octave (``R`` itself included)."""
    if r <= 16:
        return list(range(2, r + 1))
    return sorted({*range(2, 17), *(int(round(x)) for x in np.geomspace(16, r, 1 + 6 * max(1, math.ceil(math.log2(r / 16))))), r})


def label_quality(
    root: str | Path,
    species: int | None = 0,
    *,
    n_splits: int = 20,
    n_subsets: int = 8,
    fractions: Sequence[float] = TMAX_FRACTIONS,
    seed: int = 0,
    progress: bool = True,
    estimator: str = "logmean",
    compare: Sequence[str] = ("km",),
    split: str | None = None,
) -> dict[str, Any]:
    """Label-quality numbers of the dataset at ``root`` per shear rate (module docstring, items 1-3).

    ``estimator`` drives every table; each of ``compare`` adds its reliability and ceiling beside
    it.  ``split``: one role of a dataset with fixed splits.  The full-``R`` halvings of a shard use
    its label seed (``seeds.label`` in the manifest), as the builder did, so ``species=None,
    n_splits=10, estimator="km"`` reproduces the manifest's stored ``reliability_lc/_sh``.
    """

    t0 = time.perf_counter()
    for e in (estimator, *compare):
        if e not in ESTIMATORS:
            raise ValueError(f"estimator {e!r} unknown; expected one of {ESTIMATORS}")
    compare = tuple(e for e in compare if e != estimator)
    man, shards = load_first_jumps(root, species, split)
    tau_alpha = float((man.get("reference") or {}).get("tau_alpha", math.nan))
    fractions = tuple(sorted(float(f) for f in fractions))
    if not fractions or fractions[0] <= 0 or fractions[-1] > 1:
        raise ValueError(f"t_max fractions must lie in (0, 1], got {fractions}")
    rates = sorted({s.rate for s in shards})
    per: dict[float, list[dict[str, Any]]] = {r: [] for r in rates}
    for s in tqdm(shards, desc="label quality", unit="shard", delay=2.0, disable=not progress):
        rec: dict[str, Any] = {"shard": s, "kinds": {}}
        for j, (kind, fj) in enumerate(s.first_jump.items()):
            r = fj.shape[0]
            stat = _stat(s.t_max, estimator)
            seed_k = s.seed + j  # the builder's seeds: label seed for τ_LC, + 1 for τ_sh
            halves = split_halves(fj, stat, n_splits=n_splits, seed=seed_k)
            n_cens, rel_t = truncation_curve(fj, s.t_max, estimator, fractions, n_splits=n_splits, seed=seed_k)
            rec["kinds"][kind] = {
                "R": r,
                "n": fj.shape[1],
                "halves": halves,
                "reliability": split_half_reliability(fj, stat, n_splits=n_splits, seed=seed_k),
                "curve": replica_curve(
                    fj,
                    s.t_max,
                    estimator,
                    replica_grid(r),
                    n_subsets=n_subsets,
                    n_splits=n_splits,
                    seed=seed + 7919 * s.config_index + 104729 * j,
                ),
                "n_censored": n_cens,
                "reliability_t": rel_t,
                "compare": {
                    e: (
                        split_half_reliability(fj, _stat(s.t_max, e), n_splits=n_splits, seed=seed_k),
                        split_halves(fj, _stat(s.t_max, e), n_splits=n_splits, seed=seed_k),
                    )
                    for e in compare
                },
            }
        per[s.rate].append(rec)
    out_rates = []
    for rate in rates:
        recs = per[rate]
        t_max = max(x["shard"].t_max for x in recs)
        row: dict[str, Any] = {
            "rate": rate,
            "n_configs": len(recs),
            "t_max": t_max,
            "n_particles_per_config": _mean_sd([x["kinds"]["lc"]["n"] for x in recs])[0],
        }
        for kind in KINDS:
            ks = [x["kinds"][kind] for x in recs]
            r_min = min(k["R"] for k in ks)
            rho, rho_sd = _mean_sd([k["reliability"] for k in ks])
            groups = np.concatenate([np.full(k["n"], i) for i, k in enumerate(ks)])
            ceil = split_half_ceiling(np.hstack([k["halves"][0] for k in ks]), np.hstack([k["halves"][1] for k in ks]), groups)
            n_pairs = sum(k["R"] * k["n"] for k in ks)
            curve = []
            grid = [rp for rp in replica_grid(r_min) if all(rp in replica_grid(k["R"]) for k in ks)]
            for rp in grid:
                m, sd = _mean_sd(np.concatenate([k["curve"][replica_grid(k["R"]).index(rp)] for k in ks]))
                curve.append(
                    {"n_replicas": rp, "reliability": m, "sd": sd, "replicas_needed": replicas_needed(m, rp, TARGETS[kind])}
                )
            tcurve = []
            for j, f in enumerate(fractions):
                cens = float(sum(k["n_censored"][j] for k in ks) / n_pairs)
                tcurve.append(
                    {
                        "fraction": f,
                        "t_max": f * t_max,
                        "t_max_over_tau_alpha": f * t_max / tau_alpha,
                        "censored_fraction": cens,
                        "reliability": _mean_sd([k["reliability_t"][j] for k in ks])[0],
                    }
                )
            t_fit = fractions[-2] * t_max if len(fractions) > 1 else 0.0
            t_need, how = censoring_horizon([x["shard"].first_jump[kind] for x in recs], t_max, t_fit)
            check = math.nan  # the same exponential tail, fitted one horizon earlier, predicting the censored fraction at t_max
            if len(tcurve) >= 3 and min(c["censored_fraction"] for c in tcurve[-3:-1]) > 0:
                (f3, s3), (f2, s2) = [(c["fraction"], c["censored_fraction"]) for c in tcurve[-3:-1]]
                check = s2 * (s2 / s3) ** ((fractions[-1] - f2) / (f2 - f3))
            by_est = {estimator: {"reliability": rho, "ceiling": _mean_sd(list(ceil.values()))[0]}}
            for e in compare:
                ce = split_half_ceiling(
                    np.hstack([k["compare"][e][1][0] for k in ks]), np.hstack([k["compare"][e][1][1] for k in ks]), groups
                )
                by_est[e] = {
                    "reliability": _mean_sd([k["compare"][e][0] for k in ks])[0],
                    "ceiling": _mean_sd(list(ce.values()))[0],
                }
            row[kind] = {
                "label": _NAMES[kind],
                "n_replicas": r_min,
                "reliability": rho,
                "reliability_sd_configs": rho_sd,
                "by_estimator": by_est,
                "reliability_configs": [k["reliability"] for k in ks],
                "ceiling": _mean_sd(list(ceil.values()))[0],
                "censored_fraction": float(sum(np.isnan(x["shard"].first_jump[kind]).sum() for x in recs) / n_pairs),
                "target": TARGETS[kind],
                "replicas_needed": replicas_needed(rho, r_min, TARGETS[kind]),
                "stored_reliability_all_species": _mean_sd([x["shard"].stored_reliability[kind] for x in recs])[0],
                "replica_curve": curve,
                "t_max_curve": tcurve,
                "censored_target": CENSORED_TARGET,
                "t_max_needed": t_need,
                "t_max_needed_method": how,
                "t_max_needed_over_tau_alpha": t_need / tau_alpha,
                "tail_check_censored_at_t_max": check,
            }
        out_rates.append(row)
    log.info(
        "%s: %d shards at %d rates, estimator %s, %.1f s", root, len(shards), len(rates), estimator, time.perf_counter() - t0
    )
    return {
        "dataset": str(root),
        "species": "all" if species is None else int(species),
        "estimator": estimator,
        "compare": list(compare),
        "split": split or "all",
        "n_splits": n_splits,
        "n_subsets": n_subsets,
        "seed": seed,
        "tau_alpha": tau_alpha,
        "tau_alpha_source": "manifest reference (equilibrium, species 0)",
        "rates": out_rates,
        "elapsed_s": time.perf_counter() - t0,
    }


def quality_tables(res: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """One table per quantity, shear rates as rows (titles as keys)."""
    rows = res["rates"]
    who = "all species" if res["species"] == "all" else f"species {res['species']}"
    ta = res["tau_alpha"]
    out: dict[str, pd.DataFrame] = {}
    est, cmp = res.get("estimator", "km"), list(res.get("compare", []))
    where = "" if res.get("split", "all") == "all" else f", {res['split']} configurations"
    out[f"Reliability, noise ceiling and censoring ({who}{where}; dataset R, t_max; estimator {est})"] = pd.DataFrame(
        [
            {
                "rate": r["rate"],
                "configs": r["n_configs"],
                "R": r["lc"]["n_replicas"],
                "t_max": r["t_max"],
                "ρ ln τ_LC": r["lc"]["reliability"],
                "ceiling LC": r["lc"]["ceiling"],
                "censored LC": r["lc"]["censored_fraction"],
                "ρ ln τ_sh": r["sh"]["reliability"],
                "ceiling sh": r["sh"]["ceiling"],
                "censored sh": r["sh"]["censored_fraction"],
                **{f"ρ LC ({e})": r["lc"]["by_estimator"][e]["reliability"] for e in cmp},
                **{f"ρ sh ({e})": r["sh"]["by_estimator"][e]["reliability"] for e in cmp},
                "manifest ρ_LC (all species)": r["lc"]["stored_reliability_all_species"],
            }
            for r in rows
        ]
    )
    for kind in KINDS:
        tgt = TARGETS[kind]
        out[f"Reliability of {_NAMES[kind]} vs replicas R' ({who}); Spearman-Brown R for ρ = {tgt:g}"] = pd.DataFrame(
            [
                {
                    "rate": r["rate"],
                    **{f"R'={c['n_replicas']}": c["reliability"] for c in r[kind]["replica_curve"]},
                    f"R for {tgt:g}": r[kind]["replicas_needed"],
                }
                for r in rows
            ]
        )
    for kind in KINDS:
        out[f"Censored fraction ({_NAMES[kind]} runs) vs t_max' [t_max'/τ_α, τ_α = {ta:.3g}] ({who})"] = pd.DataFrame(
            [
                {
                    "rate": r["rate"],
                    **{
                        f"{c['t_max']:.3g} [{c['t_max_over_tau_alpha']:.2g}]": c["censored_fraction"]
                        for c in r[kind]["t_max_curve"]
                    },
                    f"t_max for {CENSORED_TARGET:.0%}": r[kind]["t_max_needed"],
                    "[τ_α]": r[kind]["t_max_needed_over_tau_alpha"],
                    "how": r[kind]["t_max_needed_method"],
                    "tail check at t_max": r[kind]["tail_check_censored_at_t_max"],
                }
                for r in rows
            ]
        )
    for kind in KINDS:
        out[f"Reliability of {_NAMES[kind]} vs t_max' [t_max'/τ_α] ({who})"] = pd.DataFrame(
            [
                {
                    "rate": r["rate"],
                    **{f"{c['t_max']:.3g} [{c['t_max_over_tau_alpha']:.2g}]": c["reliability"] for c in r[kind]["t_max_curve"]},
                }
                for r in rows
            ]
        )
    return out


def plot_label_quality(res: dict[str, Any], path: Path) -> Path:
    """Reliability vs R' (points) with the Spearman-Brown curve and goal line per label; censored fraction vs t_max'/τ_α."""
    from taulc.analysis.plotting import RatePalette, plain_log_ticks, plt, rate_label  # noqa: PLC0415 - lazy: matplotlib, only for the figures

    rows = res["rates"]
    pal = RatePalette([r["rate"] for r in rows])
    fig, axes = plt.subplots(1, 3, figsize=(12.5, 3.8))
    for ax, kind in zip(axes[:2], KINDS):
        tgt = TARGETS[kind]
        r_hi = max(
            [r[kind]["n_replicas"] for r in rows]
            + [min(r[kind]["replicas_needed"], 256) for r in rows if math.isfinite(r[kind]["replicas_needed"])]
        )
        grid = np.geomspace(2, 1.3 * r_hi, 100)
        for r in rows:
            c = r[kind]["replica_curve"]
            x = [p["n_replicas"] for p in c]
            ax.errorbar(
                x,
                [p["reliability"] for p in c],
                yerr=[p["sd"] for p in c],
                fmt="o",
                ms=3.5,
                capsize=2,
                color=pal(r["rate"]),
                label=rate_label(r["rate"]),
            )
            rho, rr = r[kind]["reliability"], r[kind]["n_replicas"]
            if math.isfinite(rho) and rho > 0:
                ax.plot(grid, spearman_brown(rho, grid / rr), color=pal(r["rate"]), lw=1.0, alpha=0.8)
        ax.axhline(tgt, color="0.4", ls="--", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlim(1.8, grid[-1])
        ax.set_ylim(0, 1)
        plain_log_ticks(ax, "x")
        ax.set_xlabel("replicas R'")
        ax.set_ylabel(f"split-half reliability of {_NAMES[kind]}")
        ax.set_title(f"{_NAMES[kind]} (goal {tgt:g}, dashed)")
    ax = axes[2]
    for r in rows:
        for kind, ls in (("lc", "-"), ("sh", ":")):
            c = r[kind]["t_max_curve"]
            ax.plot(
                [p["t_max_over_tau_alpha"] for p in c],
                [p["censored_fraction"] for p in c],
                ls,
                marker="o",
                ms=3,
                color=pal(r["rate"]),
                label=rate_label(r["rate"]) if kind == "lc" else None,
            )
    ax.axhline(CENSORED_TARGET, color="0.4", ls="--", lw=0.8)
    ax.set_xlabel("t_max' / τ_α")
    ax.set_ylabel("censored (replica, particle) pairs")
    ax.set_title(f"censored: solid τ_LC runs, dotted τ_sh (goal {CENSORED_TARGET:.0%})")
    axes[0].legend(loc="lower right")
    who = "all species" if res["species"] == "all" else f"species {res['species']}"
    fig.suptitle(
        f"label quality of {Path(res['dataset']).name} ({who}, {res.get('split', 'all')} configurations, "
        f"estimator {res.get('estimator', 'km')}): points measured on replica subsets "
        "(bars: s.d. over configurations and subsets), lines Spearman-Brown from all R",
        y=1.0,
    )
    fig.tight_layout()
    atomic_write_with(path, lambda tmp: fig.savefig(tmp, format="png", dpi=90, bbox_inches="tight"))
    plt.close(fig)
    return Path(path)


def main(argv: list[str] | None = None) -> None:
    """``python -m taulc.analysis.label_quality DATASET [--species 0|all] [--out DIR] [--splits 20]``."""
    from taulc.analysis.writer import markdown_table  # noqa: PLC0415 - lazy: matplotlib, only for the figures

    p = argparse.ArgumentParser(prog="taulc-label-quality", description=__doc__.split("\n")[0])
    p.add_argument("root", type=Path, help="dataset directory (with manifest.json)")
    p.add_argument("--species", default="0", help="reference species (0 = big, default) or 'all'")
    p.add_argument("--out", type=Path, default=Path("."), help="directory for label_quality.json/.png (default: .)")
    p.add_argument("--splits", type=int, default=20, help="random replica halvings per reliability (default 20)")
    p.add_argument("--subsets", type=int, default=8, help="random replica subsets per R' (default 8)")
    p.add_argument(
        "--fractions",
        type=float,
        nargs="+",
        default=list(TMAX_FRACTIONS),
        help="truncation horizons as fractions of t_max (default 0.25 0.5 0.75 1)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the replica subsets")
    p.add_argument(
        "--estimator",
        default="logmean",
        help="ICE estimator of the tables: logmean (the learning targets, default) | km (the paper's mean) | ...",
    )
    p.add_argument("--compare", nargs="*", default=["km"], help="estimators reported beside it (default: km)")
    p.add_argument(
        "--split",
        default=None,
        choices=["train", "val", "test"],
        help="only the configurations of this role (datasets with fixed splits, e.g. --split test)",
    )

    add_version_flag(p, "taulc-label-quality")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    install_tqdm_logging()  # log lines above the progress bars
    if args.species != "all" and not args.species.isdigit():
        p.error(f"--species must be a non-negative integer or 'all', got {args.species!r}")
    if not all(0 < f <= 1 for f in args.fractions):
        p.error(f"--fractions must lie in (0, 1], got {args.fractions}")
    if args.splits < 1 or args.subsets < 1:
        p.error(f"--splits and --subsets must be >= 1, got {args.splits}, {args.subsets}")
    species = None if args.species == "all" else int(args.species)
    with exit_on_error("taulc-label-quality"):
        res = label_quality(
            args.root,
            species,
            n_splits=args.splits,
            n_subsets=args.subsets,
            fractions=args.fractions,
            seed=args.seed,
            estimator=args.estimator,
            compare=tuple(args.compare),
            split=args.split,
        )
        for title, df in quality_tables(res).items():
            print(f"\n{title}\n\n{markdown_table(df)}")
        atomic_write_json(args.out / "label_quality.json", res)
        plot_label_quality(res, args.out / "label_quality.png")
    print(
        f"\n{res['dataset']}: {res['elapsed_s']:.1f} s; wrote {args.out / 'label_quality.json'} and "
        f"{args.out / 'label_quality.png'}"
    )


if __name__ == "__main__":
    main()
