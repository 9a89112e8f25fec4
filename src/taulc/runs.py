"""Training-run directories: one owner per directory, a completion marker written last, ``latest`` that skips the rest.

* :func:`claim_run_dir` makes a directory this process owns: it creates
  ``<run_dir>/.taulc-owner`` with ``O_CREAT | O_EXCL`` (atomic on POSIX file
  systems), so two ``train.py`` runs that Hydra gave the same directory (same
  second, same model) cannot share it; the second gets ``<run_dir>-1``
  (``-2``, ...), with its own copy of the Hydra config.
* :func:`mark_complete` writes ``<run_dir>/COMPLETE`` (JSON: time, the run's
  artefacts and their sizes) atomically, *after* every other artefact.  A run
  without it was killed, crashed or is still running.
* :func:`is_complete` / :func:`latest_complete` are what ``evaluate.py
  run=latest`` and ``run=<model>`` use: incomplete runs are skipped.
* :func:`write_dataset_record` / :func:`run_dataset`: the dataset a run was
  trained on (``<run_dir>/dataset.json``: its directory, name, the manifest's
  ``config_hash`` and a digest of its shard checksums), so evaluation points at
  that manifest instead of re-composing the build config from the run's
  ``.hydra/config.yaml``; a dataset that moved or was rebuilt from another
  config is refused naming the file and both hashes.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import time
from pathlib import Path
from typing import Any

__all__ = ["RunError", "MARKER", "OWNER", "DATASET_RECORD", "claim_run_dir", "mark_complete", "is_complete",
           "latest_complete", "claim_new_dir", "write_dataset_record", "read_dataset_record", "run_dataset"]

from taulc.errors import ConfigError, TaulcError
from taulc.fileio import atomic_write_bytes, atomic_write_json

MARKER = "COMPLETE"
OWNER = ".taulc-owner"
log = logging.getLogger(__name__)

DATASET_RECORD = "dataset.json"
"""The run's dataset identity: ``{"name", "dir", "config_hash", "shards_digest", "format_version"}``."""


class RunError(TaulcError, FileNotFoundError):
    """A named run directory is missing or incomplete."""


def _try_claim(d: Path) -> bool:
    d.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(d / OWNER, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as fh:
        fh.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "time": time.time()}) + "\n")
    return True


def _write_config(d: Path, config: Any) -> None:
    """This run's own composed config as ``.hydra/config.yaml`` (another run may have overwritten Hydra's copy)."""
    if config is None:
        return
    from omegaconf import DictConfig, OmegaConf  # noqa: PLC0415

    cfg = config if isinstance(config, DictConfig) else OmegaConf.create(dict(config))
    atomic_write_bytes(d / ".hydra" / "config.yaml", OmegaConf.to_yaml(cfg).encode())


def claim_run_dir(run_dir: str | os.PathLike[str], config: Any = None) -> Path:
    """Own ``run_dir`` (or the first free ``run_dir-N`` if another run owns it); returns the directory to use.

    ``config`` (the run's composed config) is written to ``.hydra/config.yaml`` of the claimed directory:
    Hydra writes it at start-up, and two runs given one directory write it over each other.
    """
    base = Path(run_dir)
    if _try_claim(base):
        _write_config(base, config)
        return base
    for k in range(1, 10_000):
        cand = base.with_name(f"{base.name}-{k}")
        try:
            cand.mkdir(parents=True, exist_ok=False)
        except FileExistsError:
            continue
        if _try_claim(cand):
            if (base / ".hydra").is_dir():  # Hydra's other files (hydra.yaml, overrides.yaml)
                shutil.copytree(base / ".hydra", cand / ".hydra", dirs_exist_ok=True)
            _write_config(cand, config)
            return cand
    raise RuntimeError(f"{base}: could not create a unique run directory")  # pragma: no cover


