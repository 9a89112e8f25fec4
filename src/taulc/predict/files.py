"""Predict whole files (every frame, streamed) and write their outputs all-or-nothing.

For an input ``<dir>/<stem>.<ext>`` three files appear in the output directory:

* ``<stem>.taulc.extxyz`` - every frame with per-atom predictions next to the input's own columns and
  info keys (OVITO: colour by ``H``); with ``out_format="lammps-dump"`` ``<stem>.taulc.dump`` (the
  input dump's lines plus prediction columns), with ``"gsd"`` ``<stem>.taulc.gsd`` (predictions in
  ``log/particles/taulc/*``), with ``"same"`` the input's own format (:mod:`taulc.predict.outputs`);
* ``<stem>.taulc.csv``    - one row per frame (geometry, p_H, H̄, means of the predictions);
* ``<stem>.taulc.png``    - hardness map of an x-y slab of the first (and last) frame,
  common colour bar (range fixed by the bundle so maps of different files compare).

They are written to temporary names and renamed only when every frame of the
file succeeded: a failing file leaves nothing behind.  Memory is bounded by one
frame plus two map slabs, whatever the trajectory length.  The map settings (:class:`MapOptions`) and
:data:`OUT_FORMATS` are defined, and checked, in :mod:`taulc.predict.config`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from taulc.data.formats import resolve_format
from taulc.data.ingest import InputError
from taulc.errors import TaulcError
from taulc.fileio import atomic_write_bytes, publish, temp_beside
from taulc.models.outputs import SCORE
from taulc.predict.config import OUT_FORMATS, MapOptions
from taulc.predict.outputs import MapPanel, csv_bytes, gsd_frame, hardness_map, map_panel, write_dump_frame, write_extxyz_frame
from taulc.predict.predictor import Predictor
from taulc.validate import check_output_dir

log = logging.getLogger(__name__)

__all__ = [
    "MapOptions",
    "OUT_FORMATS",
    "check_outputs",
    "out_format_for",
    "output_paths",
    "predict_file",
    "predict_files",
    "SUFFIXES",
]

SUFFIXES = {
    "extxyz": ".taulc.extxyz",
    "lammps-dump": ".taulc.dump",
    "gsd": ".taulc.gsd",
    "csv": ".taulc.csv",
    "png": ".taulc.png",
}


def out_format_for(path: str | os.PathLike[str], out_format: str = "extxyz", fmt: str | None = None) -> str:
    """The per-atom output format of ``path`` (``same`` resolved from the input's format)."""
    if out_format not in OUT_FORMATS:
        raise InputError(f"--out-format {out_format!r}: expected one of {', '.join(OUT_FORMATS)}")
    if out_format != "same":
        return out_format

    try:
        f = resolve_format(path, fmt)
    except InputError:
        return "extxyz"  # the input's own error is reported when it is read
    return {"lammps-dump-text": "lammps-dump", "gsd": "gsd"}.get(f, "extxyz")


def output_paths(
    path: str | os.PathLike[str], out_dir: str | os.PathLike[str], out_format: str = "extxyz", fmt: str | None = None
) -> dict[str, Path]:
    """The files :func:`predict_file` writes for ``path``: the per-atom file (key ``atoms``), ``csv`` and ``png``."""
    stem = Path(path).name
    for ext in (".gz", ".extxyz", ".xyz", ".gsd", ".lammpstrj", ".lammpsdump", ".dump", ".data", ".lmp"):
        stem = stem[: -len(ext)] if stem.endswith(ext) and len(stem) > len(ext) else stem
    of = out_format_for(path, out_format, fmt)
    return {
        "atoms": Path(out_dir) / f"{stem}{SUFFIXES[of]}",
        "csv": Path(out_dir) / f"{stem}{SUFFIXES['csv']}",
        "png": Path(out_dir) / f"{stem}{SUFFIXES['png']}",
    }


class _Staged:
    """Temporary files next to their targets; renamed together on :meth:`commit`, removed otherwise."""

    def __init__(self, targets: dict[str, Path]) -> None:
        self.targets = targets
        self.tmp: dict[str, Path] = {}

    def __enter__(self) -> _Staged:
        for k, t in self.targets.items():
            self.tmp[k] = temp_beside(t, suffix=".tmp")
        return self

    def commit(self, keys: Iterable[str]) -> None:
        for k in keys:
            publish(self.tmp.pop(k), self.targets[k])

    def __exit__(self, *exc: Any) -> None:
        for p in self.tmp.values():
            p.unlink(missing_ok=True)


def _pooled(rows: Sequence[dict[str, Any]], path: Path) -> dict[str, Any]:
    """File-level row: particle-weighted means of every per-frame fraction/mean (= pooled over all particles)."""
    n = [r["n_atoms"] for r in rows]
    tot = float(sum(n))
    out: dict[str, Any] = {
        "file": str(path),
        "n_frames": len(rows),
        "n_atoms": rows[0]["n_atoms"] if len(set(n)) == 1 else "varies",
    }
    for k in rows[0]:
        if k.startswith("p_") or k.endswith("_mean"):
            out[k] = sum(r[k] * r["n_atoms"] for r in rows) / tot
    if "in_domain" in rows[0]:
        out["n_out_of_domain"] = sum(1 for r in rows if not r.get("in_domain", 1))
    return out


def predict_file(
    predictor: Predictor,
    path: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    fmt: str | None = None,
    allow_small_cell: bool = False,
    maps: MapOptions | None = None,
    progress: bool = True,
    out_format: str = "extxyz",
) -> dict[str, Any]:
    """Predict every frame of ``path``; write the per-atom file (``out_format``), CSV and PNG into ``out_dir``
    atomically; return the file row."""
    path = Path(path)
    maps = maps or MapOptions()
    of = out_format_for(path, out_format, fmt)
    targets = output_paths(path, out_dir, out_format, fmt)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    keys = ["atoms", "csv"] + (["png"] if maps.enabled else [])
    rows: list[dict[str, Any]] = []
    first: MapPanel | None = None
    last: MapPanel | None = None
    score = predictor.score_output
    frame_keys = [col for col, _ in score.summary] if score.task == SCORE else []  # p_H, H_mean of the SVM hardness
    info = {"model": predictor.model_name, "predictor": str(predictor.path or "")}
    with _Staged({k: targets[k] for k in keys}) as st:
        with _Writer(st.tmp["atoms"], of, predictor.symbols) as out:
            frames = tqdm(
                predictor.iter_predict(path, fmt=fmt, allow_small_cell=allow_small_cell),
                desc=path.name,
                unit="frame",
                disable=not progress,
                leave=False,
                dynamic_ncols=True,
            )
            for p in frames:
                s = p.summary()
                rows.append(s)
                extra = {k: s[k] for k in frame_keys if k in s}
                out.write(p, {**info, **extra})
                if maps.enabled:
                    pan = map_panel(p, score.name, maps.z, maps.thickness)
                    if first is None:
                        first = pan
                    else:
                        last = pan
        if not rows:
            raise InputError(f"{path}: no frames")
        atomic_write_bytes(st.tmp["csv"], csv_bytes(rows))
        if maps.enabled and first is not None:
            d = predictor.display
            vmin = maps.vmin if maps.vmin is not None else d.get("vmin", -1.0)
            vmax = maps.vmax if maps.vmax is not None else d.get("vmax", 1.0)
            if maps.vmax is not None and maps.vmin is None and score.task == SCORE:
                vmin = -maps.vmax
            sig = predictor.sigma
            hardness_map(
                [first] + ([last] if last is not None else []),
                str(st.tmp["png"]),
                score=score,
                vmin=float(vmin),
                vmax=float(vmax),
                diameters=(sig[0, 0], sig[1, 1]),
            )
        st.commit(keys)
    row = _pooled(rows, path)
    row.update({f"out_{of if k == 'atoms' else k}": str(targets[k]) for k in keys})
    log.info("%s: %d frame(s) -> %s", path, len(rows), ", ".join(str(targets[k].name) for k in keys))
    return row


class _Writer:
    """The per-atom output file of one input, frame by frame, in one of :data:`OUT_FORMATS`."""

    def __init__(self, path: Path, out_format: str, symbols: Sequence[str]) -> None:
        self.path, self.format, self.symbols = path, out_format, symbols
        self._fh: Any = None

    def __enter__(self) -> _Writer:
        if self.format == "gsd":
            try:
                import gsd.hoomd
            except ImportError:
                raise InputError("--out-format gsd needs the 'gsd' package (pip install gsd)") from None
            self._fh = gsd.hoomd.open(str(self.path), "w")
        else:
            self._fh = open(self.path, "w")  # closed in __exit__
        return self

    def write(self, p: Any, info: dict[str, Any]) -> None:
        if self.format == "gsd":
            self._fh.append(gsd_frame(p, self.symbols, info))
        elif self.format == "lammps-dump":
            write_dump_frame(self._fh, p, self.symbols)
        else:
            write_extxyz_frame(self._fh, p, self.symbols, info)

    def __exit__(self, *exc: Any) -> None:
        if self._fh is not None:
            self._fh.close()


def check_outputs(paths: Sequence[str | os.PathLike[str]], out: Path, out_format: str = "extxyz", fmt: str | None = None) -> None:
    """Refuse before any work: an unusable ``--out``, two inputs with one output name, an output that is an input."""

    try:
        check_output_dir(out, "--out")
    except TaulcError as exc:
        raise InputError(str(exc).replace("field '--out'", "--out")) from None
    inputs = {Path(p).resolve(): Path(p) for p in paths}
    seen: dict[Path, Path] = {}
    out_format_for(paths[0] if paths else ".", out_format, fmt)  # an unknown --out-format is refused first
    for p in paths:
        for t in output_paths(p, out, out_format, fmt).values():
            if t.resolve() in inputs:
                raise InputError(
                    f"{p}: its output {t} would overwrite the input {inputs[t.resolve()]}; choose another --out directory"
                )
        t = output_paths(p, out, out_format, fmt)["csv"]
        if t in seen:
            raise InputError(f"{seen[t]} and {p} would write the same outputs ({t.name}); rename one or run them separately")
        seen[t] = Path(p)


def predict_files(
    predictor: Predictor,
    paths: Sequence[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    *,
    progress: bool = True,
    **kwargs: Any,
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Predict several files; a failing file is reported and skipped. Returns (rows of the good files, {file: error})."""
    out = Path(out_dir)
    check_outputs(paths, out, kwargs.get("out_format", "extxyz"), kwargs.get("fmt"))
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    failed: dict[str, str] = {}
    for p in tqdm(paths, desc="files", unit="file", disable=not progress or len(paths) < 2, dynamic_ncols=True):
        try:
            rows.append(predict_file(predictor, p, out, progress=progress, **kwargs))
        except InputError as exc:
            failed[str(p)] = str(exc)
            log.error("%s", exc)
        except Exception as exc:  # report and carry on with the other files
            failed[str(p)] = f"{p}: {type(exc).__name__}: {exc}"
            log.error("%s: unexpected %s: %s", p, type(exc).__name__, exc, exc_info=log.isEnabledFor(logging.DEBUG))
    if rows:
        atomic_write_bytes(out / "summary.csv", csv_bytes(rows))
    elif created and not any(out.iterdir()):
        out.rmdir()
    return rows, failed
