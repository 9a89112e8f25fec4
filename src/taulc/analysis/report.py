"""``python evaluate.py``: one report directory with every figure (PNG), every number (CSV) and report.md.

Sections (core paper numbering):

1. dynamics from the labels -- spectra (Figs. 2a-b, 6c), τ_sh(τ_LC) + Eq. 3 (Figs. 3a-b, 7),
   τ_LC,c vs 1/γ̇ (Fig. 3c-d), master curve Eq. 4 (Fig. 11), η(γ̇) and λ (Fig. 1);
2. hardness of the SVM run on *all* particles -- maps with Appendix A clusters (Fig. 19),
   H̄, p_H vs p_slow (Fig. 20);
3. regression parity of a ridge / GNN / MLP run (Fig. 17) with noise ceilings;
4. feature importance -- Fig. 16 (all l ≤ 6), greedy ranking (Table I, Fig. 18), GNN attribution;
5. convective clusters of cage jumps and ν_c = λ/(D+1) (Zeng, Yu & Wang 2025) when
   ``analysis.clusters.trajectories`` names steady-shear runs (``bench/cluster_runs.py``).

Runs are resolved by :func:`resolve_run`; the dataset and descriptor come from each run's own
``.hydra/config.yaml`` unless ``dataset=`` is given. What cannot be made (no SVM run, one shear
rate, ...) is listed in the report's "Skipped" section.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from taulc.analysis.plotting import RatePalette, save_figure
from taulc.data.inputs import dataset_graph_radius
from taulc.utils import to_plain as _plain

log = logging.getLogger("taulc.evaluate")

__all__ = ["RunInfo", "resolve_run", "load_run", "ReportWriter", "evaluate"]

_LABEL_FIELDS = ("positions", "species", "cell", "rate", "tau_lc", "tau_sh", "slow", "tau_2", "t_max",
                 "censored_lc", "censored_sh")


# --------------------------------------------------------------------------------------------- runs


@dataclass
class RunInfo:
    """A finished ``train.py`` run: its directory, resolved config, model class and metrics."""

    path: Path
    cfg: dict[str, Any]
    model_class: str
    metrics: dict[str, Any] = field(repr=False)

    @property
    def model(self) -> Any:
        """The registered model class of the recorded class name (:mod:`taulc.models.registry`), or None."""
        from taulc.models.registry import model_class_or_none  # noqa: PLC0415

        return model_class_or_none(self.model_class)

    @property
    def roles(self) -> tuple[str, ...]:
        """Report sections the run's model declares it can feed (``report_roles``)."""
        return tuple(getattr(self.model, "report_roles", ()))

    @property
    def short(self) -> str:
        return getattr(self.model, "short_name", "") or self.model_class

    @property
    def name(self) -> str:
        return f"{self.short} ({self.path})"


def _is_run(p: Path) -> bool:
    from taulc.runs import is_complete  # noqa: PLC0415

    return is_complete(p)


def resolve_run(spec: str | os.PathLike[str] | None, runs_root: str | os.PathLike[str] = "runs") -> Path | None:
    """A run directory from ``spec``: a path, ``latest`` (newest complete run of any model under ``runs_root``),
    a model name (newest complete run under ``runs_root/<model>``) or None / 'null' (no run).

    Only complete runs count (:mod:`taulc.runs`: the ``COMPLETE`` marker is written last), so a killed
    or still running training is skipped by ``latest`` and refused when named."""
    from taulc.runs import MARKER, RunError, latest_complete  # noqa: PLC0415

    if spec is None or str(spec).lower() in ("", "null", "none"):
        return None
    root = Path(runs_root)
    s = str(spec)
    if s == "latest":
        best = latest_complete(root)
        if best is None:
            raise RunError(f"run=latest: no complete run ({MARKER} marker, metrics.json, .hydra/config.yaml) "
                           f"under {root.resolve()}")
        return best.resolve()
    p = Path(s)
    if not p.exists() and (root / s).exists():
        p = root / s
    if p.is_dir() and not _is_run(p) and not (p / "metrics.json").exists():
        p = latest_complete(p) or p
    if not _is_run(p):
        raise RunError(f"run={s}: {p} is not a complete train.py run (expected {MARKER}, metrics.json and "
                       ".hydra/config.yaml; a run without the marker was killed or is still running)")
    return p.resolve()


def auto_runs(runs: Sequence[RunInfo], runs_root: Path) -> list[RunInfo]:
    """The latest run of every other model type under ``runs_root`` trained on the same dataset."""
    have = {r.model for r in runs}
    root0 = _dataset_of(runs[0].cfg)[0].resolve()
    hash0 = canonical_hash_of(runs[0].cfg)
    out: list[RunInfo] = []
    from taulc.models.registry import MODEL_CLASSES, discover_models  # noqa: PLC0415

    discover_models()
    for model in [cls.short_name for cls in MODEL_CLASSES.values()]:
        try:
            p = resolve_run(model, runs_root)
        except FileNotFoundError:
            continue
        if p is None or any(p == r.path for r in runs):
            continue
        r = load_run(p)
        if r.model in have or _dataset_of(r.cfg)[0].resolve() != root0 or canonical_hash_of(r.cfg) != hash0:
            continue
        log.info("runs=auto: adding %s", r.name)
        have.add(r.model)
        out.append(r)
    return out


def pick_run(runs: Sequence[RunInfo], role: str) -> RunInfo | None:
    """The run for one report section: its model declares ``role`` in ``report_roles`` (lowest
    ``report_priority`` first, then the order given); a ``regression`` run must have written ``y_pred``."""
    cands = sorted((r for r in runs if role in r.roles), key=lambda r: r.model.report_priority)
    if role == "regression":
        cands = [r for r in cands if "y_pred" in np.load(r.path / "test_predictions.npz").files]
    return cands[0] if cands else None


