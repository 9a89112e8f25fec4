"""The names of the files of a training run: spelled here and nowhere else in taulc.

A run directory (``runs/<model>/<time>/``, :class:`taulc.runs.Run`) holds the files below; its parent
(the model's runs directory) holds ``latest``, ``latest.txt`` and ``results.csv``.
"""

from __future__ import annotations

__all__ = [
    "METRICS",
    "PREDICTIONS",
    "MODEL",
    "PREDICTOR",
    "CARD",
    "DATASET_RECORD",
    "MARKER",
    "OWNER",
    "HYDRA_DIR",
    "CONFIG",
    "CHECKPOINTS",
    "LATEST",
    "LATEST_TXT",
    "RESULTS",
]

METRICS = "metrics.json"
"""Scores, selection, provenance (docs/reference/formats.md)."""
PREDICTIONS = "test_predictions.npz"
"""Per-particle test predictions (the model's outputs) and the matching truth (``true_<name>``)."""
MODEL = "model.pt"
"""The fitted model (:func:`taulc.models.io.save_model`)."""
PREDICTOR = "predictor.pt"
"""The self-contained predictor bundle (:mod:`taulc.predict.bundle`)."""
CARD = "model_card.md"
"""What was trained on what, and its test results (:mod:`taulc.card`)."""
DATASET_RECORD = "dataset.json"
"""The run's dataset identity: ``{"name", "dir", "config_hash", "shards_digest", "format_version"}``."""
MARKER = "COMPLETE"
"""Written last: a run without it was killed, crashed or is still running."""
OWNER = ".taulc-owner"
"""Created with ``O_EXCL`` by the process that owns the directory."""
HYDRA_DIR = ".hydra"
"""Hydra's own files (``config.yaml``, ``hydra.yaml``, ``overrides.yaml``)."""
CONFIG = f"{HYDRA_DIR}/config.yaml"
"""The run's composed config, relative to the run directory."""
CHECKPOINTS = "checkpoints"
"""Lightning checkpoints (``last.ckpt`` and the best validation one)."""
LATEST = "latest"
"""Symlink, in the runs directory, to its newest complete run."""
LATEST_TXT = "latest.txt"
"""The newest complete run's path as text (for file systems without symlinks)."""
RESULTS = "results.csv"
"""One row per run, in the runs directory (:mod:`taulc.runs.results`)."""
