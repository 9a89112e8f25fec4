"""One training run: data -> model -> Lightning Trainer -> metrics, model, card, results table.

``train.py`` (Hydra) calls :func:`train`.  Every model (ridge, SVM, GNN, MLP)
goes through the same path: a datamodule from :mod:`taulc.data.datamodules`,
``trainer.fit`` (model selection on the validation split), one
``trainer.predict`` on the test split, and the same metrics (Pearson and
Spearman pooled, per configuration and per γ̇; classification metrics; the
label-noise ceiling √reliability next to every Pearson).
"""

from __future__ import annotations

import csv
import json
import logging
import math
import os
import time
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from taulc.utils import to_plain as _plain

log = logging.getLogger("taulc.train")

RESULTS_FIELDS = (
    "time", "run_dir", "model", "dataset", "split", "target", "seed", "selected", "monitor", "val_score",
    "test_pearson", "test_pearson_config", "test_spearman", "test_r2",
    "test_accuracy", "test_balanced_accuracy", "test_roc_auc", "test_pearson_h_lntau", "test_p_h",
    "noise_ceiling", "train_seconds",
)


def model_kind(model_cfg: Mapping[str, Any]) -> str:
    """``graph`` for message-passing models, ``tabular`` for descriptor models."""
    target = str(model_cfg.get("_target_", ""))
    return "graph" if target.endswith("GNN") else "tabular"


def dataset_dir(cfg: Mapping[str, Any]) -> Path:
    from taulc.paths import default_data_root  # noqa: PLC0415

    root = Path(cfg["data_root"]) if cfg.get("data_root") else default_data_root()
    return root / str(cfg["dataset"]["name"])


def noise_ceiling(manifest: Mapping[str, Any], config_ids: np.ndarray, rates: np.ndarray) -> dict[str, Any]:
    """√(split-half reliability of ln τ_LC), averaged over the test configurations (pooled and per γ̇)."""
    rel = np.array([s["stats"].get("reliability_lc", np.nan) for s in manifest["shards"]], dtype=float)
    ids = np.unique(config_ids)
    out: dict[str, Any] = {"pooled": float(np.sqrt(np.clip(np.nanmean(rel[ids]), 0, 1))) if ids.size else float("nan")}
    per = {}
    for r in np.unique(rates):
        sel = np.unique(config_ids[rates == r])
        per[f"{float(r):g}"] = float(np.sqrt(np.clip(np.nanmean(rel[sel]), 0, 1)))
    out["rate"] = per
    return out