def canonical_hash_of(cfg: Mapping[str, Any]) -> str:
    from taulc.data.builder import dataset_config  # noqa: PLC0415
    from taulc.data.manifest import canonical_hash  # noqa: PLC0415

    return canonical_hash(dataset_config(cfg))


def load_run(path: Path) -> RunInfo:
    """Read a run's ``.hydra/config.yaml`` (resolved) and ``metrics.json``."""
    from omegaconf import OmegaConf  # noqa: PLC0415

    cfg_path = path / ".hydra" / "config.yaml"
    raw = OmegaConf.load(cfg_path)
    try:
        cfg = OmegaConf.to_container(raw, resolve=True)
    except Exception as exc:  # noqa: BLE001 - name the file
        raise ValueError(f"{cfg_path}: cannot resolve the run's config ({exc})") from exc
    metrics = json.loads((path / "metrics.json").read_text())
    cls = metrics.get("model") or str(cfg.get("model", {}).get("_target_", "?")).rsplit(".", 1)[-1]
    return RunInfo(path=path, cfg=cfg, model_class=cls, metrics=metrics)


# ------------------------------------------------------------------------------------------ writer
def _fmt(v: Any) -> str:
    if isinstance(v, (float, np.floating)):
        if not math.isfinite(v):
            return "–"
        return f"{v:.4g}"
    if v is None:
        return "–"
    return str(v)


def markdown_table(df: pd.DataFrame, max_rows: int = 40) -> str:
    """A GitHub-markdown table (no external dependency)."""
    d = df.head(max_rows)
    lines = ["| " + " | ".join(str(c) for c in d.columns) + " |", "|" + "---|" * len(d.columns)]
    for _, row in d.iterrows():
        lines.append("| " + " | ".join(_fmt(v) for v in row.to_list()) + " |")
    if len(df) > max_rows:
        lines.append(f"\n({len(df) - max_rows} more rows in the CSV)")
    return "\n".join(lines)


class ReportWriter:
    """Collects markdown, figures and CSV tables in a temporary directory and renames it into place."""

    def __init__(self, final_dir: Path) -> None:
        self.final = Path(final_dir)
        self.final.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.final.parent / f".{self.final.name}.tmp-{os.getpid()}"
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        (self.tmp / "figures").mkdir(parents=True)
        (self.tmp / "tables").mkdir()
        self.md: list[str] = []
        self.figures: list[str] = []
        self.tables: list[str] = []
        self.skipped: list[str] = []
        self.summary: dict[str, Any] = {}

    def h(self, text: str, level: int = 2) -> None:
        self.md += ["", "#" * level + " " + text, ""]

    def p(self, text: str) -> None:
        self.md += [text, ""]

    def figure(self, name: str, fig: Any, caption: str) -> None:
        save_figure(fig, self.tmp / "figures" / f"{name}.png")
        self.figures.append(f"figures/{name}.png")
        self.md += [f"![{name}](figures/{name}.png)", "", f"*{caption}*", ""]

    def table(self, name: str, df: pd.DataFrame, caption: str | None = None, show: bool = True,
              max_rows: int = 40) -> None:
        df.to_csv(self.tmp / "tables" / f"{name}.csv", index=False)
        self.tables.append(f"tables/{name}.csv")
        if caption:
            self.md += [f"**{caption}** ([`tables/{name}.csv`](tables/{name}.csv))", ""]
        if show:
            self.md += [markdown_table(df, max_rows), ""]

    def skip(self, what: str, why: str) -> None:
        log.warning("skipped %s: %s", what, why)
        self.skipped.append(f"{what}: {why}")

    def finish(self, title: str, header: Sequence[str]) -> Path:
        body = [f"# {title}", "", *header, ""]
        body += self.md
        body += ["", "## Skipped", ""] + ([f"- {s}" for s in self.skipped] or ["- nothing"]) + [""]
        body += ["## Files", "", f"- figures: {', '.join(f'`{f}`' for f in self.figures)}",
                 f"- tables: {', '.join(f'`{t}`' for t in self.tables)}", "- `summary.json`: the headline numbers", ""]
        (self.tmp / "report.md").write_text("\n".join(body))
        (self.tmp / "summary.json").write_text(json.dumps(_jsonable(self.summary), indent=2, sort_keys=True) + "\n")
        old = None
        if self.final.exists():
            old = self.final.parent / f".{self.final.name}.old-{os.getpid()}"
            os.replace(self.final, old)
        os.replace(self.tmp, self.final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.final

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


def _jsonable(o: Any) -> Any:
    if isinstance(o, dict):
        return {str(k): _jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_jsonable(v) for v in o]
    if isinstance(o, (np.floating, float)):
        return float(o) if math.isfinite(float(o)) else None
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, Path):
        return str(o)
    return o


