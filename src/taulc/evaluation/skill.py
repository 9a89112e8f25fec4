"""Honest skill: scores that separate structure from species and shear-rate means.

Pooled-over-rates and all-species correlations of ``ln tau`` are inflated by
things that need no structure: each shear rate has its own mean ``ln tau``,
and big and small particles differ on average.  A predictor that knows only a
particle's species and its configuration's rate already scores a sizeable
"pooled" Pearson.  The core paper (Yu, Zeng & Wang 2025, Fig. 16) and the
GlassBench benchmark for 3-D Kob-Andersen (Jung et al. 2023, "Roadmap on
machine learning glassy dynamics") therefore score one species of reference
particles (the big ones) within one state point.  This module does that for
every run, on the test split:

* **Scores** -- Pearson and Spearman of the prediction with the target for the
  reference species, within each shear rate (``scope = rate``; their mean is
  the headline ``within_rate_mean``) and within each configuration
  (``config``, ``config_mean``); pooled-over-rates numbers are kept under
  scopes that say so (``pooled_rates`` for the reference species,
  ``pooled_all_species`` for every particle).
* **Noise ceiling** -- √(Spearman-Brown corrected split-half reliability of
  the labels), computed from the per-replica first-jump times on exactly the
  particles and grouping of each score (:func:`label_halves`,
  :func:`taulc.models.metrics.split_half_ceiling`).
* **Baselines** fitted on the training split only (:class:`Baselines`):
  ``rate`` (mean target per shear rate), ``species_rate`` (mean per species and
  rate) and ``structural`` (a linear fit, per species and rate, of the target
  on one physically simple scalar: the local caging-potential depth βΦ_i of
  Sharma, Nandi & Bhattacharyya, Eqs. 5-8).  A constant prediction carries no
  ranking information, so its correlation within a group is taken as 0.
* ``skill = pearson - best_baseline`` and ``fraction_of_ceiling = pearson /
  ceiling``.

Column names (:data:`SCORE_FIELDS`, :data:`CLASS_FIELDS`) are the ones used in
a run's metrics, the terminal summary, the runs' results table (:mod:`taulc.runs`),
the model card and the evaluation report (docs/honest-skill.md).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from omegaconf import OmegaConf

from taulc.config import from_mapping
from taulc.data.derived import shard_features
from taulc.data.storage import load_npz
from taulc.dynamics.estimators import ESTIMATORS, ice_estimate, split_halves
from taulc.errors import ConfigError
from taulc.models.metrics import CLASSIFICATION_SCORES, SKILL_FIELDS, classification_metrics, grouped_pearson, split_half_ceiling
from taulc.models.metrics import _key as _k
from taulc.paths import conf_dir
from taulc.runs.files import METRICS

log = logging.getLogger(__name__)

__all__ = [
    "SCORE_FIELDS",
    "CLASS_FIELDS",
    "BASELINES",
    "TargetSpec",
    "target_spec",
    "reference_mask",
    "Baselines",
    "label_halves",
    "structural_scalar",
    "score_table",
    "classification_table",
    "headline",
    "honest_scores",
    "table_lines",
]

BASELINES = ("rate", "species_rate", "structural")
"""Baseline names: rate mean, species x rate mean, linear fit on the structural scalar per species x rate."""

SCORE_FIELDS = ("scope", "group", "n", "pearson", "spearman", "ceiling", *SKILL_FIELDS)
"""Columns of a score table (one row per scope x group)."""

CLASS_FIELDS = ("scope", "group", "n", "p_true", "p_pred", *CLASSIFICATION_SCORES)
"""Columns of the slow/fast classification table."""

SCOPES = {
    "rate": "reference species, within one shear rate",
    "within_rate_mean": "mean over shear rates of the within-rate values (headline)",
    "config": "reference species, within one configuration",
    "config_mean": "mean over configurations of the per-configuration values",
    "pooled_rates": "reference species, pooled over shear rates (inflated by rate means)",
    "pooled_all_species": "all species pooled over shear rates (inflated by rate and species means)",
}

_FIRST_JUMP = {"ln_tau_lc": "first_jump_lc", "ln_tau_sh": "first_jump_sh"}


@dataclass(frozen=True)
class TargetSpec:
    """The ``target`` config group: what is regressed and which particles are scored."""

    name: str = "ln_tau_lc"  # ln_tau_lc | ln_tau_sh | mobility
    reference_species: int | None = 0  # None = all species
    structural_baseline: str | None = "caging"
    ceiling_splits: int = 10
    estimator: str | None = "logmean"  # ICE estimator of ln τ (taulc.dynamics.estimators); None = the shards' stored times
    horizon: float | None = None  # its horizon t' (LJ time); None = the shortest t_max of the dataset

    def __post_init__(self) -> None:
        if self.estimator is not None and self.estimator not in ESTIMATORS:
            raise ValueError(f"target.estimator must be one of {ESTIMATORS} or null, got {self.estimator!r}")
        if self.horizon is not None and not self.horizon > 0:
            raise ValueError(f"target.horizon must be > 0 (LJ time) or null, got {self.horizon!r}")
        if self.name not in TARGET_NAMES:
            raise ValueError(f"target.name must be ln_tau_lc, ln_tau_sh or mobility, got {self.name!r}")
        if self.reference_species not in (0, 1, None):
            raise ValueError(f"target.reference_species must be 0 (big), 1 (small) or all, got {self.reference_species!r}")

    @property
    def reference_label(self) -> str:
        return (
            "all species"
            if self.reference_species is None
            else f"species {self.reference_species} ({'big' if self.reference_species == 0 else 'small'})"
        )


TARGET_NAMES = ("ln_tau_lc", "ln_tau_sh", "mobility")
_SPECIES_WORDS = {"all": None, "none": None, "null": None, "big": 0, "small": 1}


def target_spec(value: Any) -> TargetSpec:
    """Parse ``cfg.target``: a mapping (``src/taulc/conf/train.yaml``) or a bare target name (older runs).

    ``reference_species`` may be spelled 0 | 1 | big | small | all; ``structural_baseline: false`` means none.
    Unknown keys are refused naming the field (:func:`taulc.config.from_mapping`)."""

    if value is None:
        return TargetSpec()
    if isinstance(value, TargetSpec):
        return value
    if isinstance(value, str):
        value = {"name": value}
    if isinstance(value, Mapping) and "estimator" not in value:
        # a run config from before the estimator key: its targets were the shards' stored times
        value = {**value, "estimator": None}
    if not isinstance(value, Mapping):
        raise ConfigError(f"target: expected a mapping with name/reference_species or a target name, got {value!r}")
    data = dict(value)
    ref = data.get("reference_species")
    if isinstance(ref, str) and ref.lower() in _SPECIES_WORDS:
        data["reference_species"] = _SPECIES_WORDS[ref.lower()]
    elif isinstance(ref, str) and not ref.strip().isdigit():
        raise ConfigError(f"field 'target': target.reference_species must be 0 (big), 1 (small) or all, got {ref!r}")
    if data.get("structural_baseline") is False:
        data["structural_baseline"] = None
    return from_mapping(TargetSpec, data, "target")


def reference_mask(species: np.ndarray, ref: int | None) -> np.ndarray:
    return np.ones(len(species), dtype=bool) if ref is None else np.asarray(species) == ref


# --------------------------------------------------------------------------- baselines


def _log_rate(rate: np.ndarray) -> np.ndarray:
    r = np.asarray(rate, dtype=np.float64)
    pos = r[r > 0]
    floor = (pos.min() / 10.0) if pos.size else 1e-6
    return np.log10(np.maximum(r, floor))


class Baselines:
    """Trivial and one-scalar predictors of the target, fitted on training particles only.

    ``rate``: mean target of the rate; ``species_rate``: mean of the species at
    the rate; ``structural``: ``a + b x`` fitted by least squares per species
    and rate on the scalar ``x``.  A test rate absent from training (split=rate)
    uses the nearest training rate in log γ̇ (γ̇ = 0 placed a decade below the
    smallest positive rate); a species absent at a rate falls back to the rate mean.
    """

    def __init__(self, y: np.ndarray, species: np.ndarray, rate: np.ndarray, scalar: np.ndarray | None = None) -> None:
        y = np.asarray(y, dtype=np.float64)
        ok = np.isfinite(y) & (True if scalar is None else np.isfinite(np.asarray(scalar, dtype=np.float64)))
        if not ok.any():
            raise ValueError("baselines: no finite training target")
        y, sp, rate = y[ok], np.asarray(species)[ok], np.asarray(rate, dtype=np.float64)[ok]
        x = None if scalar is None else np.asarray(scalar, dtype=np.float64)[ok]
        self.rates = np.unique(rate)
        k = len(self.rates)
        ri = np.searchsorted(self.rates, rate)
        self.rate_mean = np.bincount(ri, y, k) / np.bincount(ri, minlength=k)
        self.mean = np.full((2, k), np.nan)  # [species, rate] mean target
        self.coef = np.zeros((2, k, 2))  # [species, rate, (a, b)] of y = a + b x
        for s in (0, 1):
            m = sp == s
            ns = np.bincount(ri[m], minlength=k).astype(np.float64)
            with np.errstate(invalid="ignore", divide="ignore"):
                my = np.bincount(ri[m], y[m], k) / ns
                b, xm = np.zeros(k), np.zeros(k)
                if x is not None:
                    xm = np.bincount(ri[m], x[m], k) / ns
                    dx = x[m] - xm[ri[m]]
                    sxx = np.bincount(ri[m], dx * dx, k)
                    b = np.where(sxx > 0, np.bincount(ri[m], dx * (y[m] - my[ri[m]]), k) / sxx, 0.0)
            self.mean[s] = my
            self.coef[s, :, 0] = my - b * np.nan_to_num(xm)
            self.coef[s, :, 1] = b
        self.has_scalar = x is not None

    def _rate_index(self, rate: np.ndarray) -> np.ndarray:
        lr = _log_rate(np.concatenate([self.rates, np.asarray(rate, dtype=np.float64).reshape(-1)]))
        lt, lq = lr[: len(self.rates)], lr[len(self.rates) :]
        return np.abs(lq[:, None] - lt[None, :]).argmin(axis=1)

    def predict(self, species: np.ndarray, rate: np.ndarray, scalar: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """``{name: prediction}`` for every baseline (``structural`` only when fitted with a scalar)."""
        ri = self._rate_index(rate)
        sp = np.clip(np.asarray(species, dtype=np.int64), 0, 1)
        out = {"rate": self.rate_mean[ri]}
        mean = self.mean[sp, ri]
        have = np.isfinite(mean)
        out["species_rate"] = np.where(have, mean, out["rate"])
        if self.has_scalar and scalar is not None:
            fit = self.coef[sp, ri, 0] + self.coef[sp, ri, 1] * np.asarray(scalar, dtype=np.float64)
            out["structural"] = np.where(have & np.isfinite(fit), fit, out["species_rate"])
        return out


# --------------------------------------------------------------------------- inputs from a dataset


def label_halves(
    table: Any, rows: np.ndarray, target: str, n_splits: int = 10, seed: int = 0
) -> tuple[np.ndarray, np.ndarray] | None:
    """Split-half labels ``(a, b)``, each ``(n_splits, len(rows))``, of the table rows ``rows``.

    Re-estimates ``ln tau`` from two disjoint halves of each particle's stored
    per-replica first-jump times (shard fields ``first_jump_lc`` /
    ``first_jump_sh``) with the table's target estimator at its horizon
    (``table.estimator``/``table.horizon``; a table of stored times uses the
    dataset's label estimator up to each shard's ``t_max``).  ``None`` when the
    target has no per-replica data (``mobility``) or a shard has fewer than 2 replicas.
    """

    key = _FIRST_JUMP.get(target)
    if key is None:
        return None
    rows = np.asarray(rows, dtype=np.int64)
    estimator = getattr(table, "estimator", None) or str(
        ((table.manifest.get("config") or {}).get("labels") or {}).get("estimator", "km")
    )
    horizon = getattr(table, "horizon", None) if getattr(table, "estimator", None) else None
    offsets = np.asarray(table.shard_offsets)
    shard = np.searchsorted(offsets, rows, side="right") - 1
    a = np.full((n_splits, rows.size), np.nan)
    b = np.full((n_splits, rows.size), np.nan)
    for g in np.unique(shard):  # one pass per shard; vectorised over its particles
        entry = table.manifest["shards"][int(g)]
        z = load_npz(table.root / entry["file"], (key, "t_max"))
        fj = np.asarray(z[key], dtype=np.float64)
        if fj.ndim != 2 or fj.shape[0] < 2:
            log.warning("%s: %s has %s replicas; no noise ceiling", entry["file"], key, fj.shape[:1])
            return None
        t_max = float(z["t_max"]) if horizon is None else float(horizon)
        sel = np.flatnonzero(shard == g)
        local = rows[sel] - offsets[g]

        def stat(x: np.ndarray, t_max: float = t_max) -> np.ndarray:
            return ice_estimate(x, t_max, estimator)[0]

        ha, hb = split_halves(fj[:, local], stat, n_splits=n_splits, seed=seed + int(g))
        a[:, sel], b[:, sel] = ha, hb
    return a, b


def structural_scalar(table: Any, system: Mapping[str, Any] | None, name: str | None = "caging") -> tuple[np.ndarray | None, str]:
    """One structural scalar per table row and its description (``None`` if ``name`` is null).

    ``caging``: the local caging-potential depth βΦ_i (Sharma, Nandi &
    Bhattacharyya, Eqs. 5-8; :mod:`taulc.structure.caging`), computed with
    ``src/taulc/conf/descriptor/caging.yaml`` resolved against the run's ``system`` and
    cached beside the dataset like any descriptor (:mod:`taulc.data.derived`).
    """
    if not name:
        return None, "none"
    if name != "caging":
        raise ValueError(f"target.structural_baseline must be caging or null, got {name!r}")

    node = OmegaConf.create(
        {"system": dict(system or {}), "descriptor": OmegaConf.load(conf_dir() / "descriptor" / "caging.yaml")}
    )
    dcfg = OmegaConf.to_container(node.descriptor, resolve=True)
    feats, _names, fields = shard_features(table.root, table.manifest, dcfg, progress=False)
    col = [j for j, f in enumerate(fields) if f.get("generation") == 0 and f.get("species") is None]
    if len(col) != 1:
        raise ValueError(f"caging descriptor: expected one total-depth column, got fields {fields}")
    x = np.concatenate([np.asarray(f[:, col[0]], dtype=np.float64) for f in feats])
    if len(x) != len(table.species):
        raise ValueError(f"caging depth has {len(x)} rows, the dataset {len(table.species)}")
    return x, "caging depth βΦ_i (Sharma, Nandi & Bhattacharyya, Eq. 5), linear fit per species and rate"


# --------------------------------------------------------------------------- tables


def _group_str(u: Any) -> str:
    return f"{float(u):g}" if isinstance(u, (float, np.floating)) else str(u)


def _finish_row(row: dict[str, Any], names: Sequence[str]) -> dict[str, Any]:
    vals = {b: row.get(f"baseline_{b}", float("nan")) for b in names}
    fin = {b: v for b, v in vals.items() if math.isfinite(v)}
    best = max(fin, key=fin.get) if fin else None
    row["best_baseline"] = fin[best] if best else float("nan")
    row["best_baseline_name"] = best or ""
    p, c = row["pearson"], row["ceiling"]
    row["skill"] = p - row["best_baseline"] if best and math.isfinite(p) else float("nan")
    row["fraction_of_ceiling"] = p / c if math.isfinite(p) and math.isfinite(c) and c > 0 else float("nan")
    for b in BASELINES:
        row.setdefault(f"baseline_{b}", float("nan"))
    return {k: row[k] for k in SCORE_FIELDS}


def _scope_rows(
    scope: str,
    y: np.ndarray,
    pred: np.ndarray,
    groups: np.ndarray,
    base: Mapping[str, np.ndarray],
    halves: tuple[np.ndarray, np.ndarray] | None,
    names: Mapping[Any, str] | None = None,
) -> list[dict[str, Any]]:
    uniq, inv = np.unique(groups, return_inverse=True)
    k = len(uniq)
    n = np.bincount(inv, minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        ym = np.bincount(inv, y, k) / n
        yvar = np.bincount(inv, (y - ym[inv]) ** 2, k)
    usable = (n >= 3) & (yvar > 0)

    def keyed(d: Mapping[Any, float]) -> list[float]:
        return [d.get(_k(u), float("nan")) for u in uniq]

    sr = keyed(grouped_pearson(y, pred, groups, rank=True))
    ce = keyed(split_half_ceiling(halves[0], halves[1], groups)) if halves is not None else [float("nan")] * k

    def corr(v: np.ndarray) -> np.ndarray:
        # a prediction constant within a group carries no ranking information: correlation 0, not NaN
        with np.errstate(invalid="ignore", divide="ignore"):
            vm = np.bincount(inv, v, k) / n
            vvar = np.bincount(inv, (v - vm[inv]) ** 2, k) / n
        const = vvar <= (1e-9 * (1.0 + np.abs(vm))) ** 2
        r = np.asarray(keyed(grouped_pearson(y, v, groups)))
        return np.where(const & usable, 0.0, r)

    pr = corr(pred)
    bs = {b: corr(v) for b, v in base.items()}
    rows = []
    for j, u in enumerate(uniq):
        row = {
            "scope": scope,
            "group": (names or {}).get(_k(u), _group_str(u)),
            "n": int(n[j]),
            "pearson": float(pr[j]),
            "spearman": sr[j],
            "ceiling": ce[j],
            **{f"baseline_{b}": float(v[j]) for b, v in bs.items()},
        }
        rows.append(_finish_row(row, list(base)))
    return rows


def _mean_row(scope: str, rows: Sequence[Mapping[str, Any]], names: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"scope": scope, "group": "mean", "n": int(sum(r["n"] for r in rows))}
    for col in ("pearson", "spearman", "ceiling", *(f"baseline_{b}" for b in names)):
        v = np.array([r[col] for r in rows], dtype=np.float64)
        v = v[np.isfinite(v)]
        out[col] = float(v.mean()) if v.size else float("nan")
    return _finish_row(out, names)


def score_table(
    y: np.ndarray,
    pred: np.ndarray,
    species: np.ndarray,
    rate: np.ndarray,
    config_id: np.ndarray,
    baselines: Mapping[str, np.ndarray],
    halves: tuple[np.ndarray, np.ndarray] | None,
    reference_species: int | None,
    config_names: Mapping[int, str] | None = None,
) -> list[dict[str, Any]]:
    """Score rows (:data:`SCORE_FIELDS`) of one prediction on the test particles.

    All arrays are aligned per test particle; ``baselines`` maps a baseline name
    to its prediction, ``halves`` are the split-half labels of the same
    particles (:func:`label_halves`).  Particles with a non-finite target or
    prediction are dropped.  Scopes: ``rate``, ``within_rate_mean``,
    ``config``, ``config_mean``, ``pooled_rates``, ``pooled_all_species``.
    """
    y, pred = np.asarray(y, dtype=np.float64), np.asarray(pred, dtype=np.float64)
    ok = np.isfinite(y) & np.isfinite(pred)
    ref = reference_mask(species, reference_species) & ok
    names = list(baselines)

    def sub(m: np.ndarray, groups: np.ndarray, scope: str, cn: Mapping[Any, str] | None = None) -> list[dict[str, Any]]:
        hv = (halves[0][:, m], halves[1][:, m]) if halves is not None else None
        return _scope_rows(
            scope, y[m], pred[m], groups[m], {b: np.asarray(v, np.float64)[m] for b, v in baselines.items()}, hv, cn
        )

    rate = np.asarray(rate, dtype=np.float64)
    cid = np.asarray(config_id, dtype=np.int64)
    per_rate = sub(ref, rate, "rate")
    per_cfg = sub(ref, cid, "config", config_names)
    return [
        *per_rate,
        _mean_row("within_rate_mean", per_rate, names),
        *per_cfg,
        _mean_row("config_mean", per_cfg, names),
        *sub(ref, np.zeros(len(y), dtype=np.int64), "pooled_rates", {0: "reference"}),
        *sub(ok, np.zeros(len(y), dtype=np.int64), "pooled_all_species", {0: "all"}),
    ]


def classification_table(
    cls: np.ndarray, score: np.ndarray, species: np.ndarray, rate: np.ndarray, reference_species: int | None
) -> list[dict[str, Any]]:
    """Slow/fast rows (:data:`CLASS_FIELDS`): per rate and their mean for the reference species, then pooled."""
    cls, score, rate = np.asarray(cls), np.asarray(score, dtype=np.float64), np.asarray(rate, dtype=np.float64)
    ref = reference_mask(species, reference_species)

    def row(m: np.ndarray, scope: str, group: str) -> dict[str, Any]:
        cm = classification_metrics(cls[m], score[m])
        return {"scope": scope, "group": group, **{k: cm.get(k, float("nan")) for k in CLASS_FIELDS[2:]}}

    per = [row(ref & (rate == r), "rate", _group_str(r)) for r in np.unique(rate[ref])]
    mean = {"scope": "within_rate_mean", "group": "mean", "n": int(sum(r["n"] for r in per))}
    for k in CLASS_FIELDS[3:]:
        v = np.array([r[k] for r in per], dtype=np.float64)
        mean[k] = float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")
    return [*per, mean, row(ref, "pooled_rates", "reference"), row(np.ones(len(cls), bool), "pooled_all_species", "all")]


def headline(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The ``within_rate_mean`` row (the number to quote), or an empty dict."""
    return next((dict(r) for r in rows if r["scope"] == "within_rate_mean"), {})


