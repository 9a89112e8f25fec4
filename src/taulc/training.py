"""One training run: data -> model -> Lightning Trainer -> metrics, model, card, results table.

``train.py`` (Hydra) calls :func:`train`, which only orchestrates.  Every model (ridge, SVM, GNN, MLP)
goes through the same path: a datamodule from :mod:`taulc.data.datamodules`, callbacks and logger from
:mod:`taulc.models.callbacks` / :mod:`taulc.models.trainer`, ``trainer.fit`` (model selection on the
validation split), one ``trainer.predict`` on the test split (:mod:`taulc.evaluation.arrays`), and the
same metrics: the honest-skill tables of :mod:`taulc.evaluation.skill` (reference species, within each
γ̇ and configuration, with noise ceilings, baselines fitted on the training split and ``skill``), plus
the pooled all-particle metrics, labelled as pooled (:mod:`taulc.evaluation.scores`).  Every file of the
run is written through its :class:`taulc.runs.Run`; the model card is :mod:`taulc.card`.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import hydra
import lightning as L

from taulc.card import model_card
from taulc.config import to_mapping
from taulc.data.manifest import provenance
from taulc.evaluation.arrays import concat_predictions
from taulc.evaluation.scores import evaluate_predictions, noise_ceiling, summary_lines
from taulc.evaluation.skill import honest_scores
from taulc.models.callbacks import build_callbacks, callbacks_config
from taulc.models.outputs import REGRESSION, SCORE, first_output, outputs_record
from taulc.models.registry import model_class
from taulc.models.trainer import (
    build_logger,
    check_logger_config,
    is_exact_solver,
    one_lightning_log_stream,
    quiet_lightning,
)
from taulc.paths import dataset_dir
from taulc.runs import Run
from taulc.runs.results import provenance_columns, results_row
from taulc.utils import to_plain as _plain
from taulc.validate import check_train_config

__all__ = ["train"]

log = logging.getLogger("taulc.train")


def train(cfg: Any) -> float:
    """Run one training job; returns the validation objective (for Optuna sweeps)."""

    from taulc.models.io import save_model  # noqa: PLC0415 - lazy: models.io loads Lightning and torch

    t0 = time.perf_counter()
    c = _plain(cfg)
    tc = check_train_config(c, dataset_dir(c))  # parsed once, before any work: names the bad field
    check_logger_config(tc.logger)  # logger=tensorboard without tensorboard installed: refused now, not after training
    run = Run.claim(tc.run_dir or os.getcwd(), config=cfg)  # unique even for two runs in one second
    one_lightning_log_stream()
    L.seed_everything(tc.seed, workers=True)
    root = dataset_dir(c)
    model_cls = model_class(tc.model_target)  # the declaration decides inputs and callbacks
    inputs = model_cls.inputs  # taulc.models.input_kinds: datamodule, test truth, split rows
    split, spec = tc.split, tc.target
    dm = inputs.datamodule(c, model_cls, root, split, tc.data, spec.name, spec.estimator, spec.horizon)
    dm.setup("fit")
    model_cfg = inputs.model_config(c["model"], dm)
    model = hydra.utils.instantiate(model_cfg)
    monitor = model.monitor
    callbacks = build_callbacks(callbacks_config(c, model_cls), model, run.checkpoints_dir)
    trainer_cfg = dict(c["trainer"])
    exact = is_exact_solver(model)
    with quiet_lightning(exact):
        if exact:  # one exact solve: no parameter table, no per-step logging interval
            trainer_cfg.update(enable_model_summary=False, log_every_n_steps=1, min_epochs=1, max_epochs=1)
        trainer = hydra.utils.instantiate(
            trainer_cfg, callbacks=callbacks, logger=build_logger(tc.logger, run.path), default_root_dir=str(run.path)
        )
        trainer.fit(model, datamodule=dm, ckpt_path=tc.ckpt_path, weights_only=True)  # no unpickling of crafted .ckpt
    objective = tc.optimized_metric or monitor
    if objective not in trainer.callback_metrics:
        raise KeyError(f"optimized_metric '{objective}' was not logged; logged: {sorted(trainer.callback_metrics)}")
    val_score = float(trainer.callback_metrics[objective])
    best = callbacks[0].best_model_path
    if model.test_with_best_checkpoint and best and Path(best).exists():
        model = type(model).load_from_checkpoint(best, weights_only=True)
        log.info("test with the best validation checkpoint %s (%s = %.4f)", best, monitor, callbacks[0].best_model_score)
    with quiet_lightning(exact):
        preds = trainer.predict(model, dataloaders=dm.test_dataloader())
    pred = concat_predictions(preds)
    truth = inputs.truth(dm)
    train_rows, test_rows = inputs.split_rows(dm, spec.name)
    if len(test_rows) != len(next(iter(pred.values()))):
        raise RuntimeError(f"{len(test_rows)} test particles but {len(next(iter(pred.values())))} predictions")
    outputs = model.outputs(spec.name)  # the declared outputs decide what is scored (taulc.models.outputs)
    scored_outputs = {
        k: o
        for k, o in (("regression", first_output(outputs, REGRESSION)), ("hardness", first_output(outputs, SCORE)))
        if o is not None
    }
    skill = honest_scores(
        dm.table,
        train_rows,
        test_rows,
        {k: pred[o.key] for k, o in scored_outputs.items()},
        spec,
        c.get("system"),
        seed=tc.seed,
        prediction_names={k: o.key for k, o in scored_outputs.items()},
    )
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
    run.write_metrics(metrics)
    run.write_dataset_record(root)  # evaluate.py finds the dataset through its manifest hash
    run.write_predictions(pred, truth)
    save_model(model, run.model_path)
    # --- predictor bundle (issue 7): self-contained bundle for taulc-predict ---
    from taulc.predict.export import export_run_bundle  # noqa: PLC0415 - lazy: the predictor loads torch

    export_run_bundle(
        run.predictor_path, model, {**c, "target": spec.name}, metrics, root, pred, feature_names=dm.table.feature_names
    )
    # --- end predictor bundle ---
    run.write_card(model_card(c, metrics, root))
    lines = summary_lines(metrics)
    for line in lines:
        print(line)  # the run's headline result, for the terminal
    run.append_result(
        {
            "model": metrics["model"],
            "dataset": root.name,
            "split": split.kind,
            "target": spec.name,
            "seed": tc.seed,
            "selected": json.dumps(metrics["selected"]),
            "monitor": monitor,
            "val_score": val_score,
            **results_row(metrics),
            "train_seconds": metrics["train_seconds"],
            **provenance_columns(metrics["provenance"]),
        },
        table=tc.results_table,
    )
    run.mark_complete(config=cfg)  # last artefact of the run: evaluate.py skips runs without it
    run.update_latest()
    return val_score
