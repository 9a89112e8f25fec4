"""The dataset a run was trained on: the run's dataset record, written at training and checked at evaluation.

:func:`write_dataset_record` stores its directory, name, the manifest's ``config_hash`` and a digest of
its shard checksums, so evaluation points at that manifest instead of re-composing the build config from
the run's Hydra config (:func:`run_dataset`); a dataset that moved or was rebuilt from another config is
refused naming the record and both hashes.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from taulc.data.manifest import MANIFEST, read_manifest, shards_digest
from taulc.errors import ConfigError
from taulc.fileio import atomic_write_json
from taulc.runs.files import DATASET_RECORD

__all__ = ["write_dataset_record", "read_dataset_record", "run_dataset"]

log = logging.getLogger(__name__)


def write_dataset_record(run_dir: str | os.PathLike[str], dataset_dir: str | os.PathLike[str]) -> Path:
    """Record the dataset ``run_dir`` is trained on, from the dataset's own manifest."""

    root = Path(dataset_dir).resolve()
    man = read_manifest(root)
    rec = {
        "name": man.get("name", root.name),
        "dir": str(root),
        "config_hash": man["config_hash"],
        "shards_digest": shards_digest(man),
        "format_version": man["format_version"],
    }
    path = Path(run_dir) / DATASET_RECORD
    atomic_write_json(path, rec)
    return path


def read_dataset_record(run_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The run's dataset record, or None for runs written before taulc recorded it."""
    path = Path(run_dir) / DATASET_RECORD
    if not path.is_file():
        return None
    try:
        rec = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: unreadable dataset record ({exc})") from None
    missing = [k for k in ("name", "dir", "config_hash") if k not in rec]
    if missing:
        raise ConfigError(f"{path}: dataset record lacks {missing}")
    return rec


def run_dataset(run_dir: str | os.PathLike[str], data_root: str | os.PathLike[str] | None = None) -> Path | None:
    """The dataset directory a run was trained on, from its record (None when the run has none).

    ``data_root`` (evaluate.py ``data_root=``) looks for the dataset under another root (a moved copy);
    either way its manifest must have the recorded ``config_hash``, else :class:`ConfigError` naming
    the record, the manifest and both hashes."""

    rec = read_dataset_record(run_dir)
    if rec is None:
        return None
    rec_path = Path(run_dir) / DATASET_RECORD
    root = Path(data_root) / rec["name"] if data_root else Path(rec["dir"])
    man_path = root / MANIFEST
    if not man_path.is_file():
        hint = "" if data_root else " (if the dataset moved, give data_root=<its new parent directory>)"
        raise ConfigError(
            f"{rec_path}: the run was trained on dataset '{rec['name']}' (config_hash {rec['config_hash']}) "
            f"at {rec['dir']}, but {man_path} does not exist: the dataset moved or was deleted{hint}"
        )
    try:
        man = json.loads(man_path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{man_path}: unreadable manifest ({exc})") from None
    if man.get("config_hash") != rec["config_hash"]:
        raise ConfigError(
            f"{man_path}: config_hash {man.get('config_hash')!r}, but the run {run_dir} was trained on "
            f"config_hash {rec['config_hash']!r} ({rec_path}): the dataset was rebuilt from another "
            "config; retrain, or point data_root= at the dataset it was trained on"
        )
    if rec.get("shards_digest") and shards_digest(man) != rec["shards_digest"]:
        log.warning(
            "%s: same config_hash %s, but the shards changed since run %s (rebuilt with the same config)",
            man_path,
            rec["config_hash"],
            run_dir,
        )
    return root
