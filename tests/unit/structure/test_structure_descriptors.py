"""g_l^m (Eq. 9), coarse-graining (Eqs. 11-13) and featurize: brute-force references and symmetries.

Reference tolerance: |fast - brute| <= 1e-6 |brute| + 1e-9 max|brute| elementwise
(relative 1e-6 on every element that is not ~0 at double precision).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from taulc.structure import (
    FeatureName,
    RadialGrid,
    all_lm,
    coarse_grain,
    coarse_graining_matrix,
    featurize,
    glm_descriptors,
    real_sph_harm,
)
from tests.helpers import REPO
from tests.helpers.structure_reference import brute_coarse, brute_glm, random_tilted_box, real_ylm_scipy

LM = [(0, 0), (2, -2), (1, 1), (3, -2), (6, 5)]  # default pair + odd l (reverse-direction parity) + high l
GRID = RadialGrid(0.3, 0.1, 48)


def assert_close(fast, ref, rtol=1e-6, atol_rel=1e-9):
    fast, ref = np.asarray(fast), np.asarray(ref)
    atol = atol_rel * np.abs(ref).max()
    bad = np.abs(fast - ref) > rtol * np.abs(ref) + atol
    assert not bad.any(), f"{bad.sum()} elements differ; max abs diff {np.abs(fast - ref).max():.3g}"


@pytest.fixture(scope="module")
def box():
    # N = 60 in a ~3.9 box with tilt 0.3: r up to 5.5 reaches several periodic images
    return random_tilted_box(60, 1.2, 0.3, np.random.default_rng(7))


@pytest.fixture(scope="module")
def glm_ref(box):
    pos, sp, cell = box
    return brute_glm(pos, sp, cell, LM, GRID.values)


def test_real_harmonics_match_scipy():
    v = np.random.default_rng(0).standard_normal((500, 3))
    lm = all_lm(6)
    y = real_sph_harm(v, lm)
    for c, (l, m) in enumerate(lm):
        assert np.allclose(y[:, c], real_ylm_scipy(v, l, m), atol=1e-12), (l, m)
    # m = -2 is the xy-symmetric one, odd under x -> -x
    c22 = lm.index((2, -2))
    r2 = (v**2).sum(1)
    assert np.allclose(y[:, c22], 0.5 * math.sqrt(15 / math.pi) * v[:, 0] * v[:, 1] / r2)
    vm = v * [-1, 1, 1]
    assert np.allclose(real_sph_harm(vm, [(2, -2)])[:, 0], -y[:, c22])


@pytest.mark.parametrize("max_pairs", [10**9, 2000])  # one periodic block / z-slabs with halo images
def test_glm_matches_brute_force(box, glm_ref, max_pairs):
    pos, sp, cell = box
    fast = glm_descriptors(pos, sp, cell, LM, GRID, max_pairs=max_pairs)
    assert fast.shape == (60, len(LM), 2, 48)
    assert_close(fast, glm_ref)


def test_translation_and_stored_image_invariance(box):
    pos, sp, cell = box
    ref = glm_descriptors(pos, sp, cell, LM)
    rng = np.random.default_rng(1)
    moved = pos + rng.uniform(-3, 3, 3)  # across the periodic boundary
    assert_close(glm_descriptors(moved, sp, cell, LM), ref, rtol=1e-9)
    lattice = pos + rng.integers(-2, 3, (len(pos), 3)) @ cell  # each particle stored in another image
    assert_close(glm_descriptors(lattice, sp, cell, LM), ref, rtol=1e-9)


def test_rotation_90_about_z_in_cubic_box():
    rng = np.random.default_rng(2)
    length = 50 ** (1 / 3)
    cell = np.eye(3) * length
    pos = rng.random((50, 3)) * length
    sp = rng.integers(0, 2, 50)
    rot = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # (x, y) -> (-y, x): maps the cube to itself
    lm = [(0, 0), (2, -2)]
    a = glm_descriptors(pos, sp, cell, lm)
    b = glm_descriptors(pos @ rot.T, sp, cell, lm)
    assert_close(b[:, 0], a[:, 0], rtol=1e-9)  # g_0^0 invariant
    assert_close(b[:, 1], -a[:, 1], rtol=1e-9)  # xy -> -xy


def test_isolated_cluster_arbitrary_rotation():
    rng = np.random.default_rng(4)
    n = 30
    pts = rng.uniform(-2.0, 2.0, (n, 3))
    sp = rng.integers(0, 2, n)
    cell = np.eye(3) * 30.0  # images are > 5.5 away: an isolated cluster
    q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    a = glm_descriptors(pts + 15.0, sp, cell, [(0, 0)])
    b = glm_descriptors(pts @ q.T + 15.0, sp, cell, [(0, 0)])
    assert_close(b, a, rtol=1e-9)


def test_mirror_x_flips_g2m2_with_tilt(box):
    pos, sp, cell = box
    mirrored_cell = cell.copy()
    mirrored_cell[1, 0] = -cell[1, 0]  # x -> -x maps b = (xy, Ly, 0) to (-xy, Ly, 0); a = (Lx,0,0) ~ -a
    mirrored = pos * [-1.0, 1.0, 1.0]
    lm = [(0, 0), (2, -2)]
    a = glm_descriptors(pos, sp, cell, lm)
    b = glm_descriptors(mirrored, sp, mirrored_cell, lm)
    assert_close(b[:, 0], a[:, 0], rtol=1e-9)
    assert_close(b[:, 1], -a[:, 1], rtol=1e-9)


def test_coarse_graining_matches_brute_force(box):
    pos, sp, cell = box
    x0 = np.random.default_rng(5).standard_normal((len(pos), 7))
    w = coarse_graining_matrix(pos, cell, 4.0)
    assert np.allclose(np.asarray(w.sum(axis=1)).ravel(), 1.0)
    assert_close(coarse_grain(x0, w, 2), brute_coarse(pos, cell, x0, 4.0, 2), rtol=1e-9)


def test_coarse_graining_keeps_constant_features(box):
    pos, _, cell = box
    x0 = np.tile(np.arange(1.0, 6.0), (len(pos), 1))
    xx = coarse_grain(x0, coarse_graining_matrix(pos, cell, 4.0), 2)
    assert np.allclose(xx[:, 5:10], x0) and np.allclose(xx[:, 10:15], x0)


def test_featurize_default_is_eq13(box):
    pos, sp, cell = box
    x, names = featurize(pos, sp, cell, {})
    assert x.shape == (60, 576) and len(names) == 576 and x.dtype == np.float64
    g = brute_glm(pos, sp, cell, [(0, 0), (2, -2)], GRID.values).reshape(60, -1)
    assert_close(x[:, :192], g)
    assert_close(x, brute_coarse(pos, cell, g, 4.0, 2))
    assert names[0] == FeatureName("gl", 0, 0, 0, 0, 0.3)
    assert names[96] == FeatureName("gl", 0, 2, -2, 0, 0.3)
    assert names[48 + 10] == FeatureName("gl", 0, 0, 0, 1, 1.3)
    assert names[-1] == FeatureName("gl", 2, 2, -2, 1, 5.0)
    assert str(names[-1]) == "gl gen=2 l=2 m=-2 s=s r=5.00"
    assert len(set(names)) == 576


def test_featurize_configs_compose(box):
    pytest.importorskip("hydra")
    from hydra import compose, initialize_config_dir

    pos, sp, cell = box
    conf = REPO / "src" / "taulc" / "conf" / "descriptor"
    with initialize_config_dir(str(conf), version_base=None):
        cfg_gl = compose("gl")
        cfg_both = compose("gl_caging")
        cfg_full = compose("gl_full", overrides=["families.gl.r_max=1.0"])
    x, names = featurize(pos, sp, cell, cfg_gl)
    assert x.shape == (60, 576) and x.dtype == np.float32
    xb, nb = featurize(pos, sp, cell, cfg_both)
    assert xb.shape == (60, 579) and nb[:576] == names
    assert np.allclose(xb[:, :576], x, rtol=1e-6)
    assert [n.family for n in nb[576:]] == ["caging"] * 3 and [n.species for n in nb[576:]] == [0, 1, None]
    xf, nf = featurize(pos, sp, cell, cfg_full)
    assert xf.shape == (60, 49 * 2 * 8)
    assert [(n.l, n.m) for n in nf[::16]] == all_lm(6)


def test_featurize_bad_config(box):
    pos, sp, cell = box
    with pytest.raises(ValueError, match="unknown family"):
        featurize(pos, sp, cell, {"families": {"soft": {}}})
    with pytest.raises(ValueError, match="unknown options"):
        featurize(pos, sp, cell, {"families": {"gl": {"sigma": 1}}})
    with pytest.raises(ValueError, match="temperature"):
        featurize(pos, sp, cell, {"families": [{"name": "caging"}]})
