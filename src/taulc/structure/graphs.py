"""Particle graphs for GNNs: one PyG ``Data`` per configuration.

Edges join every pair closer than ``radius`` (default :data:`DEFAULT_GRAPH_RADIUS`
= 2.0, the one default of ``dataset.graph_radius``), both directions,
one edge per periodic image (only relevant when ``radius`` exceeds half the
box, in which case a pair may have several edges with different vectors).
PyG's ``source_to_target`` convention: ``edge_index[0]`` = source j,
``edge_index[1]`` = target i (messages flow j -> i).

``edge_attr[:, :3]`` is the vector **from the source to the target node**
(docs/CONTRACTS.md), i.e. ``pos[target] - pos[source]`` = r_i - r_j taken at
the periodic image within the radius (minimum image under the tilt), in the
lab/shear frame (x flow, y gradient); ``edge_attr[:, 3]`` is its length.
No dense N x N tensor is ever built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from taulc.structure.neighbors import DEFAULT_MAX_PAIRS, iter_neighbor_blocks, validate_system

if TYPE_CHECKING:  # torch / PyG are imported by build_graph only: the constant and edges stay light
    from torch_geometric.data import Data

__all__ = ["DEFAULT_GRAPH_RADIUS", "build_graph", "edge_features", "radius_edges"]

#: Default graph radius (σ_BB units): the single Python default behind ``dataset.graph_radius``.
DEFAULT_GRAPH_RADIUS: float = 2.0


def radius_edges(
    positions: np.ndarray, cell: np.ndarray, radius: float = DEFAULT_GRAPH_RADIUS, *, max_pairs: int = DEFAULT_MAX_PAIRS
) -> tuple[np.ndarray, np.ndarray]:
    """Directed edges within ``radius``: (edge_index (2, E) int64 [source, target], vec (E, 3) = r_target - r_source).

    Edges are sorted by target, then source.
    """
    pos, c, _ = validate_system(positions, cell)
    srcs, tgts, vecs = [], [], []
    for block in iter_neighbor_blocks(pos, c, radius, max_pairs=max_pairs):
        centre, neigh, vec, _ = block.directed()  # vec = r_neigh - r_centre
        srcs.append(neigh)
        tgts.append(centre)
        vecs.append(-vec)  # r_target - r_source
    if not srcs:
        return np.zeros((2, 0), dtype=np.int64), np.zeros((0, 3))
    src = np.concatenate(srcs)
    tgt = np.concatenate(tgts)
    vec = np.concatenate(vecs)
    order = np.lexsort((src, tgt))
    return np.stack([src[order], tgt[order]]).astype(np.int64), vec[order]


def edge_features(
    positions: np.ndarray, cell: np.ndarray, radius: float = DEFAULT_GRAPH_RADIUS, *, max_pairs: int = DEFAULT_MAX_PAIRS
) -> tuple[np.ndarray, np.ndarray]:
    """(edge_index (2, E) int64, edge_attr (E, 4) float32 = (dx, dy, dz, |r|)) as stored in graphs and caches."""
    if radius <= 0:
        raise ValueError(f"graph radius must be > 0, got {radius}")
    ei, vec = radius_edges(positions, cell, radius, max_pairs=max_pairs)
    attr = np.concatenate([vec, np.linalg.norm(vec, axis=1, keepdims=True)], axis=1).astype(np.float32)
    return np.asarray(ei, dtype=np.int64), attr


def build_graph(
    positions: np.ndarray,
    species: np.ndarray,
    cell: np.ndarray,
    radius: float = DEFAULT_GRAPH_RADIUS,
    x: np.ndarray | None = None,
    targets: Mapping[str, np.ndarray] | None = None,
    *,
    edges: tuple[np.ndarray, np.ndarray] | None = None,
    max_pairs: int = DEFAULT_MAX_PAIRS,
) -> Data:
    """PyG graph of a configuration.

    Node fields: ``species`` (N,) int64, ``pos`` (N, 3) float32 (as given), optional
    ``x`` (N, F) float32 descriptors, and one field per entry of ``targets``
    (arrays with leading dimension N; float -> float32, int/bool kept).
    Graph fields: ``edge_index`` (2, E), ``edge_attr`` (E, 4) = (dx, dy, dz, |r|)
    with (dx, dy, dz) = r_target - r_source (see module docstring), ``cell`` (1, 3, 3).
    ``edges``: precomputed ``(edge_index, edge_attr)`` of :func:`edge_features` with this
    ``radius`` (e.g. from a cache); computed here when omitted.
    """
    import torch
    from torch_geometric.data import Data

    pos, c, sp = validate_system(positions, cell, species)
    assert sp is not None
    if radius <= 0:
        raise ValueError(f"build_graph: radius must be > 0, got {radius}")
    n = pos.shape[0]
    ei, attr = edge_features(pos, c, radius, max_pairs=max_pairs) if edges is None else edges
    ei, attr = np.asarray(ei, dtype=np.int64), np.asarray(attr)
    if ei.ndim != 2 or ei.shape[0] != 2 or attr.shape != (ei.shape[1], 4):
        raise ValueError(f"build_graph: edges must be ((2, E), (E, 4)) arrays, got {ei.shape} and {attr.shape}")
    data = Data(
        species=torch.from_numpy(sp),
        pos=torch.from_numpy(pos.astype(np.float32)),
        edge_index=torch.from_numpy(np.ascontiguousarray(ei)),
        edge_attr=torch.from_numpy(np.ascontiguousarray(attr, dtype=np.float32)),
        cell=torch.from_numpy(c.astype(np.float32)).unsqueeze(0),
        num_nodes=n,
    )
    if x is not None:
        xa = np.asarray(x)
        if xa.ndim != 2 or xa.shape[0] != n:
            raise ValueError(f"build_graph: x must have shape (N={n}, F), got {xa.shape}")
        data.x = torch.from_numpy(np.ascontiguousarray(xa, dtype=np.float32))
    for name, val in (targets or {}).items():
        if name in data.keys() or name in ("x", "edge_index", "edge_attr"):
            raise ValueError(f"build_graph: target name {name!r} clashes with a graph field")
        arr = np.asarray(val)
        if arr.shape[:1] != (n,):
            raise ValueError(f"build_graph: targets[{name!r}] must have leading dimension N={n}, got {arr.shape}")
        if np.issubdtype(arr.dtype, np.floating):
            arr = arr.astype(np.float32)
        data[name] = torch.from_numpy(np.ascontiguousarray(arr))
    return data