def claim_new_dir(base: str | os.PathLike[str]) -> Path:
    """Create and return a directory that did not exist: ``base``, else ``base-1``, ``base-2``, ...

    ``mkdir`` without ``exist_ok`` is atomic, so two processes started in the same second (whose
    Hydra run directories, ``..._%H-%M-%S``, are equal) get two directories. The root configs use it
    through the ``taulc_claim`` resolver (:func:`taulc.cli.register_resolvers`) in ``hydra.run.dir``;
    within one process the answer is cached, so every later resolution gives the same directory.
    """
    key = str(base)
    if key in _CLAIMED:
        return _CLAIMED[key]
    b = Path(base)
    b.parent.mkdir(parents=True, exist_ok=True)
    for k in range(10_000):
        cand = b if k == 0 else b.with_name(f"{b.name}-{k}")
        try:
            cand.mkdir()
        except FileExistsError:
            continue
        _CLAIMED[key] = cand
        return cand
    raise RuntimeError(f"{b}: could not create a unique run directory")  # pragma: no cover


_CLAIMED: dict[str, Path] = {}


def mark_complete(run_dir: str | os.PathLike[str], config: Any = None) -> Path:
    """Write ``<run_dir>/COMPLETE`` (atomically): the last file of a finished run (``config`` rewritten first)."""
    d = Path(run_dir)
    _write_config(d, config)
    files = {str(p.relative_to(d)): p.stat().st_size for p in sorted(d.iterdir()) if p.is_file() and p.name != MARKER}
    atomic_write_json(d / MARKER, {"completed": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "files": files})
    return d / MARKER


def is_complete(run_dir: str | os.PathLike[str]) -> bool:
    """A finished ``train.py`` run: completion marker, metrics and the Hydra config present."""
    d = Path(run_dir)
    return (d / MARKER).is_file() and (d / "metrics.json").is_file() and (d / ".hydra" / "config.yaml").is_file()


def latest_complete(root: str | os.PathLike[str]) -> Path | None:
    """The most recently completed run under ``root`` (any depth), or None."""
    cands = [p.parent for p in Path(root).glob(f"**/{MARKER}") if is_complete(p.parent)]
    return max(cands, key=lambda p: (p / MARKER).stat().st_mtime_ns) if cands else None


def write_dataset_record(run_dir: str | os.PathLike[str], dataset_dir: str | os.PathLike[str]) -> Path:
    """Record the dataset ``run_dir`` is trained on (``dataset.json``), from the dataset's own ``manifest.json``."""
    from taulc.data.manifest import read_manifest, shards_digest  # noqa: PLC0415

    root = Path(dataset_dir).resolve()
    man = read_manifest(root)
    rec = {"name": man.get("name", root.name), "dir": str(root), "config_hash": man["config_hash"],
           "shards_digest": shards_digest(man), "format_version": man["format_version"]}
    path = Path(run_dir) / DATASET_RECORD
    atomic_write_json(path, rec)
    return path


def read_dataset_record(run_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The run's ``dataset.json``, or None for runs written before taulc recorded it."""
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
    """The dataset directory a run was trained on, from its ``dataset.json`` (None when the run has none).

    ``data_root`` (evaluate.py ``data_root=``) looks for the dataset under another root (a moved copy);
    either way its ``manifest.json`` must have the recorded ``config_hash``, else :class:`ConfigError` naming
    the record, the manifest and both hashes."""
    from taulc.data.manifest import MANIFEST, shards_digest  # noqa: PLC0415

    rec = read_dataset_record(run_dir)
    if rec is None:
        return None
    rec_path = Path(run_dir) / DATASET_RECORD
    root = Path(data_root) / rec["name"] if data_root else Path(rec["dir"])
    man_path = root / MANIFEST
    if not man_path.is_file():
        hint = "" if data_root else " (if the dataset moved, give data_root=<its new parent directory>)"
        raise ConfigError(f"{rec_path}: the run was trained on dataset '{rec['name']}' (config_hash {rec['config_hash']}) "
                          f"at {rec['dir']}, but {man_path} does not exist: the dataset moved or was deleted{hint}")
    try:
        man = json.loads(man_path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{man_path}: unreadable manifest ({exc})") from None
    if man.get("config_hash") != rec["config_hash"]:
        raise ConfigError(f"{man_path}: config_hash {man.get('config_hash')!r}, but the run {run_dir} was trained on "
                          f"config_hash {rec['config_hash']!r} ({rec_path}): the dataset was rebuilt from another "
                          "config; retrain, or point data_root= at the dataset it was trained on")
    if rec.get("shards_digest") and shards_digest(man) != rec["shards_digest"]:
        log.warning(
            "%s: same config_hash %s, but the shards changed since run %s (rebuilt with the same config)",
            man_path, rec["config_hash"], run_dir)
    return root
