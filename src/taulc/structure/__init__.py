"""taulc.structure: neighbour lists (periodic, tilted), descriptors, coarse-graining, graphs.

Entry points: :func:`featurize` (config-driven descriptor families, Eqs. 9-13 of
the core paper and the caging depth of Sharma, Nandi & Bhattacharyya 2022), :func:`coarse_grain`,
:func:`build_graph` (PyG; imported lazily), :func:`neighbor_list` /
:func:`iter_neighbor_blocks`. See docs/guide/descriptors.md.
"""

from __future__ import annotations

from typing import Any

from taulc.structure.caging import LJTable, caging_cutoffs, caging_depth
from taulc.structure.coarse import coarse_grain, coarse_graining_matrix
from taulc.structure.descriptors import glm_descriptors
from taulc.structure.features import FeatureName, featurize, parse_families
from taulc.structure.harmonics import all_lm, real_sph_harm
from taulc.structure.neighbors import (
    NeighborBlock,
    PairList,
    iter_neighbor_blocks,
    minimum_image,
    neighbor_list,
    perpendicular_widths,
    wrap_positions,
)
from taulc.structure.radial import RadialGrid

__all__ = [
    "FeatureName",
    "LJTable",
    "NeighborBlock",
    "PairList",
    "RadialGrid",
    "all_lm",
    "build_graph",
    "caging_cutoffs",
    "caging_depth",
    "coarse_grain",
    "coarse_graining_matrix",
    "featurize",
    "glm_descriptors",
    "iter_neighbor_blocks",
    "minimum_image",
    "neighbor_list",
    "parse_families",
    "perpendicular_widths",
    "radius_edges",
    "edge_features",
    "DEFAULT_GRAPH_RADIUS",
    "real_sph_harm",
    "wrap_positions",
]


def __getattr__(name: str) -> Any:  # lazy: torch_geometric is slow to import
    if name in ("build_graph", "radius_edges", "edge_features", "DEFAULT_GRAPH_RADIUS"):
        from taulc.structure import graphs  # noqa: PLC0415 - lazy: torch_geometric (PEP 562 attribute)

        return getattr(graphs, name)
    raise AttributeError(f"module 'taulc.structure' has no attribute {name!r}")
