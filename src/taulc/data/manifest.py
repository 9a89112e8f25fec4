"""The dataset manifest: what was built, from which config, with which code.

``manifest.json`` records the resolved config (and its hash), package and
engine versions, the equilibrium reference times, feature names, every shard
with its checksum, seeds and label statistics, and per-rate summaries (η,
p_slow, censored fractions...).  :func:`check_compatible` refuses data built
by another format version or from a different config, naming what differs.
"""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import taulc
from taulc.data.storage import FORMAT_VERSION, DatasetError, read_json, sha256_file
from taulc.utils import str_keys
from taulc.utils import to_plain as _plain

MANIFEST = "manifest.json"


def dataset_identity(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a full config a dataset depends on: what ``manifest.json`` ``config`` holds and its
    ``config_hash`` covers (``system``, ``dataset``, ``labels``, less the keys that do not change the data)."""
    out = {k: _plain(cfg[k]) for k in ("system", "dataset", "labels") if k in cfg}
    if "system" in out:  # documentation-only keys do not change the physics
        out["system"] = {k: v for k, v in out["system"].items() if k not in ("tau_alpha", "symbols")}
    if "dataset" in out:
        out["dataset"] = {k: v for k, v in out["dataset"].items() if k not in ("graph_radius",)}
    if "labels" in out:  # where the replicas run does not change the labels; the engine does
        lab = {k: v for k, v in out["labels"].items() if k not in ("device", "batch_replicas")}
        if lab.get("engine", "lammps") == "lammps":  # LAMMPS labels keep their pre-engine-option hash
            lab = {k: v for k, v in lab.items() if k not in ("engine", "thermostat")}
        out["labels"] = lab
    return out


def dataset_hash(cfg: Mapping[str, Any]) -> str:
    """``config_hash`` a dataset built from ``cfg`` has in its manifest."""
    return canonical_hash(dataset_identity(cfg))


def shards_digest(man: Mapping[str, Any]) -> str:
    """One hash of the shard ids and checksums a manifest lists (changes when the data are rebuilt)."""
    return canonical_hash([[s.get("id"), s.get("sha256")] for s in man.get("shards", [])])


def canonical_hash(obj: Any) -> str:
    """sha256 of the canonical JSON of ``obj`` (sorted keys), first 16 hex digits."""
    blob = json.dumps(str_keys(obj), sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages a result depends on (``absent`` when not installed)."""
    out = {"python": platform.python_version()}
    for pkg in (
        "taulc",
        "numpy",
        "scipy",
        "lammps",
        "openmm",
        "ase",
        "gsd",
        "vesin",
        "torch",
        "torch-geometric",
        "lightning",
        "scikit-learn",
    ):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "absent"
    return out


def git_commit(path: str | Path | None = None) -> str:
    """The git commit of the taulc source tree (``<sha>``, ``<sha>+dirty`` with uncommitted changes to tracked
    files), or ``not a git checkout`` (an installed wheel, no git)."""

    where = Path(path) if path is not None else Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "-C", str(where), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        if sha.returncode != 0:
            return "not a git checkout"
        dirty = subprocess.run(
            ["git", "-C", str(where), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return "not a git checkout"
    return sha.stdout.strip() + ("+dirty" if dirty.returncode == 0 and dirty.stdout.strip() else "")


def provenance(dataset_root: str | Path | None = None) -> dict[str, Any]:
    """Where a result came from: taulc version and git commit, the dataset (name, manifest sha256, config hash,
    shard digest) and the versions of Python, torch, LAMMPS, OpenMM, ... (a run's metrics, bundle and model card)."""

    out: dict[str, Any] = {"taulc_version": taulc.__version__, "git_commit": git_commit()}
    if dataset_root is not None:
        root = Path(dataset_root)
        ds: dict[str, Any] = {"name": root.name, "dir": str(root)}
        man = root / "manifest.json"
        if man.is_file():
            m = read_json(man)
            ds.update(manifest_sha256=sha256_file(man), config_hash=m.get("config_hash"), shards_digest=shards_digest(m))
        out["dataset"] = ds
    out["versions"] = package_versions()
    return out


def flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def config_diff(a: Mapping[str, Any], b: Mapping[str, Any], limit: int = 8) -> list[str]:
    """Human-readable list of keys whose values differ between two nested configs."""
    fa, fb = flatten(str_keys(a)), flatten(str_keys(b))
    diffs = []
    for k in sorted(set(fa) | set(fb)):
        if fa.get(k, "<absent>") != fb.get(k, "<absent>"):
            diffs.append(f"{k}: built with {fa.get(k, '<absent>')!r}, requested {fb.get(k, '<absent>')!r}")
    if len(diffs) > limit:
        diffs = diffs[:limit] + [f"... and {len(diffs) - limit} more"]
    return diffs


def read_manifest(root: str | Path) -> dict[str, Any]:
    root = Path(root)
    path = root / MANIFEST
    if not path.exists():
        raise DatasetError(
            f"{path}: no dataset manifest here. Build the dataset first, e.g. `python -m taulc.build dataset={root.name}`"
        )
    man = read_json(path)
    for key in ("format_version", "config", "config_hash", "shards"):
        if key not in man:
            raise DatasetError(f"{path}: manifest field '{key}' is missing")
    return man


def check_compatible(man: Mapping[str, Any], root: str | Path, config: Mapping[str, Any] | None = None) -> None:
    """Raise DatasetError if the manifest's format or config does not match."""
    path = Path(root) / MANIFEST
    fv = man.get("format_version")
    if fv != FORMAT_VERSION:
        raise DatasetError(
            f"{path}: dataset format_version {fv!r} was written by taulc {man.get('taulc_version', '?')}; "
            f"this taulc reads format_version {FORMAT_VERSION}. Rebuild it with `python -m taulc.build`."
        )
    if config is not None and canonical_hash(str_keys(dict(config))) != man["config_hash"]:
        diff = config_diff(man["config"], config)
        raise DatasetError(
            f"{path}: dataset was built from a different config ({'; '.join(diff)}). "
            "Rebuild it (`python -m taulc.build ...` with the same overrides) or point to the matching dataset."
        )