# ------------------------------------------------------------------------------------------ data
@dataclass
class DatasetContext:
    """Labels and configurations of every shard of one dataset, loaded once."""

    root: Path
    manifest: dict[str, Any]
    dataset_cfg: dict[str, Any] | None
    shards: list[dict[str, np.ndarray]]
    _tables: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def shard_ids(self) -> list[str]:
        return [s["id"] for s in self.manifest["shards"]]

    @property
    def rates(self) -> np.ndarray:
        return np.array([float(s["rate"]) for s in self.manifest["shards"]])

    def concat(self, key: str) -> np.ndarray:
        return np.concatenate([np.broadcast_to(s[key], s["species"].shape) if np.ndim(s[key]) == 0 else s[key]
                               for s in self.shards])

    @property
    def config_id(self) -> np.ndarray:
        return np.concatenate([np.full(len(s["species"]), i) for i, s in enumerate(self.shards)])

    def table(self, descriptor: Mapping[str, Any] | None) -> Any:
        """``ParticleTable`` for a descriptor config (features cached on disk by the data layer)."""
        from taulc.data.dataset import load_dataset  # noqa: PLC0415
        from taulc.data.derived import descriptor_key  # noqa: PLC0415

        key = descriptor_key(descriptor)
        if key not in self._tables:
            self._tables[key] = load_dataset(self.root, self.dataset_cfg, descriptor, verify=False, progress=False)
        return self._tables[key]


def load_context(root: Path, dataset_cfg: Mapping[str, Any] | None) -> DatasetContext:
    from taulc.data.dataset import load_shard, verify_shards  # noqa: PLC0415
    from taulc.data.manifest import check_compatible, read_manifest  # noqa: PLC0415

    man = read_manifest(root)
    check_compatible(man, root, dataset_cfg)
    verify_shards(root, man)
    shards = []
    for entry in man["shards"]:
        z = load_shard(root, entry)
        shards.append({k: z[k] for k in _LABEL_FIELDS if k in z})
    return DatasetContext(root=root, manifest=man, dataset_cfg=dict(dataset_cfg) if dataset_cfg else None, shards=shards)


def _dataset_of(cfg: Mapping[str, Any]) -> tuple[Path, dict[str, Any]]:
    from taulc.data.builder import dataset_config  # noqa: PLC0415
    from taulc.paths import default_data_root  # noqa: PLC0415

    root = Path(cfg["data_root"]) if cfg.get("data_root") else default_data_root()
    return root / str(cfg["dataset"]["name"]), dataset_config(cfg)


def _split_codes(run: RunInfo, table: Any) -> tuple[np.ndarray, dict[int, str]]:
    """Per-particle split (0 train, 1 val, 2 test) of ``run`` on ``table`` and a per-configuration name."""
    from taulc.data.splits import SplitSpec, split_particles  # noqa: PLC0415

    sp = run.cfg.get("split", {})
    spec = SplitSpec(**{k: sp[k] for k in ("kind", "test_fraction", "val_fraction", "test_rates", "seed") if k in sp})
    codes = split_particles(spec, table.config_id, table.rate)
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


# -------------------------------------------------------------------------------------- sections
def section_dynamics(rep: ReportWriter, ctx: DatasetContext, pal: RatePalette, acfg: Mapping[str, Any]) -> None:
    from taulc.analysis.relaxation import (  # noqa: PLC0415
        plot_boundary,
        plot_flow_curve,
        plot_master_curve,
        plot_relation,
        plot_spectra,
        relation_fits,
    )

    rep.h("1. Dynamics from the labels (Sec. II)")
    tau_lc, tau_sh, rate = ctx.concat("tau_lc"), ctx.concat("tau_sh"), ctx.concat("rate").astype(float)
    tau_2 = float(np.nanmedian([float(s["tau_2"]) for s in ctx.shards if "tau_2" in s]))
    t_max = float(np.nanmedian([float(s["t_max"]) for s in ctx.shards if "t_max" in s])) if "t_max" in ctx.shards[0] else None
    cens = ctx.concat("censored_lc") if "censored_lc" in ctx.shards[0] else np.zeros_like(tau_lc)
    rep.p(f"τ_2 = {tau_2:.3g} (Eq. 2 threshold), t_max = {t_max if t_max else float('nan'):.3g} per replica. "
          f"ICE estimates are Kaplan-Meier restricted means, so τ ≤ t_max; {100 * float((cens >= 1).mean()):.1f} % "
          "of the particles were censored in every shear-off replica (their τ_LC is a lower bound).")
    fig, tab = plot_spectra(tau_lc, tau_sh, rate, pal, t_max=t_max, n_bins=int(acfg.get("spectra_bins", 30)))
    rep.figure("spectra", fig, "Normalised spectra of τ_LC and τ_sh per shear rate (Figs. 2a-b, 6c). Dotted: t_max.")
    rep.table("spectra", tab, show=False, caption="Histogram values")
    rc = acfg.get("relation", {})
    fits, ftab, notes = relation_fits(tau_lc, tau_sh, rate, tau_2, n_bins=int(rc.get("n_bins", 20)),
                                      min_count=int(rc.get("min_count", 5)))
    for n in notes:
        rep.skip("τ_sh(τ_LC)", n)
    if fits:
        rep.figure("tau_sh_vs_tau_lc", plot_relation(fits, pal, tau_2),
                   "Bin-averaged τ_sh(τ_LC) per γ̇ with Eq. 3 fits; red bars: boundary τ_LC,c (length τ_2), Figs. 3a-b/7.")
        rep.table("eq3_fits", ftab, caption="Eq. 3 fits and fast/slow boundaries")
        binned = pd.concat([pd.DataFrame({"rate": r, "tau_lc": f["rel"].tau_lc, "tau_sh": f["rel"].tau_sh,
                                          "sem": f["rel"].sem, "count": f["rel"].count}) for r, f in fits.items()])
        rep.table("tau_sh_binned", binned, show=False, caption="Binned τ_sh(τ_LC)")
        fig, lin = plot_boundary(ftab, pal)
        rep.figure("boundary_vs_inverse_rate", fig, "Fast/slow boundary τ_LC,c vs 1/γ̇ with a linear fit (Fig. 3c-d).")
        rep.summary["tau_lc_c_fit"] = lin
        if not np.isfinite(lin["slope"]):
            rep.skip("linear fit of τ_LC,c vs 1/γ̇ (Fig. 3c-d)", "needs at least 2 sheared rates with a boundary")
    else:
        rep.skip("τ_sh(τ_LC) figures (Figs. 3, 7)", "no sheared rate in the dataset")
    rates_tab = ctx.manifest.get("rates", {})
    rr = sorted(rates_tab.values(), key=lambda d: float(d.get("rate", 0)))
    r_arr = np.array([float(d.get("rate", np.nan)) for d in rr])
    eta = np.array([float(d.get("eta", np.nan)) if d.get("eta") is not None else np.nan for d in rr])
    sem = np.array([float(d.get("eta_sem", np.nan)) if d.get("eta_sem") is not None else np.nan for d in rr])
    rh = acfg.get("rheology", {})
    lam = None
    if np.isfinite(eta[r_arr > 0]).any():
        fig, res, tab = plot_flow_curve(r_arr, eta, sem, pal, float(rh.get("slope_threshold", 0.3)),
                                        rh.get("thinning_min_rate", "auto"))
        rep.figure("flow_curve", fig, "Viscosity η(γ̇) (Eq. 1) with the power law η ∝ γ̇^-λ over the shear-thinning "
                                      "regime (Fig. 1); error bars: standard error over configurations.")
        rep.table("flow_curve", tab, caption=f"η(γ̇); λ = {res['lambda']:.3g} ± {res['lambda_err']:.2g}"
                  if np.isfinite(res["lambda"]) else "η(γ̇) (no power-law fit)")
        rep.summary["lambda"] = res
        lam = res["lambda"]
        if not np.isfinite(res["lambda"]):
            rep.skip("power-law fit of η(γ̇) (Fig. 1)", "needs at least 2 sheared rates")
    else:
        rep.skip("flow curve (Fig. 1)", "the manifest has no viscosities")
    mc = plot_master_curve(fits, tau_lc, tau_sh, rate, pal, lam_eta=lam)
    if mc is None:
        rep.skip("master curve (Eq. 4, Fig. 11)", "needs Eq. 3 fits at 2 or more sheared rates")
    else:
        fig, par = mc
        rep.figure("master_curve", fig, "τ_0 vs 1/γ̇, τ_sh^∞ vs γ̇ and the rescaled collapse onto Eq. 4 (Fig. 11).")
        rep.table("master_curve", pd.DataFrame([par]), caption="Master-curve parameters (τ_0 = a/γ̇ + b, τ_sh^∞ = c γ̇^-λ_τ)")
        rep.summary["master_curve"] = par


