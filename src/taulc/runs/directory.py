"""One training-run directory: :class:`Run` owns its files, its claim, its completion and ``latest``.

* :meth:`Run.claim` makes a directory this process owns: it creates the owner
  file with ``O_CREAT | O_EXCL`` (atomic on POSIX file systems), so two ``train.py`` runs that Hydra
  gave the same directory (same second, same model) cannot share it; the second gets ``<run_dir>-1``
  (``-2``, ...), with its own copy of the Hydra config.
* :meth:`Run.mark_complete` writes the completion marker (JSON: time, the run's artefacts and their
  sizes) atomically, *after* every other artefact; :meth:`Run.update_latest` then points ``latest``
  at the run by renaming a new symlink over it (``os.replace``: readers see the old run or the new
  one, never a missing link) and rewrites ``latest.txt``.
* :func:`resolve_run` / :func:`latest_complete` are what ``evaluate.py run=latest`` and
  ``run=<model>`` use: incomplete runs are skipped.

File names: :mod:`taulc.runs.files`.
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import socket
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from taulc.errors import TaulcError
from taulc.fileio import atomic_write_bytes, atomic_write_json, atomic_write_text, read_json
from taulc.runs import files as F
from taulc.runs.dataset import write_dataset_record
from taulc.runs.results import append_results

__all__ = ["Run", "RunError", "claim_new_dir", "latest_complete", "resolve_run", "runs_below", "discard_refused_run"]

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]


class RunError(TaulcError, FileNotFoundError):
    """A named run directory is missing or incomplete."""


@dataclass(frozen=True)
class Run:
    """A training-run directory: the paths of its files, reading them and writing them.

    Every writer is atomic (a temporary file renamed into place); :meth:`mark_complete` comes last.
    """

    path: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))

    # ------------------------------------------------------------------ paths
    @property
    def metrics_path(self) -> Path:
        return self.path / F.METRICS

    @property
    def predictions_path(self) -> Path:
        return self.path / F.PREDICTIONS

    @property
    def model_path(self) -> Path:
        return self.path / F.MODEL

    @property
    def predictor_path(self) -> Path:
        return self.path / F.PREDICTOR

    @property
    def card_path(self) -> Path:
        return self.path / F.CARD

    @property
    def dataset_record_path(self) -> Path:
        return self.path / F.DATASET_RECORD

    @property
    def marker_path(self) -> Path:
        return self.path / F.MARKER

    @property
    def owner_path(self) -> Path:
        return self.path / F.OWNER

    @property
    def config_path(self) -> Path:
        return self.path / F.CONFIG

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / F.CHECKPOINTS

    @property
    def latest_path(self) -> Path:
        """The ``latest`` symlink of the runs directory (the run's parent)."""
        return self.path.parent / F.LATEST

    @property
    def latest_txt_path(self) -> Path:
        return self.path.parent / F.LATEST_TXT

    @property
    def results_path(self) -> Path:
        """The runs directory's results table (``train.py results_table=`` may name another)."""
        return self.path.parent / F.RESULTS

    # ------------------------------------------------------------------ state and reading
    @property
    def is_complete(self) -> bool:
        """A finished ``train.py`` run: completion marker, metrics and the Hydra config present."""
        return self.marker_path.is_file() and self.metrics_path.is_file() and self.config_path.is_file()

    def read_metrics(self) -> dict[str, Any]:
        return read_json(self.metrics_path)

    def read_predictions(self) -> dict[str, np.ndarray]:
        """The test predictions (the model's output names) and the truth (``true_<name>``), fully loaded."""
        with np.load(self.predictions_path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}

    def prediction_names(self) -> tuple[str, ...]:
        """The array names of the saved test predictions (without loading them)."""
        with np.load(self.predictions_path, allow_pickle=False) as z:
            return tuple(z.files)

    def read_config(self) -> dict[str, Any]:
        """The run's composed config, interpolations resolved (:class:`ValueError` naming the file if they fail)."""

        raw = OmegaConf.load(self.config_path)
        try:
            return OmegaConf.to_container(raw, resolve=True)
        except Exception as exc:
            raise ValueError(f"{self.config_path}: cannot resolve the run's config ({exc})") from exc

    # ------------------------------------------------------------------ writing
    @classmethod
    def claim(cls, run_dir: PathLike, config: Any = None) -> Run:
        """Own ``run_dir`` (or the first free ``run_dir-N`` if another run owns it).

        ``config`` (the run's composed config) is written to the claimed directory's Hydra config:
        Hydra writes it at start-up, and two runs given one directory write it over each other.
        """
        base = cls(run_dir)
        if base._try_claim():
            base._write_config(config)
            return base
        for k in range(1, 10_000):
            cand = cls(base.path.with_name(f"{base.path.name}-{k}"))
            try:
                cand.path.mkdir(parents=True, exist_ok=False)
            except FileExistsError:
                continue
            if cand._try_claim():
                hydra = base.path / F.HYDRA_DIR
                if hydra.is_dir():  # Hydra's other files (hydra.yaml, overrides.yaml)
                    shutil.copytree(hydra, cand.path / F.HYDRA_DIR, dirs_exist_ok=True)
                cand._write_config(config)
                return cand
        raise RuntimeError(f"{base.path}: could not create a unique run directory")  # pragma: no cover

    def _try_claim(self) -> bool:
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.owner_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w") as fh:
            fh.write(json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "time": time.time()}) + "\n")
        return True

    def _write_config(self, config: Any) -> None:
        """This run's own composed config (another run may have overwritten Hydra's copy)."""
        if config is None:
            return

        cfg = config if isinstance(config, DictConfig) else OmegaConf.create(dict(config))
        atomic_write_bytes(self.config_path, OmegaConf.to_yaml(cfg).encode())

    def write_metrics(self, metrics: Mapping[str, Any]) -> Path:
        return atomic_write_json(self.metrics_path, metrics)

    def write_predictions(self, pred: Mapping[str, np.ndarray], truth: Mapping[str, np.ndarray]) -> Path:
        """Save the test predictions under their output names and the truth as ``true_<name>`` (uncompressed)."""
        arrays = {**pred, **{f"true_{k}": v for k, v in truth.items()}}
        buf = io.BytesIO()
        np.savez(buf, **{k: np.asarray(v) for k, v in arrays.items()})
        return atomic_write_bytes(self.predictions_path, buf.getvalue())

    def write_card(self, text: str) -> Path:
        return atomic_write_text(self.card_path, text)

    def write_dataset_record(self, dataset_dir: PathLike) -> Path:
        """Record the dataset the run is trained on (:func:`taulc.runs.dataset.write_dataset_record`)."""

        return write_dataset_record(self.path, dataset_dir)

    def append_result(self, row: Mapping[str, Any], table: PathLike | None = None) -> Path:
        """Append the run's row (``time`` and ``run_dir`` filled in) to ``table`` (default :attr:`results_path`)."""

        path = Path(table) if table else self.results_path
        append_results(path, {"time": time.strftime("%Y-%m-%d %H:%M:%S"), "run_dir": str(self.path), **row})
        return path

    def mark_complete(self, config: Any = None) -> Path:
        """Write the completion marker (atomically): the last file of a finished run (``config`` rewritten first)."""
        self._write_config(config)
        sizes = {
            str(p.relative_to(self.path)): p.stat().st_size
            for p in sorted(self.path.iterdir())
            if p.is_file() and p.name != F.MARKER
        }
        atomic_write_json(self.marker_path, {"completed": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "files": sizes})
        return self.marker_path

    def update_latest(self) -> Path:
        """Point the runs directory's ``latest`` at this run, atomically, and rewrite ``latest.txt``.

        The new link is made under a unique temporary name and renamed over ``latest`` (``os.replace``,
        one ``rename(2)``), so ``latest`` always resolves to a complete run: the previous one, then this
        one. A ``latest`` that is not a symlink (a real directory) or a file system without symlinks
        keeps ``latest.txt`` only.
        """
        atomic_write_text(self.latest_txt_path, f"{self.path}\n")
        link = self.latest_path
        tmp = link.with_name(f".{F.LATEST}.{uuid.uuid4().hex}.tmp")
        try:
            tmp.symlink_to(self.path.name)  # relative: the runs directory can move
            os.replace(tmp, link)
        except OSError as exc:
            log.warning("%s not updated (%s); %s names the latest run", link, exc, self.latest_txt_path)
            tmp.unlink(missing_ok=True)
        return link


