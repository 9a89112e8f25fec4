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
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from pathlib import Path
from typing import Any

__all__ = ["RunError", "MARKER", "OWNER", "claim_run_dir", "mark_complete", "is_complete", "latest_complete", "discard_if_empty"]

from taulc.errors import TaulcError
from taulc.fileio import atomic_write_bytes, atomic_write_json

MARKER = "COMPLETE"
OWNER = ".taulc-owner"
_HYDRA_ONLY = {".hydra", OWNER}


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


def discard_if_empty(run_dir: str | os.PathLike[str]) -> None:
    """Remove a run directory that holds nothing of a run yet (only Hydra's config/log and the owner file)."""
    d = Path(run_dir)
    if not d.is_dir():
        return
    if all(p.name in _HYDRA_ONLY or p.suffix == ".log" for p in d.iterdir()):
        shutil.rmtree(d, ignore_errors=True)
