"""Dataset storage: atomic writes, checksums, shards and the manifest.

Layout of ``datasets/<name>/``::

    manifest.json          resolved config, versions, seeds, per-shard checksums, label statistics
    shards/<shard>.npz     one configuration at one shear rate with its ICE labels (SHARD_FIELDS)
    cache/                 per-stage intermediate results (resumable builds) and the derived
                           descriptor / graph caches (taulc.data.derived); safe to delete

Every file is written to a temporary name in the same directory and renamed
into place (:mod:`taulc.fileio`), so a killed build never leaves a half-written file behind.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import Any

import numpy as np

from taulc.errors import TaulcError
from taulc.fileio import atomic_write_bytes, atomic_write_json, atomic_write_text, atomic_write_with
from taulc.fileio import read_json as _read_json

__all__ = [  # the atomic writers live in taulc.fileio; re-exported here for existing callers
    "FORMAT_VERSION",
    "SHARD_FIELDS",
    "DatasetError",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "atomic_write_with",
    "load_npz",
    "read_json",
    "save_npz",
    "sha256_file",
    "shard_id",
]

FORMAT_VERSION = 1
"""Bumped whenever the shard or manifest layout changes incompatibly."""

SHARD_FIELDS: dict[str, str] = {
    "positions": "(N,3) float64, Cartesian, box origin at 0",
    "species": "(N,) int64, 0 = big, 1 = small",
    "cell": "(3,3) float64, rows a=(Lx,0,0), b=(xy,Ly,0), c=(0,0,Lz)",
    "rate": "() float64, shear rate of the steady state the configuration was taken from",
    "config_index": "() int64, index of the configuration within its rate",
    "strain": "() float64, accumulated strain at the time origin",
    "tau_lc": "(N,) float64, ICE first-jump time with shear switched off (LJ time)",
    "tau_sh": "(N,) float64, ICE first-jump time with shear kept on (= tau_lc at rate 0)",
    "censored_lc": "(N,) float64, fraction of replicas without a jump before t_max (shear off)",
    "censored_sh": "(N,) float64, same with shear on",
    "first_jump_lc": "(R,N) float32 (float16 with dataset.first_jump_dtype), per-replica first-jump times, NaN = censored",
    "first_jump_sh": "(R,N) float32 (float16 with dataset.first_jump_dtype), per-replica first-jump times, NaN = censored",
    "mobility": "(K,N) float32, ICE mean squared non-affine displacement at mobility_times",
    "mobility_times": "(K,) float64",
    "slow": "(N,) int64, 1 if tau_lc - tau_sh >= tau_2 (Eq. 2) else 0",
    "tau_2, tau_alpha, lc2, t_max": "() float64, reference times used for these labels",
    "reliability_lc, reliability_sh": "() float64, Spearman-Brown split-half reliability of ln tau",
    "reliability_mobility": "(K,) float64",
    "seeds_lc, seeds_sh": "(R,) int64, replica velocity seeds",
    "positions_inherent": "(N,3) float32, inherent state (minimised at fixed cell; dataset.positions only)",
    "positions_cage": "(N,3) float32, mean position over a shear-off run of cage_window (dataset.positions only)",
    "is_energy, is_fnorm, is_iterations": "() inherent state: U/N, force 2-norm, minimiser iterations",
    "cage_window, cage_jump_fraction": "() float64, cage-averaging window and the fraction of first jumps inside it",
}


class DatasetError(TaulcError, RuntimeError):
    """A dataset on disk is missing, corrupt or incompatible; the message says which file and why."""


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            block = fh.read(chunk)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def save_npz(path: str | os.PathLike[str], arrays: dict[str, np.ndarray]) -> str:
    """Atomically save arrays as an uncompressed ``.npz``; returns the file's sha256."""
    buf = io.BytesIO()
    np.savez(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    data = buf.getvalue()
    atomic_write_bytes(path, data)
    return hashlib.sha256(data).hexdigest()


def load_npz(path: str | os.PathLike[str], required: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Load an ``.npz`` fully into memory, with a clear error for missing/corrupt files or fields."""
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"{path}: file is missing")
    try:
        with np.load(path, allow_pickle=False) as z:
            out = {k: z[k] for k in z.files}
    except Exception as exc:  # zipfile.BadZipFile, ValueError, EOFError ...
        raise DatasetError(f"{path}: unreadable or truncated npz ({exc})") from exc
    missing = [k for k in required if k not in out]
    if missing:
        raise DatasetError(f"{path}: missing field(s) {missing}")
    return out


def read_json(path: str | os.PathLike[str]) -> dict[str, Any]:
    """:func:`taulc.fileio.read_json` raising :class:`DatasetError` (missing file / bad JSON, naming the file)."""
    return _read_json(path, error=DatasetError)


def shard_id(rate: float, config_index: int) -> str:
    """Stable, sortable shard name, e.g. ``r1.000e-02_c003``."""
    return f"r{rate:.3e}_c{config_index:03d}"