def honest_scores(
    table: Any,
    train_rows: np.ndarray,
    test_rows: np.ndarray,
    predictions: Mapping[str, np.ndarray],
    spec: TargetSpec,
    system: Mapping[str, Any] | None = None,
    seed: int = 0,
    prediction_names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Score tables of one run (the ``skill`` section of its metrics).

    ``table``: the :class:`~taulc.data.dataset.ParticleTable`; ``train_rows`` /
    ``test_rows``: its rows in the training / test split; ``predictions``:
    ``{"regression": ŷ}`` (of ``spec.name``) and/or ``{"hardness": H}`` (H or a
    logit, scored against ``ln tau_LC`` and against the slow/fast classes),
    aligned with ``test_rows``.
    """
    train_rows, test_rows = np.asarray(train_rows, np.int64), np.asarray(test_rows, np.int64)
    scalar, scalar_doc = structural_scalar(table, system, spec.structural_baseline)
    names = {int(i): sid for i, sid in enumerate(table.shard_ids)}
    out: dict[str, Any] = {
        "reference_species": "all" if spec.reference_species is None else spec.reference_species,
        "reference": spec.reference_label,
        "structural_baseline": scalar_doc,
        "scopes": SCOPES,
    }
    te = {
        k: np.asarray(v)[test_rows] for k, v in (("species", table.species), ("rate", table.rate), ("config_id", table.config_id))
    }
    cache: dict[str, tuple[Any, Any]] = {}

    def inputs(target: str) -> tuple[dict[str, np.ndarray], Any]:
        if target not in cache:
            y = table.target(target)
            sx = None if scalar is None else scalar[train_rows]
            base = Baselines(y[train_rows], table.species[train_rows], table.rate[train_rows], sx)
            bp = base.predict(te["species"], te["rate"], None if scalar is None else scalar[test_rows])
            halves = label_halves(table, test_rows, target, spec.ceiling_splits, seed)
            cache[target] = (bp, halves)
        return cache[target]

    for kind, target in (("regression", spec.name), ("hardness", "ln_tau_lc")):
        if kind not in predictions:
            continue
        bp, halves = inputs(target)
        y = table.target(target)[test_rows]
        rows = score_table(
            y, predictions[kind], te["species"], te["rate"], te["config_id"], bp, halves, spec.reference_species, names
        )
        out[kind] = {
            "prediction": (prediction_names or {}).get(kind, kind),
            "target": target,
            "headline": headline(rows),
            "rows": rows,
        }
    if "hardness" in predictions:
        rows = classification_table(
            table.slow[test_rows], predictions["hardness"], te["species"], te["rate"], spec.reference_species
        )
        out["classification"] = {
            "prediction": (prediction_names or {}).get("hardness", "hardness"),
            "headline": headline(rows),
            "rows": rows,
        }
    return out


# --------------------------------------------------------------------------- text


def _f(x: Any, w: int = 6, signed: bool = False) -> str:
    if isinstance(x, (float, np.floating)):
        return f"{x:+{w}.3f}" if signed and math.isfinite(x) else (f"{x:{w}.3f}" if math.isfinite(x) else f"{'–':>{w}}")
    return f"{x!s:>{w}}"


_SCOPE_LABEL = {
    "rate": "rate",
    "within_rate_mean": "WITHIN-RATE MEAN",
    "config": "config",
    "config_mean": "per-config mean",
    "pooled_rates": "POOLED over rates",
    "pooled_all_species": "POOLED all species",
}


def table_lines(skill: Mapping[str, Any], max_configs: int = 12) -> list[str]:
    """Fixed-width text of the score tables (terminal summary, model card)."""
    lines = [
        f"honest skill on the test split -- reference particles: {skill.get('reference', '?')}; "
        f"baselines fitted on the training split; structural = {skill.get('structural_baseline', '?')}"
    ]
    for kind in ("regression", "hardness"):
        t = skill.get(kind)
        if not t:
            continue
        lines.append(f"{kind}: Pearson/Spearman of {t['prediction']} with {t['target']}")
        lines.append(
            f"  {'scope':<18} {'group':>16} {'n':>6} {'pearson':>7} {'spearman':>8} {'ceiling':>7} | "
            f"{'b_rate':>6} {'b_sp×rate':>9} {'b_struct':>8} | {'skill':>6} {'frac':>6}"
        )
        n_cfg = 0
        for r in t["rows"]:
            if r["scope"] == "config":
                n_cfg += 1
                if n_cfg > max_configs:
                    continue
            lines.append(
                f"  {_SCOPE_LABEL[r['scope']]:<18} {str(r['group'])[:16]:>16} {r['n']:>6d} {_f(r['pearson'], 7)} "
                f"{_f(r['spearman'], 8)} {_f(r['ceiling'], 7)} | {_f(r['baseline_rate'])} "
                f"{_f(r['baseline_species_rate'], 9)} {_f(r['baseline_structural'], 8)} | "
                f"{_f(r['skill'], 6, True)} {_f(r['fraction_of_ceiling'])}"
            )
        if n_cfg > max_configs:
            lines.append(f"  ... {n_cfg - max_configs} more configurations in {METRICS}")
        h = t["headline"]
        if h:
            lines.append(
                f"  => within-rate {skill.get('reference', '')} Pearson {_f(h['pearson'], 0)} "
                f"(ceiling {_f(h['ceiling'], 0)}, fraction of ceiling {_f(h['fraction_of_ceiling'], 0)}); "
                f"best baseline {h['best_baseline_name']} {_f(h['best_baseline'], 0)}; skill {_f(h['skill'], 0, True)}"
            )
    c = skill.get("classification")
    if c:
        lines.append(f"slow/fast classification by {c['prediction']} > 0 (slow = positive class)")
        lines.append(
            f"  {'scope':<18} {'group':>10} {'n':>6} {'p_true':>6} {'p_pred':>6} {'acc':>6} {'bal_acc':>7} "
            f"{'roc_auc':>7} {'prec':>6} {'recall':>6} {'f1':>6} {'mcc':>6} {'avg_prec':>8}"
        )
        for r in c["rows"]:
            lines.append(
                f"  {_SCOPE_LABEL[r['scope']]:<18} {str(r['group'])[:10]:>10} {r['n']:>6d} {_f(r['p_true'])} "
                f"{_f(r['p_pred'])} {_f(r['accuracy'])} {_f(r['balanced_accuracy'], 7)} {_f(r['roc_auc'], 7)} "
                f"{_f(r['precision'])} {_f(r['recall'])} {_f(r['f1'])} {_f(r['mcc'], 6, True)} "
                f"{_f(r['average_precision'], 8)}"
            )
    return lines