def section_hardness(rep: ReportWriter, run: RunInfo, ctx: DatasetContext, pal: RatePalette,
                     acfg: Mapping[str, Any]) -> None:
    from taulc.analysis.hardness import compute_hardness, hardness_tables, plot_hardness_maps, plot_ph_pslow  # noqa: PLC0415
    from taulc.models.io import load_model  # noqa: PLC0415

    rep.h("2. Hardness H of the SVM (Sec. IV.B)")
    model = load_model(run.path / "model.pt")
    table = ctx.table(run.cfg.get("descriptor"))
    h = compute_hardness(model, table.features)
    codes, split_cfg = _split_codes(run, table)
    train_cfgs = [table.shard_ids[c] for c, s in split_cfg.items() if "train" in s.split("+") or s == "train"]
    rep.p(f"Model: `{run.path}` (C = {run.metrics.get('selected', {}).get('C', '?')}). H = (w·z + b)/‖w‖ is computed "
          f"for **all {len(h)} particles** of the dataset. Split `{run.cfg.get('split', {}).get('kind')}`: configurations "
          f"in training: {', '.join(train_cfgs) or '–'} (the SVM trains on a class-balanced subset of their particles); "
          "validation / test ones are marked per configuration below.")
    per_rate, per_cfg = hardness_tables(h, table.rate, table.slow, table.config_id, split_cfg, table.shard_ids)
    rep.figure("p_H_vs_p_slow", plot_ph_pslow(per_rate, per_cfg, pal),
               "(a) Mean hardness H̄ vs γ̇ (grey: single configurations); (b) p_H (H > 0) and p_slow (Eq. 2) vs γ̇ (Fig. 20). "
               "γ̇ = 0 is drawn at the left end of the log axis.")
    rep.table("p_H_p_slow_per_rate", per_rate, caption="H̄, p_H, p_slow and p_H − p_slow per shear rate (all particles)")
    rep.table("p_H_p_slow_per_config", per_cfg, caption="Per configuration, with its split")
    maps = []
    idx = int(acfg.get("map_config", 0))
    for r in sorted(np.unique(table.rate)):
        cands = [i for i, s in enumerate(ctx.manifest["shards"]) if float(s["rate"]) == r]
        i = cands[min(idx, len(cands) - 1)]
        lo, hi = table.shard_offsets[i], table.shard_offsets[i + 1]
        maps.append((float(r), table.shard_ids[i], ctx.shards[i], h[lo:hi]))
    fig, cl = plot_hardness_maps(maps, thickness=float(acfg.get("slice_thickness", 1.5)),
                                 center_frac=float(acfg.get("slice_center", 0.5)), n_grid=int(acfg.get("n_grid", 20)),
                                 oversample=int(acfg.get("oversample", 3)))
    rep.figure("hardness_maps", fig,
               f"x-y slices (thickness {acfg.get('slice_thickness', 1.5)} σ at z = {acfg.get('slice_center', 0.5)} L_z), "
               "particles coloured by H (common colour bar, big/small = large/small dots). Dashed: slow/fast boundary from "
               "the labels (0.5 level of the Eq. A1 convolution of the slow label); grey: clusters circled with the grid "
               "method of Appendix A (grid and l_cg = L/20, 26-neighbour maxima of the Eq. A1 convolution of ln τ_LC, "
               "nearest-centre assignment); ×/+ slow/fast centres within the slice (Fig. 19).")
    rep.table("hardness_maps", cl, caption="Clusters and slice statistics of the maps")
    pd.DataFrame({"shard": np.asarray(table.shard_ids)[table.config_id], "rate": table.rate,
                  "species": table.species, "H": h, "slow": table.slow, "ln_tau_lc": table.ln_tau_lc,
                  "split": np.array(["train", "val", "test"])[codes]}).to_csv(
        rep.tmp / "tables" / "hardness_all_particles.csv", index=False)
    rep.tables.append("tables/hardness_all_particles.csv")
    rep.summary["hardness"] = per_rate.to_dict(orient="records")