def _concat_predictions(batches: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    keys = batches[0].keys()
    out = {k: np.concatenate([b[k].detach().cpu().numpy().reshape(len(b[k]), -1).squeeze(-1) for b in batches]) for k in keys}
    if "mask" in out:
        m = out.pop("mask").astype(bool)
        out = {k: v[m] if len(v) == len(m) else v for k, v in out.items()}
    out.pop("batch", None)
    return out


def evaluate_predictions(pred: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """Test metrics from per-particle predictions and the matching ground truth."""
    from taulc.models.metrics import classification_metrics, regression_metrics  # noqa: PLC0415

    out: dict[str, Any] = {}
    if "y_pred" in pred:
        out["regression"] = regression_metrics(truth["y"], pred["y_pred"], truth["config_id"], truth["rate"])
    score = pred.get("hardness", pred.get("logit"))
    if score is not None:
        out["classification"] = classification_metrics(truth["cls"], score, truth["ln_tau_lc"], truth["rate"])
        out["classification"]["score"] = "hardness" if "hardness" in pred else "logit"
    if "mobility_pred" in pred and np.isfinite(truth.get("mobility", np.array([np.nan]))).any():
        out["mobility"] = regression_metrics(truth["mobility"], pred["mobility_pred"], truth["config_id"], truth["rate"])
    return out


def _truth_for(dm: Any, kind: str) -> dict[str, np.ndarray]:
    if kind == "tabular":
        return dm.arrays("test")
    cols: dict[str, list[np.ndarray]] = {}
    for g in dm.graphs["test"]:
        m = g.mask.numpy()
        for k in ("y", "cls", "config_id", "rate", "species", "ln_tau_lc", "mobility"):
            cols.setdefault(k, []).append(getattr(g, k).numpy()[m])
    return {k: np.concatenate(v) for k, v in cols.items()}


def split_configs(dm: Any, kind: str) -> dict[str, list[int]]:
    """Global configuration ids that contribute particles to each split (recorded for evaluation)."""
    if kind == "tabular":
        cid = dm.table.config_id
        return {k: sorted(int(c) for c in np.unique(cid[r])) for k, r in dm.rows.items()}
    return {k: sorted({int(g.config_id[0]) for g in gs}) for k, gs in dm.graphs.items()}


def _fmt(x: Any) -> str:
    return f"{x:.3f}" if isinstance(x, float) and math.isfinite(x) else str(x)


def summary_lines(metrics: Mapping[str, Any]) -> list[str]:
    """Short human summary printed at the end of a run."""
    lines = []
    ceil = metrics.get("noise_ceiling", {}).get("pooled", float("nan"))
    reg = metrics.get("test", {}).get("regression")
    if reg:
        lines.append(
            f"ln tau_LC  Pearson {_fmt(reg['pearson'])} pooled | {_fmt(reg.get('pearson_config', float('nan')))} per configuration "
            f"| Spearman {_fmt(reg['spearman'])} | R2 {_fmt(reg['r2'])}   (label-noise ceiling {_fmt(ceil)})"
        )
        per = reg.get("pearson_rate", {})
        if per:
            lines.append("  per shear rate: " + ", ".join(f"{k}: {_fmt(v)}" for k, v in per.items()))
    cl = metrics.get("test", {}).get("classification")
    if cl:
        lines.append(
            f"slow/fast  accuracy {_fmt(cl['accuracy'])} | balanced accuracy {_fmt(cl['balanced_accuracy'])} "
            f"| ROC-AUC {_fmt(cl['roc_auc'])} | Pearson(H, ln tau_LC) {_fmt(cl.get('pearson_h_lntau', float('nan')))} pooled"
        )
        per_h = [v for v in cl.get("pearson_h_lntau_rate", {}).values() if isinstance(v, float) and math.isfinite(v)]
        if per_h:
            lines.append(f"           Pearson(H, ln tau_LC) within each shear rate: {min(per_h):.3f} .. {max(per_h):.3f}")
        if cl.get("score") == "hardness":
            lines.append(f"hardness   mean H {_fmt(cl['mean_score'])} | p_H (H > 0) {_fmt(cl['p_pred'])} | p_slow {_fmt(cl['p_true'])}")
            ph, ps, hb = cl.get("p_pred_rate", {}), cl.get("p_true_rate", {}), cl.get("mean_score_rate", {})
            for r in ph:
                lines.append(f"  rate {r}: H bar {_fmt(hb.get(r, float('nan')))}  p_H {_fmt(ph[r])}  p_slow {_fmt(ps.get(r, float('nan')))}")
    return lines


def append_results(path: Path, row: Mapping[str, Any]) -> None:
    """Append one row to the accumulating results table (CSV), creating it with a header."""
    path.parent.mkdir(parents=True, exist_ok=True)
    new = not path.exists()
    with open(path, "a", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=RESULTS_FIELDS, extrasaction="ignore")
        if new:
            w.writeheader()
        w.writerow({k: (_fmt(v) if isinstance(v, float) else v) for k, v in row.items()})


def train(cfg: Any) -> float:
    """Run one training job; returns the validation objective (for Optuna sweeps)."""
    import hydra  # noqa: PLC0415
    import lightning as L  # noqa: PLC0415
    from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint  # noqa: PLC0415
    from lightning.pytorch.loggers import CSVLogger  # noqa: PLC0415

    from taulc.data.builder import dataset_config  # noqa: PLC0415
    from taulc.data.datamodules import GraphDataModule, TabularDataModule  # noqa: PLC0415
    from taulc.data.storage import atomic_write_bytes, atomic_write_json, save_npz  # noqa: PLC0415
    from taulc.models.io import save_model  # noqa: PLC0415
    from taulc.runs import claim_run_dir, mark_complete  # noqa: PLC0415
    from taulc.validate import check_train_config  # noqa: PLC0415

    t0 = time.perf_counter()
    c = _plain(cfg)
    check_train_config(c, dataset_dir(c))  # before any work: names the bad field
    run_dir = claim_run_dir(c.get("run_dir") or os.getcwd(), config=cfg)  # unique even for two runs in one second
    L.seed_everything(int(c["seed"]), workers=True)
    root = dataset_dir(c)
    kind = model_kind(c["model"])
    data = c.get("data", {})
    split = c["split"]
    dcfg = dataset_config(c)
    if kind == "graph":
        dm = GraphDataModule(
            root, split, target=c["target"], node_descriptors=int(c["model"].get("n_features") or 0) > 0,
            batch_size=int(data.get("graph_batch_size", 2)), dataset_config=dcfg,
            radius=float(c["dataset"].get("graph_radius", 2.0)), descriptor=c.get("descriptor"),
        )
    else:
        dm = TabularDataModule(
            root, split, target=c["target"], species=data.get("species", "all"),
            balance_classes=bool(data.get("balance_classes", False)) or c["model"]["_target_"].endswith("LinearSVM"),
            batch_size=int(data.get("batch_size", 4096)), dataset_config=dcfg, seed=int(c["seed"]),
            descriptor=c.get("descriptor"),
        )
    dm.setup("fit")
    model_cfg = dict(c["model"])
    if kind == "graph":
        if model_cfg.get("n_features"):
            model_cfg["n_features"] = dm.n_node_features
    elif model_cfg.get("n_features") in (None, "???"):
        model_cfg["n_features"] = dm.n_features
    model = hydra.utils.instantiate(model_cfg)
    monitor, mode = model.monitor, model.monitor_mode
    callbacks = [ModelCheckpoint(dirpath=run_dir / "checkpoints", monitor=monitor, mode=mode, save_last=True, filename="best")]
    es = c.get("early_stopping")
    if kind == "graph" or model_cfg["_target_"].endswith("MLP"):
        if es and es.get("patience"):
            callbacks.append(EarlyStopping(monitor=monitor, mode=mode, patience=int(es["patience"]),
                                           min_delta=float(es.get("min_delta", 0.0))))
    trainer_cfg = dict(c["trainer"])
    trainer = hydra.utils.instantiate(
        trainer_cfg, callbacks=callbacks, logger=CSVLogger(run_dir, name="logs"), default_root_dir=str(run_dir)
    )
    trainer.fit(model, datamodule=dm, ckpt_path=c.get("ckpt_path"), weights_only=True)  # no unpickling of crafted .ckpt
    objective = c.get("optimized_metric") or monitor
    if objective not in trainer.callback_metrics:
        raise KeyError(f"optimized_metric '{objective}' was not logged; logged: {sorted(trainer.callback_metrics)}")
    val_score = float(trainer.callback_metrics[objective])
    best = callbacks[0].best_model_path
    if kind == "graph" and best and Path(best).exists():
        model = type(model).load_from_checkpoint(best, weights_only=True)
        log.info("test with the best validation checkpoint %s (%s = %.4f)", best, monitor, callbacks[0].best_model_score)
    preds = trainer.predict(model, dataloaders=dm.test_dataloader())
    pred = _concat_predictions(preds)
    truth = _truth_for(dm, kind)
    table = dm.table
    metrics: dict[str, Any] = {
        "model": model_cfg["_target_"].rsplit(".", 1)[-1],
        "dataset": str(root),
        "split": split,
        "target": c["target"],
        "monitor": monitor,
        "val_score": val_score,
        "selected": model._grid_value_metric() if hasattr(model, "_grid_value_metric") else {},
        "val": _plain(getattr(model, "last_metrics", {}).get("val", {})),
        "test": evaluate_predictions(pred, truth),
        "noise_ceiling": noise_ceiling(table.manifest, truth["config_id"], truth["rate"]),
        "n": {k: int(len(v)) for k, v in getattr(dm, "rows", {}).items()},
        "configs": split_configs(dm, kind),
        "train_seconds": time.perf_counter() - t0,
    }
    atomic_write_json(run_dir / "metrics.json", metrics)
    save_npz(run_dir / "test_predictions.npz", {**pred, **{f"true_{k}": v for k, v in truth.items()}})
    save_model(model, run_dir / "model.pt")
    # --- predictor bundle (issue 7): self-contained <run_dir>/predictor.pt for taulc-predict ---
    from taulc.predict.bundle import BUNDLE_NAME, export_run_bundle  # noqa: PLC0415

    export_run_bundle(run_dir / BUNDLE_NAME, model, c, metrics, root, pred, feature_names=dm.table.feature_names)
    # --- end predictor bundle ---
    card = model_card(c, metrics, root)
    atomic_write_bytes(run_dir / "model_card.md", card.encode())
    lines = summary_lines(metrics)
    for line in lines:
        print(line)  # noqa: T201 - the run's headline result, for the terminal
    reg, cl = metrics["test"].get("regression", {}), metrics["test"].get("classification", {})
    append_results(
        Path(c.get("results_table") or run_dir.parent / "results.csv"),
        {
            "time": time.strftime("%Y-%m-%d %H:%M:%S"), "run_dir": str(run_dir), "model": metrics["model"],
            "dataset": root.name, "split": split["kind"], "target": c["target"], "seed": c["seed"],
            "selected": json.dumps(metrics["selected"]), "monitor": monitor, "val_score": val_score,
            "test_pearson": reg.get("pearson"), "test_pearson_config": reg.get("pearson_config"),
            "test_spearman": reg.get("spearman"), "test_r2": reg.get("r2"),
            "test_accuracy": cl.get("accuracy"), "test_balanced_accuracy": cl.get("balanced_accuracy"),
            "test_roc_auc": cl.get("roc_auc"), "test_pearson_h_lntau": cl.get("pearson_h_lntau"),
            "test_p_h": cl.get("p_pred"), "noise_ceiling": metrics["noise_ceiling"]["pooled"],
            "train_seconds": metrics["train_seconds"],
        },
    )
    mark_complete(run_dir, config=cfg)  # last artefact of the run: evaluate.py skips runs without it
    latest = run_dir.parent / "latest"
    atomic_write_bytes(run_dir.parent / "latest.txt", (str(run_dir) + "\n").encode())
    try:
        if latest.is_symlink() or latest.exists():
            latest.unlink()
        latest.symlink_to(run_dir.name if run_dir.parent == latest.parent else run_dir)
    except OSError:
        pass
    return val_score


def model_card(c: Mapping[str, Any], metrics: Mapping[str, Any], root: Path) -> str:
    man_path = root / "manifest.json"
    lines = [
        f"# Model card: {metrics['model']} on `{root.name}`",
        "",
        f"- target: `{c['target']}` (ln τ in LJ time units); classes: slow = 1 if τ_LC − τ_sh ≥ τ_2 (Eq. 2)",
        f"- split: `{c['split']['kind']}` (seed {c['split'].get('seed')}); model selection on validation `{metrics['monitor']}` = {_fmt(metrics['val_score'])}",
        f"- selected hyperparameters: {json.dumps(metrics['selected'])}",
        f"- descriptor: `{json.dumps(c.get('descriptor', {}).get('families', {}))}`",
        f"- dataset manifest: `{man_path}`",
        f"- label-noise ceiling (√ split-half reliability of ln τ_LC, test configurations): {_fmt(metrics['noise_ceiling']['pooled'])}",
        "",
        "## Test results",
        "",
        *[f"    {s}" for s in summary_lines(metrics)],
        "",
        "Caveat: the random particle split leaks through shared coarse-grained neighbourhoods;",
        "trust `split=config` (whole configurations held out) for generalisation.",
        "",
    ]
    return "\n".join(lines)
