"""Derived per-shard data: descriptors and graph edges, cached by their config.

Shards hold what is expensive (configurations and ICE labels).  Descriptors
(Eqs. 9-13 and other families) and graph edges are recomputed from the shard's
positions in seconds, so they live in ``<root>/cache/features_<key>/`` and
``<root>/cache/graph_<key>/`` keyed by the descriptor config (or graph
radius) and by the shard checksum.  Changing descriptors never re-runs MD.
The arrays themselves come from :mod:`taulc.data.inputs`, the same functions
the predictor calls, so cached training inputs equal serving inputs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from taulc.data.inputs import POSITION_FIELDS, descriptor_matrix, descriptor_positions, graph_edges
from taulc.data.manifest import canonical_hash
from taulc.data.storage import DatasetError, atomic_write_json, load_npz, read_json, save_npz
from taulc.utils import available_cores
from taulc.utils import to_plain as _plain

log = logging.getLogger(__name__)


def descriptor_key(descriptor_cfg: Mapping[str, Any] | None) -> str:
    return canonical_hash(_plain(descriptor_cfg) or {})


def _featurize_shard(root: Path, entry: Mapping[str, Any], descriptor_cfg: Mapping[str, Any] | None, out: Path) -> list[Any]:
    """Descriptors of one shard into ``out`` (atomic); its feature names."""
    extra = descriptor_positions(descriptor_cfg)
    fields = tuple(POSITION_FIELDS[p] for p in extra)
    z = load_npz(root / entry["file"], ("positions", "species", "cell"))
    missing = [f for f in fields if f not in z]
    if missing:
        raise DatasetError(
            f"{root / entry['file']}: the descriptor reads the {', '.join(extra)} positions, but the shard "
            f"has no field(s) {missing}: build the dataset with dataset.positions "
            "(docs/guide/datasets.md) or choose a descriptor of the snapshot (descriptor=gl)"
        )
    sets = {p: np.asarray(z[f], dtype=np.float64) for p, f in zip(extra, fields)}
    x, names = descriptor_matrix(z["positions"], z["species"], z["cell"], descriptor_cfg, position_sets=sets)
    save_npz(out, {"features": x})
    return names


def featurize_jobs(n_todo: int) -> int:
    """Worker processes for ``n_todo`` shards: one per available core (``TAULC_FEATURIZE_JOBS`` overrides), at
    most ``n_todo``; 1 for fewer than 4 shards (a process pool costs ~1 s to start)."""

    env = os.environ.get("TAULC_FEATURIZE_JOBS", "").strip()
    n = int(env) if env.isdigit() and int(env) > 0 else available_cores()
    return 1 if n_todo < 4 else max(1, min(n, n_todo))


def shard_features(
    root: Path, manifest: Mapping[str, Any], descriptor_cfg: Mapping[str, Any] | None, progress: bool = True
) -> tuple[list[np.ndarray], list[str], list[dict[str, Any]]]:
    """Descriptor matrix of every shard (computed once, then cached): (arrays, names, name dicts).

    Missing shards are computed by :func:`featurize_jobs` processes side by side (each single-threaded
    numpy; the descriptors are independent per shard).
    """
    d = root / "cache" / f"features_{descriptor_key(descriptor_cfg)}"
    names_path = d / "feature_names.json"
    out: list[np.ndarray] = []
    todo = [s for s in manifest["shards"] if not (d / f"{s['id']}_{s['sha256'][:12]}.npz").exists()]
    jobs = featurize_jobs(len(todo))
    if todo:
        log.info("computing descriptors for %d shard(s) into %s (%d process%s)", len(todo), d, jobs, "es" if jobs > 1 else "")
    bar = tqdm(total=len(todo), desc="featurize", unit="shard", disable=not progress or not todo, dynamic_ncols=True)
    paths = [d / f"{s['id']}_{s['sha256'][:12]}.npz" for s in todo]
    if jobs > 1:
        from joblib import Parallel, delayed

        results = Parallel(n_jobs=jobs, return_as="generator_unordered")(
            delayed(_featurize_shard)(root, s, descriptor_cfg, p) for s, p in zip(todo, paths)
        )
    else:
        results = (_featurize_shard(root, s, descriptor_cfg, p) for s, p in zip(todo, paths))
    for names in results:
        bar.update(1)
        if not names_path.exists():
            atomic_write_json(names_path, {"names": [str(n) for n in names], "fields": [n.as_dict() for n in names]})
    bar.close()
    for s in manifest["shards"]:
        out.append(load_npz(d / f"{s['id']}_{s['sha256'][:12]}.npz", ("features",))["features"])
    meta = read_json(names_path)
    return out, meta["names"], meta["fields"]


def shard_graph(root: Path, entry: Mapping[str, Any], radius: float) -> tuple[np.ndarray, np.ndarray]:
    """(edge_index (2,E), edge_attr (E,4)) of one shard within ``radius`` (:func:`~taulc.data.inputs.graph_edges`, cached)."""
    d = root / "cache" / f"graph_{canonical_hash(float(radius))}"
    path = d / f"{entry['id']}_{entry['sha256'][:12]}.npz"
    if path.exists():
        z = load_npz(path, ("edge_index", "edge_attr"))
        return z["edge_index"], z["edge_attr"]
    z = load_npz(root / entry["file"], ("positions", "species", "cell"))
    ei, attr = graph_edges(z["positions"], z["cell"], float(radius))
    save_npz(path, {"edge_index": ei, "edge_attr": attr})
    return ei, attr


def all_graphs(
    root: Path, manifest: Mapping[str, Any], radius: float, progress: bool = True
) -> list[tuple[np.ndarray, np.ndarray]]:
    return [
        shard_graph(root, s, radius)
        for s in tqdm(manifest["shards"], desc="graphs", unit="shard", disable=not progress, dynamic_ncols=True)
    ]