def _test_rows(run: RunInfo, table: Any, target: str) -> tuple[np.ndarray, np.ndarray]:
    """Training rows (finite target) and test rows of ``run`` on ``table``, in train.py's prediction order."""
    codes, _ = _split_codes(run, table)
    y = table.target(target)
    ok = np.isfinite(y)
    sp = str((run.cfg.get("data") or {}).get("species", "all"))
    if getattr(run.model, "input_kind", "tabular") == "tabular" and sp in ("big", "small"):  # tabular runs train and test on data.species
        ok_test = ok & (table.species == (0 if sp == "big" else 1))
    else:
        ok_test = ok
    return np.flatnonzero(ok & (codes == 0)), np.flatnonzero(ok_test & (codes == 2))


def section_parity(rep: ReportWriter, run: RunInfo, ctx: DatasetContext, pal: RatePalette) -> None:
    """Parity of a logged run; the table is the run's own ``metrics.json`` ``skill.regression`` (the same numbers
    train.py printed), recomputed with :func:`taulc.models.skill.honest_scores` for runs that predate it."""
    from taulc.models.skill import honest_scores, target_spec  # noqa: PLC0415

    z = np.load(run.path / "test_predictions.npz")
    cid = z["true_config_id"].astype(int) if "true_config_id" in z else z["config_id"].astype(int)
    spec = target_spec(run.cfg.get("target"))
    species = z["true_species"] if "true_species" in z else np.zeros(len(cid), dtype=np.int64)
    skill = run.metrics.get("skill")
    if not (skill and "regression" in skill):
        table = ctx.table(run.cfg.get("descriptor"))
        train_rows, test_rows = _test_rows(run, table, spec.name)
        if len(test_rows) != len(z["y_pred"]):
            rep.skip("parity", f"{run.path} predates the honest-skill tables and its {len(z['y_pred'])} test predictions "
                               f"do not match the {len(test_rows)} test particles of its split; retrain it")
            return
        skill = honest_scores(table, train_rows, test_rows, {"regression": z["y_pred"].astype(float)}, spec,
                              run.cfg.get("system"), seed=int(run.cfg.get("seed", 0)),
                              prediction_names={"regression": "y_pred"})
    _parity(rep, pal, z["true_y"].astype(float), z["y_pred"].astype(float), ctx.rates[cid], species, skill, spec,
            run.short, f"the test split of `{run.path}`", str(run.path))


def section_parity_fit(rep: ReportWriter, run: RunInfo, ctx: DatasetContext, pal: RatePalette,
                       alphas: Sequence[float] = (1e-2, 1e-1, 1.0, 10.0, 1e2, 1e3, 1e4, 1e5)) -> None:
    """Parity without a ridge run: fit the paper's ridge (Sec. IV.A) on ``run``'s own split.

    Standardised descriptors, α chosen by validation Pearson, test split used once,
    the same particles and configurations the run was trained/tested on.
    """
    from sklearn.linear_model import Ridge  # noqa: PLC0415
    from sklearn.preprocessing import StandardScaler  # noqa: PLC0415

    from taulc.models.skill import honest_scores, target_spec  # noqa: PLC0415

    table = ctx.table(run.cfg.get("descriptor"))
    codes, _ = _split_codes(run, table)
    spec = target_spec(run.cfg.get("target"))
    y = table.target(spec.name)
    ok = np.isfinite(y)
    tr, va, te = (ok & (codes == k) for k in (0, 1, 2))
    sc = StandardScaler().fit(table.features[tr])
    z_tr, z_va = sc.transform(table.features[tr]), sc.transform(table.features[va])
    scores = [np.corrcoef(Ridge(alpha=a).fit(z_tr, y[tr]).predict(z_va), y[va])[0, 1] for a in alphas]
    best = float(alphas[int(np.nanargmax(scores))])
    pred = Ridge(alpha=best).fit(z_tr, y[tr]).predict(sc.transform(table.features[te]))
    rep.p(f"No ridge run was given: the report fitted the paper's ridge regression itself on the split of "
          f"`{run.path}` (standardised {table.features.shape[1]} descriptors, α = {best:g} chosen on the validation "
          "split by Pearson, test split used once). Train a ridge run (`python train.py model=ridge`) for a logged model.")
    skill = honest_scores(table, np.flatnonzero(tr), np.flatnonzero(te), {"regression": pred}, spec, run.cfg.get("system"),
                          seed=int(run.cfg.get("seed", 0)), prediction_names={"regression": "in-report ridge"})
    _parity(rep, pal, y[te], pred, table.rate[te].astype(float), table.species[te], skill, spec,
            f"ridge fitted in-report, α={best:g}", f"the test split of `{run.path}`", f"in-report ridge on {run.path}")


