"""Planted-signal synthetic data in the batch contract (tests, smoke runs, demos).

* :func:`planted_tabular` -- descriptors with a known linear ``ln tau`` and a
  slow/fast label from the same hyperplane.
* :func:`planted_graphs` -- small open-boundary particle graphs whose target
  is a shear-frame orientational sum ``sum_j ux uy`` (the g_2^{-2} symmetry),
  so only an orientation-aware model can learn it.

These are *not* physics; real data come from :mod:`taulc.data`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from scipy.spatial import cKDTree
from torch import Tensor
from torch.utils.data import Dataset
from torch_geometric.data import Data

__all__ = ["TensorDictDataset", "planted_tabular", "planted_graphs", "radius_edges"]


class TensorDictDataset(Dataset):
    """Rows of a dict of equal-length tensors; default collate yields dict batches."""

    def __init__(self, data: Mapping[str, Tensor]) -> None:
        lens = {k: len(v) for k, v in data.items()}
        if len(set(lens.values())) != 1:
            raise ValueError(f"columns have different lengths: {lens}")
        self.data = dict(data)
        self.n = next(iter(lens.values()))

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict[str, Tensor]:
        return {k: v[i] for k, v in self.data.items()}


def planted_tabular(
    n: int = 2000,
    n_features: int = 16,
    noise: float = 0.3,
    n_configs: int = 8,
    rates: tuple[float, ...] = (0.0, 0.01, 0.1),
    seed: int = 0,
) -> dict[str, Tensor]:
    """Tabular batch-contract columns with ``y = X w + c + noise``, ``cls = [y > median]``.

    Features have heterogeneous scales and offsets (standardisation matters).
    """
    rng = np.random.default_rng(seed)
    scale = rng.uniform(0.3, 3.0, n_features)
    offset = rng.normal(0.0, 2.0, n_features)
    x = rng.normal(size=(n, n_features)) * scale + offset
    w = rng.normal(size=n_features) / scale
    clean = (x - offset) @ w
    clean = clean / clean.std()
    y = 2.0 + clean + noise * rng.normal(size=n)
    cls = (y > np.median(y)).astype(np.int64)
    return {
        "x": torch.tensor(x, dtype=torch.float32),
        "y": torch.tensor(y, dtype=torch.float32),
        "cls": torch.tensor(cls),
        "mobility": torch.tensor(-clean + noise * rng.normal(size=n), dtype=torch.float32),
        "config_id": torch.tensor(rng.integers(0, n_configs, n)),
        "rate": torch.tensor(np.asarray(rates, dtype=np.float32)[rng.integers(0, len(rates), n)]),
        "species": torch.tensor((rng.random(n) < 0.2).astype(np.int64)),
    }


def radius_edges(pos: np.ndarray, radius: float) -> tuple[Tensor, Tensor]:
    """Both-direction edges within ``radius`` (open boundaries, k-d tree) and
    ``edge_attr = (dx, dy, dz, |r|)`` with ``d = pos[target] - pos[source]``."""
    pairs = cKDTree(pos).query_pairs(radius, output_type="ndarray")
    src = np.concatenate([pairs[:, 0], pairs[:, 1]])
    dst = np.concatenate([pairs[:, 1], pairs[:, 0]])
    vec = pos[dst] - pos[src]
    attr = np.concatenate([vec, np.linalg.norm(vec, axis=1, keepdims=True)], 1)
    return (torch.tensor(np.stack([src, dst]), dtype=torch.long), torch.tensor(attr, dtype=torch.float32))


def planted_graphs(
    n_graphs: int = 8,
    n_nodes: int = 40,
    box: float = 4.0,
    radius: float = 1.6,
    rate: float = 0.01,
    seed: int = 0,
    mask_fraction: float = 1.0,
) -> list:
    """Particle graphs with ``y_i = sum_j ux uy (1 - r/radius)`` over neighbours + species shift.

    Returns a list of PyG ``Data`` with the graph contract's fields
    (``species, pos, edge_index, edge_attr, y, cls, mobility, config_id,
    rate, mask``).
    """

    rng = np.random.default_rng(seed)
    graphs = []
    for g in range(n_graphs):
        pos = rng.uniform(0, box, (n_nodes, 3))
        species = (rng.random(n_nodes) < 0.3).astype(np.int64)
        ei, ea = radius_edges(pos, radius)
        u = ea[:, :3] / ea[:, 3:4]
        contrib = (u[:, 0] * u[:, 1] * (1 - ea[:, 3] / radius)).numpy()
        y = np.zeros(n_nodes)
        np.add.at(y, ei[1].numpy(), contrib)
        y = 3 * y + 0.5 * species
        cls = (y > 0).astype(np.int64)
        graphs.append(
            Data(
                species=torch.tensor(species),
                pos=torch.tensor(pos, dtype=torch.float32),
                edge_index=ei,
                edge_attr=ea,
                y=torch.tensor(y, dtype=torch.float32),
                cls=torch.tensor(cls),
                mobility=torch.tensor(-y, dtype=torch.float32),
                config_id=torch.full((n_nodes,), g),
                rate=torch.full((n_nodes,), rate),
                mask=torch.tensor(rng.random(n_nodes) < mask_fraction),
                num_nodes=n_nodes,
            )
        )
    return graphs
