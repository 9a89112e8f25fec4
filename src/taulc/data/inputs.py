"""The one input path: a configuration -> exactly the arrays a model sees.

Training (the derived caches of :mod:`taulc.data.derived`, read by the
datamodules of :mod:`taulc.data.datamodules`) and serving
(:class:`taulc.predict.Predictor`) both build their model inputs here, so the
two cannot drift apart (``tests/test_data_inputs.py`` checks that they agree
for ridge, SVM, MLP and GNN):

* **tabular** (ridge, SVM, MLP; GNN node descriptors): :func:`descriptor_matrix`,
  the descriptor families of ``descriptor`` (g_l^m of Yu, Zeng & Wang 2025,
  Eqs. 9-13, and the others of :func:`taulc.structure.featurize`) as a
  C-contiguous float32 (N, F) matrix and its column names;
* **graph** (GNN): :func:`graph_edges` (edge_index (2, E) int64, edge_attr
  (E, 4) float32 = (r_target - r_source, |r|) in the shear frame, minimum image
  under the tilt) and :func:`model_graph`, the PyG ``Data`` of
  :func:`taulc.structure.build_graph` (docs/CONTRACTS.md).

The graph radius has one default, :data:`DEFAULT_GRAPH_RADIUS`, read from a
config by :func:`dataset_graph_radius` (``dataset.graph_radius``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from taulc.structure.features import featurize, required_positions
from taulc.structure.graphs import DEFAULT_GRAPH_RADIUS, build_graph, edge_features
from taulc.utils import to_plain

__all__ = [
    "DEFAULT_GRAPH_RADIUS",
    "descriptor_matrix",
    "descriptor_positions",
    "dataset_graph_radius",
    "graph_edges",
    "model_graph",
    "POSITION_FIELDS",
]

POSITION_FIELDS = {"inherent": "positions_inherent", "cage": "positions_cage"}
"""Shard field of each stored position set (:class:`taulc.data.specs.CagePositionsSpec`)."""


def dataset_graph_radius(cfg: Mapping[str, Any] | None) -> float:
    """``dataset.graph_radius`` of a composed (train/build/evaluate) config, else :data:`DEFAULT_GRAPH_RADIUS`."""
    ds = (cfg or {}).get("dataset") or {}
    r = ds.get("graph_radius")
    return float(DEFAULT_GRAPH_RADIUS if r is None else r)


def descriptor_matrix(
    positions: np.ndarray,
    species: np.ndarray,
    cell: np.ndarray,
    descriptor: Mapping[str, Any] | None,
    position_sets: Mapping[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, list[Any]]:
    """Per-particle descriptors (N, F) float32 (C order) and their names (``FeatureName`` objects).

    ``position_sets``: ``{"inherent": ..., "cage": ...}`` for families computed on the positions of
    the cage (:func:`descriptor_positions` says which a descriptor needs; shards store them as
    ``positions_inherent`` / ``positions_cage``, the predictor computes them, :mod:`taulc.md.cage`).
    """
    x, names = featurize(positions, species, cell, to_plain(descriptor), position_sets=position_sets)
    return np.ascontiguousarray(x, dtype=np.float32), list(names)


def descriptor_positions(descriptor: Mapping[str, Any] | None) -> list[str]:
    """The position sets other than the snapshot that ``descriptor`` reads: a subset of ``["inherent", "cage"]``."""
    return [p for p in required_positions(to_plain(descriptor)) if p != "instantaneous"]


def graph_edges(positions: np.ndarray, cell: np.ndarray, radius: float = DEFAULT_GRAPH_RADIUS) -> tuple[np.ndarray, np.ndarray]:
    """(edge_index (2, E) int64, edge_attr (E, 4) float32) of all pairs within ``radius`` (cacheable)."""
    return edge_features(positions, cell, float(radius))


#: The GNN's input graph (PyG ``Data``): :func:`taulc.structure.build_graph` itself, with
#: ``edges=`` from the derived cache in training and computed on the fly when serving.
model_graph = build_graph