def _parity(rep: ReportWriter, pal: RatePalette, y: np.ndarray, pred: np.ndarray, rate: np.ndarray, species: np.ndarray,
            skill: Mapping[str, Any], spec: Any, model_name: str, where: str, source: str) -> None:
    from taulc.analysis.parity import plot_parity, skill_frame  # noqa: PLC0415
    from taulc.models.skill import reference_mask  # noqa: PLC0415

    rep.h("3. Regression parity and honest skill (Sec. IV.A)")
    tab = skill_frame(skill["regression"]["rows"])
    ref = reference_mask(species, spec.reference_species)
    lab = {"ln_tau_lc": r"$\ln\tau_{\rm LC}$", "ln_tau_sh": r"$\ln\tau_{\rm sh}$"}.get(spec.name, spec.name)
    rep.figure("parity", plot_parity(y[ref], pred[ref], rate[ref], tab, pal, model_name=f"({model_name})",
                                     target_label=lab, reference=skill.get("reference", "")),
               f"Predicted vs true {spec.name} of the reference particles ({skill.get('reference', '')}) on {where}, "
               "coloured by γ̇; arrows: mean true value per γ̇; inset: Pearson within each γ̇ with its label-noise "
               "ceiling (red) and the best training-split baseline (x) (Fig. 17).")
    rep.table("parity", tab, caption=(
        f"Honest skill (the `skill.regression` table of metrics.json; docs/honest-skill.md): Pearson and Spearman of "
        f"the reference particles ({skill.get('reference', '')}) within each γ̇ and configuration, and pooled (labelled), "
        "each with its noise ceiling √(split-half reliability) on the same particles and grouping, the baselines fitted "
        f"on the training split (structural: {skill.get('structural_baseline', '')}), skill = Pearson − best baseline "
        "and fraction of ceiling = Pearson / ceiling."))
    rows = {r["scope"]: r for r in skill["regression"]["rows"]}
    rep.summary["parity"] = {"run": source, "model": model_name, "reference": skill.get("reference"),
                             "headline": skill["regression"]["headline"],
                             "pooled_rates": rows.get("pooled_rates", {}).get("pearson"),
                             "pooled_all_species": rows.get("pooled_all_species", {}).get("pearson"),
                             "config_mean": rows.get("config_mean", {}).get("pearson")}


def _full_descriptor(acfg: Mapping[str, Any]) -> dict[str, Any] | None:
    from omegaconf import OmegaConf  # noqa: PLC0415

    from taulc.paths import conf_dir  # noqa: PLC0415

    spec = acfg.get("importance", {}).get("full_descriptor", "gl_full")
    if spec in (None, "null", False):
        return None
    if isinstance(spec, Mapping):
        return dict(spec)
    path = conf_dir() / "descriptor" / f"{spec}.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"analysis.importance.full_descriptor: {path} does not exist")
    return _plain(OmegaConf.load(path))


def section_importance(rep: ReportWriter, ctx: DatasetContext, runs: Sequence[RunInfo], base_cfg: Mapping[str, Any],
                       acfg: Mapping[str, Any]) -> None:
    from taulc.analysis.importance import PearsonAccumulator, gram_stats, greedy_forward, holdout_pearson  # noqa: PLC0415
    from taulc.analysis.importance_plots import fig16_table, full_vector_pearson, plot_fig16, plot_fig18, table_one  # noqa: PLC0415
    from taulc.data.derived import shard_features  # noqa: PLC0415

    icfg = acfg.get("importance", {})
    rep.h("4. Feature importance (Sec. IV.A, Appendix C)")
    full = _full_descriptor(acfg)
    if full is None:
        rep.skip("Fig. 16", "analysis.importance.full_descriptor is null")
    else:
        t0 = time.perf_counter()
        acc = PearsonAccumulator()
        names: list[str] = []
        for i, entry in enumerate(ctx.manifest["shards"]):
            x, names, _ = shard_features(ctx.root, {"shards": [entry]}, full, progress=False)
            s = ctx.shards[i]
            y = np.log(np.asarray(s["tau_lc"], dtype=np.float64))
            m = (np.asarray(s["species"]) == 0) & np.isfinite(y)
            acc.add(x[0][m], y[m])
        r = acc.result()
        df = fig16_table(names, r)
        rep.figure("fig16_pearson_all_lm", plot_fig16(df, n_particles=acc.n),
                   f"Pearson p of every generation-0 element g_l^m(s, r), l ≤ 6 ({len(names)} columns), with ln τ_LC over the "
                   f"{acc.n} big particles of all configurations and rates (Fig. 16); computed in {time.perf_counter() - t0:.1f} s.")
        top = df.assign(abs_p=df["pearson"].abs()).sort_values("abs_p", ascending=False)
        rep.table("fig16_pearson", df.drop(columns=["name"]), show=False, caption="Pearson of every element")
        rep.table("fig16_top", top.head(15).drop(columns=["abs_p", "column"]), caption="Strongest single elements")
    # greedy (Appendix C) on the descriptor of the runs (the 576-element vector by default)
    desc = base_cfg.get("descriptor")
    table = ctx.table(desc)
    y = table.ln_tau_lc
    sp = str(icfg.get("species", "all"))
    keep = np.isfinite(y) & (np.ones(len(y), bool) if sp == "all" else table.species == (0 if sp == "big" else 1))
    split_run = next((r for r in runs if r.cfg.get("split")), None)
    if split_run is not None:
        codes, _ = _split_codes(split_run, table)
        fit_rows, test_rows = np.flatnonzero(keep & (codes != 2)), np.flatnonzero(keep & (codes == 2))
        where = f"training + validation configurations of `{split_run.path}` (test configurations held out)"
    else:
        fit_rows, test_rows = np.flatnonzero(keep), np.array([], dtype=int)
        where = "all particles (no run given, nothing held out)"
    k = int(icfg.get("greedy_k", 30))
    t0 = time.perf_counter()
    st = gram_stats(table.features[fit_rows], y[fit_rows])
    res = greedy_forward(None, None, k, stats=st)
    dt = time.perf_counter() - t0
    ho = holdout_pearson(res, table.features[test_rows], y[test_rows]) if len(test_rows) > 2 else None
    t1 = table_one(res, table.feature_names, ho)
    fullp = full_vector_pearson(st, table.features[test_rows] if len(test_rows) else None,
                                y[test_rows] if len(test_rows) else None)
    extra = {}
    reg = pick_run(runs, "regression")
    if reg is not None:
        extra[f"{reg.short} run, test Pearson"] = float(reg.metrics.get("test", {}).get("regression", {}).get("pearson", np.nan))
    rep.p(f"Greedy forward selection over the {table.features.shape[1]}-element vector on {len(fit_rows)} particles "
          f"({sp} species) of the {where}: Gram matrix + Gram-Schmidt updates, {dt:.2f} s for the top {len(res.order)}.")
    rep.figure("fig18_cumulative_pearson", plot_fig18(t1, fullp, extra, n_train=len(fit_rows)),
               "Cumulative Pearson of the top-k elements (Fig. 18); dashed: the full vector (least squares); "
               "the held-out curve refits nothing, it applies the same k-element models to the test configurations.")
    rep.table("table1_greedy", t1.drop(columns=["name", "column"]),
              caption="Table I: greedy ranking (rank, generation, l, m, neighbour species, r)")
    rep.summary["greedy_top"] = t1.head(5)[["rank", "generation", "l", "m", "species", "r", "cumulative_pearson_train"]].to_dict(orient="records")
    rep.summary["greedy_full_vector"] = fullp


