"""Training runs, owned in one place: every run file is named, written and read through this package.

* :class:`Run` (:mod:`taulc.runs.directory`): one run directory -- its file paths, claiming it
  (owner file created with ``O_EXCL``), writing its artefacts atomically, the completion marker written
  last, the atomic ``latest`` swap, and reading it back; :func:`resolve_run` / :func:`latest_complete`
  find complete runs (``evaluate.py run=latest|<model>|<dir>``).
* :mod:`taulc.runs.results`: the runs directory's results table (one row per run).
* :mod:`taulc.runs.dataset`: the dataset a run was trained on (its record, checked against the manifest).
* :mod:`taulc.runs.files`: the file names.
"""

from __future__ import annotations

from taulc.runs.dataset import read_dataset_record, run_dataset, write_dataset_record
from taulc.runs.directory import (
    Run,
    RunError,
    claim_new_dir,
    discard_refused_run,
    latest_complete,
    resolve_run,
    runs_below,
)
from taulc.runs.files import DATASET_RECORD, MARKER, OWNER
from taulc.runs.results import RESULTS_FIELDS, append_results

__all__ = [
    "Run",
    "RunError",
    "resolve_run",
    "latest_complete",
    "runs_below",
    "claim_new_dir",
    "discard_refused_run",
    "write_dataset_record",
    "read_dataset_record",
    "run_dataset",
    "RESULTS_FIELDS",
    "append_results",
    "DATASET_RECORD",
    "MARKER",
    "OWNER",
]
