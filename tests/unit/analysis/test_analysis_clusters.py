"""Appendix A grid method: Eq. A1 convolution (periodic, tilted box) and planted clusters."""

from __future__ import annotations

import numpy as np

from taulc.analysis.clusters import circle_clusters, eq_a1_direct, eq_a1_field, local_maxima, minimum_image


def _box(l: float = 10.0, tilt: float = 0.2) -> np.ndarray:
    return np.array([[l, 0, 0], [tilt * l, l, 0], [0, 0, l]])


def _uniform(cell: np.ndarray, n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(size=(n, 3)) @ cell


def test_eq_a1_matches_direct_sum_with_images():
    cell = _box()
    pos = _uniform(cell, 1500, 0)
    v = np.random.default_rng(1).normal(size=1500)
    f = eq_a1_field(pos, cell, v, n_grid=20, oversample=3)
    grid = f.coarse_positions()
    # points on every face and corner of the periodic box, plus the interior
    idx = np.array([[0, 0, 0], [19, 19, 19], [0, 10, 19], [19, 0, 5], [10, 10, 10], [3, 17, 0]])
    pts = grid[tuple(idx.T)]
    ref = eq_a1_direct(pos, cell, v, pts, f.length)
    got = f.coarse[tuple(idx.T)]
    assert np.max(np.abs(got - ref)) < 0.03  # deposition error, field std ~0.15
    # a sum without periodic images is visibly wrong at the faces: the test can tell
    w = np.exp(-np.linalg.norm(pts[:, None] - pos[None], axis=-1) / f.length)
    assert np.max(np.abs(w @ v / w.sum(1) - ref)) > 0.05


def test_eq_a1_translation_covariant():
    cell = _box(9.0, 0.3)
    pos = _uniform(cell, 800, 2)
    v = np.random.default_rng(3).normal(size=800)
    f = eq_a1_field(pos, cell, v, n_grid=10, oversample=3)
    shift = np.array([7, 11, 26]) / 30.0  # whole fine-grid cells along the lattice vectors
    moved = ((pos @ np.linalg.inv(cell) + shift) % 1.0) @ cell
    g = eq_a1_field(moved, cell, v, n_grid=10, oversample=3)
    np.testing.assert_allclose(g.fine, np.roll(f.fine, (7, 11, 26), axis=(0, 1, 2)), atol=1e-10)


def test_local_maxima_periodic():
    g = np.zeros((8, 8, 8))
    g[0, 0, 0] = 2.0
    g[4, 4, 7] = 1.0
    g[4, 4, 0] = 0.5  # neighbour of (4,4,7) across the boundary, not a maximum
    found = {tuple(i) for i in local_maxima(g)}
    assert found == {(0, 0, 0), (4, 4, 7)}


def test_planted_blobs_found_and_assigned():
    cell = _box(12.0, 0.25)
    pos = _uniform(cell, 9000, 4)
    centres = np.array([[0.3, 0.5, 11.8], [6.0, 6.0, 6.0], [9.0, 2.5, 3.0]])  # first one wraps across faces
    centres = ((centres @ np.linalg.inv(cell)) % 1.0) @ cell
    d = np.stack([np.linalg.norm(minimum_image(pos - c, cell), axis=1) for c in centres], axis=1)
    values = np.exp(-0.5 * (d / 1.2) ** 2).sum(1)
    members = values > 0.3
    field = eq_a1_field(pos, cell, values)
    region = field.coarse > 0.15
    cl = circle_clusters(pos, cell, values, members, region=region, field=field)
    assert cl.n_clusters == 3
    # each found centre lies within one grid cell of a distinct planted centre
    dc = np.linalg.norm(minimum_image(cl.centres[:, None] - centres[None], cell), axis=-1)
    match = dc.argmin(1)
    assert sorted(match) == [0, 1, 2] and dc.min(1).max() < 0.9
    # members go to the cluster of their own blob
    own = d.argmin(1)
    assert np.all(match[cl.labels[members]] == own[members])
    assert np.all(cl.labels[~members] == -1)