def section_gnn(rep: ReportWriter, run: RunInfo, ctx: DatasetContext, acfg: Mapping[str, Any]) -> None:
    from torch_geometric.data import Batch  # noqa: PLC0415

    from taulc.analysis.attribution import gradient_profile, permutation_importance, plot_attribution  # noqa: PLC0415
    from taulc.data.datamodules import GraphDataModule  # noqa: PLC0415
    from taulc.models.io import load_model  # noqa: PLC0415
    from taulc.models.skill import target_spec  # noqa: PLC0415

    gcfg = acfg.get("gnn", {})
    model = load_model(run.path / "model.pt")
    nfeat = int(model.x_mean.numel())
    c = run.cfg
    dm = GraphDataModule(ctx.root, c["split"], target=target_spec(c.get("target")).name, node_descriptors=nfeat > 0,
                         dataset_config=ctx.dataset_cfg, table=ctx.table(c.get("descriptor")),
                         radius=dataset_graph_radius(c), descriptor=c.get("descriptor"))
    dm.setup("test")
    graphs = dm.graphs["test"][: int(gcfg.get("max_graphs", 4))]
    batch = Batch.from_data_list(graphs)
    perm = permutation_importance(model, batch, n_repeats=int(gcfg.get("n_repeats", 3)), seed=0)
    prof = gradient_profile(model, batch, n_bins=int(gcfg.get("n_bins", 20)))
    rep.h("GNN input attribution", level=3)
    rep.p(f"Model `{run.path}` on {len(graphs)} test configuration(s) ({int(batch.mask.sum())} test nodes).")
    rep.figure("gnn_attribution", plot_attribution(perm, prof),
               "(a) Score drop when an input group is scrambled (mean ± std over repeats); (b) |gradient × input| of the "
               "summed ln τ prediction per edge, vs neighbour distance and neighbour species; (c) mean |∂Σŷ/∂r| along "
               "the flow, gradient and vorticity axes.")
    rep.table("gnn_permutation", perm, caption="Permutation importance")
    rep.table("gnn_gradient_profile", prof, show=False, caption="Gradient profile")
    rep.summary["gnn_permutation"] = perm.to_dict(orient="records")


def _section_clusters(rep: ReportWriter, acfg: Mapping[str, Any]) -> None:
    """Convective clusters of cage jumps (Zeng, Yu & Wang 2025), see :mod:`taulc.analysis.clusters_report`."""
    from taulc.analysis.clusters_report import section_clusters  # noqa: PLC0415

    section_clusters(rep, acfg)


