"""Convective clusters (Zeng, Yu & Wang 2025): demarcation of planted blobs, affine traceback,
Falk-Langer strain, characteristic times, jump-jump correlation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from taulc.dynamics.events import wrap_into_cell
from taulc.physics.clusters import (
    ClusterSet,
    DemarcationSettings,
    advect,
    background_threshold,
    characteristic_times,
    cluster_radius,
    convective_fraction,
    demarcate,
    iterate_threshold,
    jump_correlation,
    jump_density,
    life_cycle,
    sphere_region,
    traceback_labels,
)
from taulc.physics.falk_langer import (
    d2_min,
    deformation_gradient,
    deformation_gradients,
    shear_strain_increment,
)
from taulc.structure.neighbors import minimum_image

L = 20.0
CELL = np.array([[L, 0, 0], [6.0, L, 0], [0, 0, L]])  # tilted, as a sheared Lees-Edwards cell
SIGMAS = np.array([1.2, 1.6, 2.0])
CENTRES = np.array([[5.0, 0.4, 10.0], [15.0, 10.0, 4.0], [19.7, 15.0, 15.0]])  # two straddle a face
RHO0 = 4.0  # peak density of every blob (events / σ³)
BG = 0.02
D = 0.6
RHO_TH = 0.25


def planted_events(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    parts = []
    for c, s in zip(CENTRES, SIGMAS):
        n = rng.poisson(RHO0 * (2 * math.pi) ** 1.5 * s**3)
        parts.append(c + rng.normal(0.0, s, (n, 3)))
    n_bg = rng.poisson(BG * L**3)
    parts.append(rng.random((n_bg, 3)) @ CELL)
    return wrap_into_cell(np.concatenate(parts), CELL)


def predicted_radius(sigma: float, rho_th: float, d: float = D) -> float:
    """Radius where the expected coarse-grained density (blob ⊗ e^{-r/d} kernel, by a direct
    Monte-Carlo sum over blob samples, + background) falls to rho_th."""
    rng = np.random.default_rng(99)
    samples = rng.normal(0.0, sigma, (100_000, 3))
    n = RHO0 * (2 * math.pi) ** 1.5 * sigma**3
    r = np.linspace(0.0, 4 * sigma, 161)
    line = np.stack([r, np.zeros_like(r), np.zeros_like(r)], axis=1)
    dist = np.linalg.norm(line[:, None, :] - samples[None, ::4], axis=2)
    rho = n * np.exp(-dist / d).mean(axis=1) / (8 * math.pi * d**3) + BG
    return float(np.interp(rho_th, rho[::-1], r[::-1]))


@pytest.fixture(scope="module")
def blobs():
    ev = planted_events()
    s = DemarcationSettings(d=D, grid_spacing=0.4, r_stz=1.0, sieve_spacing=None)
    return ev, s, demarcate(ev, CELL, s, rho_th=RHO_TH)


def test_density_integrates_to_event_count():
    ev = planted_events(1)
    rho = jump_density(ev, CELL, D, 40)
    assert rho.mean() * L**3 == pytest.approx(len(ev), rel=1e-9)


def test_demarcation_recovers_planted_blobs(blobs):
    _ev, _s, cl = blobs
    assert cl.n_clusters == 3
    # match found centres to planted ones (minimum image under the tilt)
    d = np.linalg.norm(minimum_image(cl.centres[:, None] - CENTRES[None], CELL), axis=2)
    match = np.argmin(d, axis=1)
    assert sorted(match) == [0, 1, 2]
    assert np.all(d[np.arange(3), match] < 0.3 * SIGMAS[match])
    r_pred = np.array([predicted_radius(sg, RHO_TH) for sg in SIGMAS])
    r_found = cl.radii[np.argsort(match)]
    np.testing.assert_allclose(r_found, r_pred, rtol=0.1)
    assert np.all(np.diff(r_found) > 0)


def test_background_iteration_lands_on_the_background():
    """The Methods' iteration (C = 10 %) on blobs over a dense, smooth background stops just below
    the background density, far below the blobs."""
    rng = np.random.default_rng(3)
    bg = 1.0
    ev = np.concatenate([planted_events(2), rng.random((int(bg * L**3), 3)) @ CELL])
    th = iterate_threshold(jump_density(ev, CELL, 1.4, 40), 0.10)
    assert 0.85 * bg < th < 1.05 * bg


def test_particles_labelled_by_cluster_and_sieve_keeps_blobs(blobs):
    ev, _s, cl = blobs
    lab = cl.label_of(CENTRES + CELL[1] - 2 * CELL[2])  # another periodic image of each centre
    assert np.all(lab > 0) and len(set(lab)) == 3
    sieved = demarcate(ev, CELL, DemarcationSettings(d=D, grid_spacing=0.4, r_stz=1.0, sieve_spacing=0.8), rho_th=RHO_TH)
    assert sieved.n_clusters == 3
    assert np.all(sieved.volumes <= sieved.coarse_volumes * 1.1)
    assert np.all(sieved.volumes > 0.3 * sieved.coarse_volumes)


def test_no_events_no_clusters():
    cl = demarcate(np.zeros((0, 3)), CELL, DemarcationSettings(d=D, grid_spacing=1.0))
    assert cl.n_clusters == 0 and not cl.labels.any()


def test_volume_limit_and_uniform_background():
    rng = np.random.default_rng(5)
    ev = rng.random((int(BG * L**3), 3)) @ CELL
    cl = demarcate(ev, CELL, DemarcationSettings(d=D, grid_spacing=0.4, r_stz=1.5, sieve_spacing=None))
    # Poisson background: whatever survives the lower volume limit C'V_stz is at least that large
    assert np.all(cl.volumes >= DemarcationSettings(r_stz=1.5).v_min)
    assert background_threshold([jump_density(ev, CELL, D, 40)]) == pytest.approx(
        iterate_threshold(jump_density(ev, CELL, D, 40))
    )


def test_traceback_of_planted_region_under_affine_shear_through_a_flip():
    rng = np.random.default_rng(2)
    lx = 10.0
    cell_ref = np.array([[lx, 0, 0], [3.0, lx, 0], [0, 0, lx]])
    region = sphere_region(cell_ref, np.array([5.0, 9.0, 5.0]), 2.5, n_grid=50)  # crosses the y face
    u_ref = rng.random((3000, 3)) @ cell_ref
    lab_ref = region.label_of(u_ref)
    assert 100 < lab_ref.sum() < 600
    dg = 0.85  # strain between t and t_ref: the tilt 3 - 8.5 is flipped to +4.5 at time t
    u_t = advect(u_ref, -dg)
    cell_t = cell_ref.copy()
    cell_t[1, 0] = 3.0 - dg * lx + lx
    u_t = wrap_into_cell(u_t, cell_t)
    got = traceback_labels(region, u_t, strain=1.0, strain_ref=1.0 + dg)
    np.testing.assert_array_equal(got, lab_ref)
    # without the affine correction the region would hold other particles
    assert (region.label_of(u_t) != lab_ref).sum() > 50


def test_falk_langer_affine_shear_gives_applied_strain():
    rng = np.random.default_rng(4)
    before = rng.normal(size=(200, 3)) * 2.0
    gamma = 0.037
    after = advect(before, gamma) + np.array([0.3, -1.0, 2.0])
    assert shear_strain_increment(before, after) == pytest.approx(gamma, abs=1e-12)
    j = deformation_gradient(before, after)
    np.testing.assert_allclose(j, np.eye(3) + gamma * np.outer([1, 0, 0], [0, 1, 0]), atol=1e-12)
    assert d2_min(before, after) == pytest.approx(0.0, abs=1e-20)
    noisy = after + rng.normal(0, 0.05, after.shape)
    assert abs(shear_strain_increment(before, noisy) - gamma) < 0.01


def test_life_cycle_of_affinely_sheared_cluster():
    """A cluster moving with the flow: constant membership, γ_c(t) = applied strain, R = 0."""
    rng = np.random.default_rng(6)
    lx, rate, nf = 10.0, 0.02, 41
    times = np.arange(nf) * 0.5
    strain = rate * times
    cell0 = np.diag([lx, lx, lx])
    u0 = rng.random((1500, 3)) * lx
    unwrapped = np.stack([advect(u0, g) for g in strain])
    tilt = strain * lx
    sigma = np.zeros((nf, 1500))
    for centre in ([5.0, 5.0, 5.0], [3.0, 9.5, 5.0]):  # the second straddles the Lees-Edwards (y) face
        region = sphere_region(frame_cell_at(cell0, tilt[-1]), np.array(centre), 2.5, n_grid=40)
        lc = life_cycle(region, 1, np.arange(nf), times, unwrapped, strain, sigma, np.ones(1500), strain_ref=strain[-1])
        np.testing.assert_allclose(lc.gamma, strain - strain[0], atol=1e-10)
        assert np.all(lc.n_members == lc.n_members[0]) and lc.n_members[0] > 50
        # no stress maximum -> t_0 undefined -> referenced to the first frame: the same strain
        np.testing.assert_allclose(lc.gamma_t0, strain - strain[0], atol=1e-10)
        np.testing.assert_allclose(lc.applied, strain - strain[0], atol=1e-12)


def test_gamma_c_both_ways_on_a_planted_load_yield_cycle():
    """A cluster strained affinely with the flow, whose particles are shuffled at t_2 = 10
    (a rearrangement that forgets the t_0 arrangement) while the flow goes on: the strain
    referenced to t_0 rises as γ̇ (t − t_0) and drops to ≈ 0 at t_2; the incremental sum of
    Eq. 5-7 keeps rising (it is ≈ γ̇ t by construction, Fig. 2a's drop cannot show)."""
    rng = np.random.default_rng(11)
    lx, rate, nf = 10.0, 0.1, 41
    times = np.arange(nf) * 0.5
    strain = rate * times
    u0 = rng.random((6000, 3)) * lx
    centre = np.array([5.0, 5.0, 5.0])
    inside = np.linalg.norm(u0 - centre, axis=1) < 2.8  # every member of the r = 2.5 region shuffled
    shuffled = u0.copy()
    shuffled[inside] = u0[inside][rng.permutation(inside.sum())]  # same region, arrangement forgotten
    unwrapped = np.stack([advect(u0 if t < 10.0 else shuffled, g) for t, g in zip(times, strain)])
    sigma = np.where(times < 4, 0.0, np.where(times <= 10, times - 4, 0.0))[:, None] * np.ones((1, 6000))
    # region in the flipped cell of the end frame (tilt 40 -> 0, as LAMMPS's flip yes would hold it)
    region = sphere_region(frame_cell_at(np.diag([lx] * 3), 0.0), advect(centre, strain[-1]), 2.5, n_grid=40)
    lc = life_cycle(region, 1, np.arange(nf), times, unwrapped, strain, sigma, np.ones(6000), strain_ref=strain[-1], smooth=1)
    assert 4.0 <= lc.t0 <= 5.0 and lc.t2 == pytest.approx(10.0, abs=0.5)
    i0, i2 = int(np.searchsorted(times, lc.t0)), int(np.searchsorted(times, 10.0))
    assert np.all(np.isnan(lc.gamma_t0[:i0]))
    np.testing.assert_allclose(lc.gamma_t0[i0:i2], strain[i0:i2] - strain[i0], atol=1e-10)  # elastic rise
    peak = lc.gamma_t0[i2 - 1]
    assert peak > 0.45
    # dropped to the noise of a fit to uncorrelated positions (M ≈ 390 members, ≈ 0.1; it then
    # grows as γ · (noise of J_yy), so only the 3 τ after the drop are checked)
    assert np.all(np.abs(lc.gamma_t0[i2 : i2 + 6]) < 0.35 * peak)
    assert lc.gamma[-1] > 0.7 * strain[-1]  # incremental: keeps following the flow, no drop


def test_deformation_gradients_equal_the_pairwise_fit():
    rng = np.random.default_rng(12)
    before = rng.normal(size=(60, 3))
    after = before[None] + rng.normal(0, 0.3, (5, 60, 3))
    j = deformation_gradients(before, after)
    for k in range(5):
        np.testing.assert_allclose(j[k], deformation_gradient(before, after[k]), atol=1e-12)


def test_convective_fraction_counts_live_clusters_only():
    """Two cluster sets (spheres) alive over different frames: P_c(t) = the fraction of particles
    inside the sets alive at t (union), 0 where none is alive; affine traceback applies."""
    rng = np.random.default_rng(13)
    lx, nf = 10.0, 30
    strain = 0.01 * np.arange(nf)
    u0 = rng.random((4000, 3)) * lx
    unwrapped = np.stack([advect(u0, g) for g in strain])
    cell = np.diag([lx] * 3)
    a = sphere_region(frame_cell_at(cell, strain[10] * lx), advect(np.array([3.0, 3.0, 3.0]), strain[10]), 2.0)
    b = sphere_region(frame_cell_at(cell, strain[20] * lx), advect(np.array([7.0, 7.0, 7.0]), strain[20]), 2.0)
    assert isinstance(a, ClusterSet)
    pc = convective_fraction([a, b], [10, 20], [(0, 10), (15, 20)], unwrapped, strain, np.array([5, 12, 18, 25]))
    in_a = np.linalg.norm(u0 - [3.0, 3.0, 3.0], axis=1) < 2.0
    in_b = np.linalg.norm(u0 - [7.0, 7.0, 7.0], axis=1) < 2.0
    np.testing.assert_allclose(pc, [in_a.mean(), 0.0, in_b.mean(), 0.0], atol=0.01)


def frame_cell_at(cell: np.ndarray, tilt: float) -> np.ndarray:
    c = cell.copy()
    c[1, 0] = tilt
    return c


def test_characteristic_times_of_a_load_yield_curve():
    t = np.linspace(0, 20, 201)
    s = np.where(
        t < 4,
        0.0,
        np.where(t < 10, 0.5 * (t - 4), np.where(t < 14, 3 + 0.1 * (t - 10), np.where(t < 15, 3.4 - 3.4 * (t - 14), 0.0))),
    )
    t0, t1, t2, t3 = characteristic_times(t, s, smooth=1)
    assert t0 == pytest.approx(4.0 + 0.68, abs=0.2)  # 10 % of the rise
    assert t1 == pytest.approx(10.0, abs=0.3)
    assert t2 == pytest.approx(14.0, abs=0.15)
    assert t3 == pytest.approx(14.9, abs=0.15)
    assert all(np.isnan(characteristic_times(t, t)))  # no maximum inside: no life cycle


def test_jump_correlation_uncorrelated_is_one():
    rng = np.random.default_rng(8)
    src = rng.random((300, 3)) @ CELL
    dst = rng.random((4000, 3)) @ CELL
    r, g, alpha = jump_correlation(src, dst, CELL, r_max=4.0, dr=0.5)
    assert np.all(np.abs(g[2:] - 1.0) < 0.1)
    # anisotropy of an isotropic field: zero after the Poisson-noise subtraction, within that noise
    noise = 72 / (300 * len(dst) / L**3 * 4 / 3 * np.pi * np.diff(np.r_[0, r + 0.25] ** 3))
    assert np.all(np.abs(alpha[2:]) < 3 * noise[2:] * np.sqrt(2 / 72))
    # a planted anisotropy (targets only along ±x of each source) is far above that noise
    dst2 = src[rng.integers(0, 300, 4000)] + np.outer(rng.choice([-1, 1], 4000) * rng.uniform(0.5, 4, 4000), [1, 0, 0])
    _, _, alpha2 = jump_correlation(src, wrap_into_cell(dst2, CELL), CELL, r_max=4.0, dr=0.5)
    assert np.all(alpha2[2:] > 10 * 3 * noise[2:] * np.sqrt(2 / 72))
    assert cluster_radius(np.array([4 / 3 * np.pi * 8.0])) == pytest.approx(2.0)
