"""Neighbour lists under a tilted periodic cell: brute-force references, slabs, errors."""

from __future__ import annotations

import numpy as np
import pytest

from taulc.structure.neighbors import (
    iter_neighbor_blocks,
    minimum_image,
    neighbor_list,
    perpendicular_widths,
    validate_system,
    wrap_positions,
)
from tests.helpers.structure_reference import all_images, brute_pairs, random_tilted_box


def _pair_keys(i, j, vec):
    return sorted(zip(np.asarray(i).tolist(), np.asarray(j).tolist(), map(tuple, np.round(vec, 8).tolist())))


@pytest.fixture(scope="module")
def small_box():
    return random_tilted_box(40, 1.2, 0.4, np.random.default_rng(3))


@pytest.mark.parametrize("cutoff", [1.2, 4.5])  # 4.5 > box widths (~3): several images of each pair
def test_full_list_matches_brute_force(small_box, cutoff):
    pos, _, cell = small_box
    assert 1.2 < 0.5 * perpendicular_widths(cell).min() and 4.5 > perpendicular_widths(cell).max()
    pl = neighbor_list(pos, cell, cutoff, full=True)
    assert np.allclose(np.linalg.norm(pl.vectors, axis=1), pl.distances)
    ref_i, ref_j, ref_v = [], [], []
    for i, j, v in brute_pairs(pos, cell, cutoff):
        ref_i += [i] * len(j)
        ref_j += j.tolist()
        ref_v.append(v)
    assert _pair_keys(pl.i, pl.j, pl.vectors) == _pair_keys(ref_i, ref_j, np.concatenate(ref_v))


@pytest.mark.parametrize("max_pairs", [10**9, 300])
def test_blocks_give_every_directed_pair_once(small_box, max_pairs):
    pos, _, cell = small_box
    cutoff = 3.7
    got_i, got_j, got_v = [], [], []
    centres = []
    for block in iter_neighbor_blocks(pos, cell, cutoff, max_pairs=max_pairs):
        c, nb, v, d = block.directed()
        assert np.all(np.isin(c, block.centers))
        assert np.allclose(np.linalg.norm(v, axis=1), d)
        centres.append(block.centers)
        got_i.append(c)
        got_j.append(nb)
        got_v.append(v)
    if max_pairs == 300:
        assert len(centres) > 1  # really used the slab decomposition
    assert np.array_equal(np.sort(np.concatenate(centres)), np.arange(len(pos)))
    ref = neighbor_list(pos, cell, cutoff, full=True)
    assert _pair_keys(np.concatenate(got_i), np.concatenate(got_j), np.concatenate(got_v)) == _pair_keys(
        ref.i, ref.j, ref.vectors
    )


def test_minimum_image_and_wrap(small_box):
    pos, _, cell = small_box
    rng = np.random.default_rng(0)
    v = rng.uniform(-10, 10, (200, 3))
    mi = minimum_image(v, cell)
    imgs = all_images(v, cell, 20.0)
    ref = imgs[np.arange(len(v)), np.argmin(np.linalg.norm(imgs, axis=-1), axis=1)]
    assert np.allclose(mi, ref)
    shifted = pos + rng.integers(-3, 4, (len(pos), 3)) @ cell
    assert np.allclose(wrap_positions(shifted, cell), wrap_positions(pos, cell))


def test_bad_input_errors():
    pos = np.zeros((3, 3))
    with pytest.raises(ValueError, match="cell"):
        validate_system(pos, np.eye(2))
    upper = np.eye(3)
    upper[0, 1] = 0.3
    with pytest.raises(ValueError, match="lower-triangular"):
        validate_system(pos, upper)
    with pytest.raises(ValueError, match="species"):
        validate_system(pos, np.eye(3), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="positions"):
        validate_system(np.zeros((3, 2)), np.eye(3))