# -------------------------------------------------------------------------------------- driver
def evaluate(cfg: Mapping[str, Any], output_dir: str | os.PathLike[str] | None = None) -> Path:
    """Build the report for ``cfg`` (``conf/evaluate.yaml``); returns the report directory."""
    from taulc.validate import check_evaluate_config  # noqa: PLC0415

    t_start = time.perf_counter()
    c = _plain(cfg)
    check_evaluate_config(c)  # before any work: names the bad field
    acfg = c.get("analysis", {})
    runs_root = Path(c.get("runs_root") or "runs")
    extra = c.get("runs")
    auto = isinstance(extra, str) and extra == "auto"
    specs = [c.get("run")] + ([] if auto or not extra else list(extra))
    paths: list[Path] = []
    for s in specs:
        p = resolve_run(s, runs_root)
        if p is not None and p not in paths:
            paths.append(p)
    runs = [load_run(p) for p in paths]
    if auto and runs:
        runs += auto_runs(runs, runs_root)
    if c.get("dataset"):
        root, dcfg = _dataset_of(c)
        base_cfg = c
    elif runs:
        root, dcfg = _dataset_of(runs[0].cfg)
        base_cfg = runs[0].cfg
    else:
        raise ValueError("nothing to evaluate: give run=<dir|latest|model> and/or dataset=<name>")
    if c.get("data_root") and not c.get("dataset"):
        root = Path(c["data_root"]) / root.name
    out = Path(c.get("out") or (Path(output_dir or ".") / "report"))
    log.info("report for %s on dataset %s -> %s", [r.name for r in runs] or "no run", root, out)
    ctx = load_context(root, dcfg)
    for r in runs:
        rroot, _ = _dataset_of(r.cfg)
        if rroot.resolve() != root.resolve():
            raise ValueError(f"run {r.path} was trained on {rroot}, but this report is for {root}; "
                             "evaluate runs of one dataset together")
    pal = RatePalette(ctx.rates)
    rep = ReportWriter(out)
    timings: dict[str, float] = {}
    try:
        svm = pick_run(runs, "hardness")
        reg = pick_run(runs, "regression")
        gnn = pick_run(runs, "attribution")
        sections = [("dynamics", lambda: section_dynamics(rep, ctx, pal, acfg))]
        sections.append(("hardness", (lambda: section_hardness(rep, svm, ctx, pal, acfg)) if svm else None))
        fit_on = svm or (runs[0] if runs else None)
        sections.append(("parity", (lambda: section_parity(rep, reg, ctx, pal)) if reg else
                         (lambda: section_parity_fit(rep, fit_on, ctx, pal)) if fit_on else None))
        sections.append(("importance", lambda: section_importance(rep, ctx, runs, base_cfg, acfg)))
        sections.append(("gnn", (lambda: section_gnn(rep, gnn, ctx, acfg)) if gnn else None))
        sections.append(("clusters", lambda: _section_clusters(rep, acfg)))
        from taulc.analysis.rheology_report import section_rheology  # noqa: PLC0415

        sections.append(("rheology", lambda: section_rheology(rep, ctx, pal, acfg)))
        why = {"hardness": "no LinearSVM run (report role 'hardness') given (add runs=[runs/svm/latest])",
               "parity": "no regression run (ridge, or GNN/MLP with y_pred: report role 'regression') given "
                         "(add runs=[runs/ridge/latest])",
               "gnn": "no ParticleGNN run (report role 'attribution') given (add runs=[runs/gnn/latest])"}
        for name, fn in sections:
            t0 = time.perf_counter()
            if fn is None:
                rep.skip(f"section '{name}'", why[name])
                continue
            log.info("section %s ...", name)
            fn()
            timings[name] = time.perf_counter() - t0
            log.info("section %s done in %.1f s", name, timings[name])
        timings["total"] = time.perf_counter() - t_start
        rep.summary.update({"runs": [str(r.path) for r in runs], "dataset": str(root), "timings_s": timings})
        m = ctx.manifest
        header = [
            f"- dataset: `{root}` ({len(m['shards'])} configurations, rates {', '.join(f'{r:g}' for r in sorted(set(ctx.rates)))}, "
            f"{sum(len(s['species']) for s in ctx.shards)} particles)",
            *[f"- run: `{r.path}` ({r.model_class}, split `{r.cfg.get('split', {}).get('kind')}`, "
              f"descriptor {json.dumps(list((r.cfg.get('descriptor') or {}).get('families', {}).keys()))})" for r in runs],
            f"- generated {time.strftime('%Y-%m-%d %H:%M:%S')} in {timings['total']:.1f} s "
            f"({', '.join(f'{k} {v:.1f} s' for k, v in timings.items() if k != 'total')})",
        ]
        final = rep.finish("taulc evaluation report", header)
    except BaseException:
        rep.abort()
        raise
    for line in summary_lines(rep.summary, final):
        print(line)  # noqa: T201 - the headline result for the terminal
    return final


def summary_lines(s: Mapping[str, Any], path: Path) -> list[str]:
    """Short terminal summary."""
    lines = [f"report: {path / 'report.md'}"]
    if "lambda" in s and s["lambda"].get("lambda") is not None and np.isfinite(s["lambda"]["lambda"]):
        lines.append(f"shear thinning: lambda = {s['lambda']['lambda']:.3f} (eta ~ rate^-lambda)")
    for row in s.get("hardness", []):
        lines.append(f"  rate {row['rate']:g}: H bar {row['H_mean']:+.3f}  p_H {row['p_H']:.3f}  "
                     f"p_slow {row['p_slow']:.3f}  (diff {row['p_H_minus_p_slow']:+.3f})")
    if "parity" in s:
        p, h = s["parity"], s["parity"]["headline"]
        lines.append(f"{p['model']} parity, {p['reference']} within each shear rate: Pearson {h['pearson']:.3f} "
                     f"(ceiling {h['ceiling']:.2f}, fraction {h['fraction_of_ceiling']:.2f}), best baseline "
                     f"{h['best_baseline_name']} {h['best_baseline']:.3f}, skill {h['skill']:+.3f}; "
                     f"pooled over rates {p['pooled_rates']:.3f}, pooled all species {p['pooled_all_species']:.3f}")
    if s.get("greedy_top"):
        t = s["greedy_top"]
        lines.append("greedy top-3: " + "; ".join(f"gen {r['generation']} l {r['l']} m {r['m']} s {r['species']} "
                                                 f"r {r['r']}" for r in t[:3])
                     + f" -> Pearson {t[min(2, len(t) - 1)]['cumulative_pearson_train']:.3f}")
    lines.append(f"time: {s.get('timings_s', {}).get('total', float('nan')):.1f} s")
    return lines
