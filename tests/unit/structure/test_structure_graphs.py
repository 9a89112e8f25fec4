"""PyG graphs: edges vs brute-force pairs, minimum-image vectors (direction: source -> target)."""

from __future__ import annotations

import numpy as np
import pytest

from taulc.structure import build_graph, minimum_image
from tests.helpers.structure_reference import all_images


@pytest.fixture(scope="module")
def config():
    rng = np.random.default_rng(9)
    n = 150
    length = (n / 1.2) ** (1 / 3)  # ~5.0 > 2 x radius: minimum image is unique
    cell = np.array([[length, 0, 0], [0.45 * length, length, 0], [0, 0, length]])
    pos = rng.random((n, 3)) @ cell
    return pos, rng.integers(0, 2, n), cell


def test_edges_match_brute_force(config):
    pos, sp, cell = config
    radius = 2.0
    data = build_graph(pos, sp, cell, radius)
    src, tgt = data.edge_index.numpy()
    # brute force: every ordered pair (i != j) whose shortest image is within the radius
    d = np.linalg.norm(all_images(pos[None, :, :] - pos[:, None, :], cell, radius), axis=-1).min(-1)
    ref = {(int(a), int(b)) for a, b in zip(*np.nonzero((d < radius) & ~np.eye(len(pos), dtype=bool)))}
    got = list(zip(src.tolist(), tgt.tolist()))
    assert len(got) == len(set(got)) == len(ref)  # no duplicates, same count
    assert set(got) == ref
    assert {(b, a) for a, b in got} == set(got)  # both directions
    vec = data.edge_attr[:, :3].numpy().astype(np.float64)
    expect = minimum_image(pos[tgt] - pos[src], cell)  # from the source to the target node
    assert np.allclose(vec, expect, atol=1e-5)
    assert np.allclose(data.edge_attr[:, 3].numpy(), np.linalg.norm(expect, axis=1), atol=1e-5)
    assert data.species.dtype.is_floating_point is False and data.num_nodes == len(pos)


def test_features_and_targets_attached(config):
    pos, sp, cell = config
    n = len(pos)
    x = np.random.default_rng(0).standard_normal((n, 5))
    tg = {"y": np.arange(n, dtype=np.float64), "cls": (np.arange(n) % 2).astype(np.int64)}
    data = build_graph(pos, sp, cell, 1.5, x=x, targets=tg)
    assert data.x.shape == (n, 5) and str(data.x.dtype) == "torch.float32"
    assert np.allclose(data.y.numpy(), tg["y"]) and data.cls.dtype.is_floating_point is False
    with pytest.raises(ValueError, match="leading dimension"):
        build_graph(pos, sp, cell, 1.5, targets={"y": np.zeros(n - 1)})
    with pytest.raises(ValueError, match="x must have shape"):
        build_graph(pos, sp, cell, 1.5, x=np.zeros((n + 1, 2)))