def claim_new_dir(base: PathLike) -> Path:
    """Create and return a directory that did not exist: ``base``, else ``base-1``, ``base-2``, ...

    ``mkdir`` without ``exist_ok`` is atomic, so two processes started in the same second (whose
    Hydra run directories, ``..._%H-%M-%S``, are equal) get two directories. The root configs use it
    through the ``taulc_claim`` resolver (:func:`taulc.hydra_app.register_resolvers`) in ``hydra.run.dir``;
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


def latest_complete(root: PathLike) -> Path | None:
    """The most recently completed run under ``root`` (any depth), or None."""
    cands = [Run(p.parent) for p in Path(root).glob(f"**/{F.MARKER}")]
    cands = [r for r in cands if r.is_complete]
    return max(cands, key=lambda r: r.marker_path.stat().st_mtime_ns).path if cands else None


def resolve_run(spec: PathLike | None, runs_root: PathLike = "runs") -> Path | None:
    """A run directory from ``spec``: a path, ``latest`` (newest complete run of any model under ``runs_root``),
    a model name (newest complete run under ``runs_root/<model>``) or None / 'null' (no run).

    Only complete runs count (the marker is written last), so a killed or still running training is
    skipped by ``latest`` and refused when named."""
    if spec is None or str(spec).lower() in ("", "null", "none"):
        return None
    root = Path(runs_root)
    s = str(spec)
    if s == F.LATEST:
        best = latest_complete(root)
        if best is None:
            raise RunError(f"run=latest: no complete run ({F.MARKER} marker, {F.METRICS}, {F.CONFIG}) under {root.resolve()}")
        return best.resolve()
    p = Path(s)
    if not p.exists() and (root / s).exists():
        p = root / s
    run = Run(p)
    if p.is_dir() and not run.is_complete and not run.metrics_path.exists():
        run = Run(latest_complete(p) or p)
    if not run.is_complete:
        raise RunError(
            f"run={s}: {run.path} is not a complete train.py run (expected {F.MARKER}, {F.METRICS} and "
            f"{F.CONFIG}; a run without the marker was killed or is still running)"
        )
    return run.path.resolve()


def runs_below(paths: Sequence[PathLike]) -> Iterator[Run]:
    """Every run with metrics at or below ``paths`` (run directories, multirun directories or metrics files)."""
    for p in map(Path, paths):
        if p.name == F.METRICS:
            yield Run(p.parent)
        else:
            yield from (Run(m.parent) for m in sorted(p.rglob(F.METRICS)))


def discard_refused_run(run_dir: PathLike | None, stop: PathLike | None = None) -> None:
    """Remove the run directory of a refused command (it holds only Hydra's files, an owner file and logs),
    then the parents this left empty, up to ``stop`` (default: the working directory), so a refused
    ``taulc-simulate`` / ``taulc-build`` / ``evaluate.py`` leaves no ``outputs/...`` or ``reports/...`` behind."""
    if run_dir is None:
        return
    d = Path(run_dir).resolve()
    if not d.is_dir() or not all(p.name in (F.HYDRA_DIR, F.OWNER) or p.suffix == ".log" for p in d.iterdir()):
        return
    shutil.rmtree(d, ignore_errors=True)
    top = Path(stop or os.getcwd()).resolve()
    p = d.parent
    while p != top and top in p.parents:
        try:
            p.rmdir()  # only if empty
        except OSError:
            break
        p = p.parent
