"""Cage-jump detection (Zeng, Yu & Wang 2025, Eq. 11): planted jumps, censoring, affine correction, references.

Documented noise level: the cage is an OU process (correlation time 3
frames) with ``3 σ² = l_c²/4`` (plateau MSD ``6σ² = l_c²/2``, as in KA where
l_c² sits at the end of the plateau), jumps of length ``3 l_c`` at least 10 %
of the window away from its ends and 10 % apart.  At twice that noise
(plateau MSD = l_c²) there are still no false jumps, but ~0.3 % of cuts move
by 2-6 frames (tested as a bound).
"""

from __future__ import annotations

import numpy as np
import pytest

from taulc.dynamics.cage_jumps import (
    first_jump_frames,
    first_jump_frames_prefix_reference,
    first_jump_frames_reference,
    first_jump_times,
    lc2_from_msd,
    nonaffine_displacement,
    segment_trajectories,
    segment_trajectories_reference,
)
from taulc.dynamics.synthetic import caged_noise, planted_trajectories

LC2 = 0.057
LC = np.sqrt(LC2)
SIGMA = np.sqrt(LC2 / 12.0)  # 3σ² = l_c²/4
SIGMA_HARSH = np.sqrt(LC2 / 6.0)  # 3σ² = l_c²/2
DT = 0.1


@pytest.fixture(scope="module")
def planted():
    x, first = planted_trajectories(600, 500, cage_sigma=SIGMA, jump_length=3 * LC, frac_jumping=0.75, max_jumps=3, seed=1)
    return x, first


def test_planted_first_jumps_exact(planted):
    x, first = planted
    times = np.arange(x.shape[0]) * DT
    tau = first_jump_times(x, times, LC2)
    jumped = first >= 0
    # every planted jump found within one sampling interval (jump happens in (t[k-1], t[k]])
    t_planted = first[jumped] * DT  # first frame in the new cage
    assert np.all(np.isfinite(tau[jumped]))
    assert np.all(np.abs(tau[jumped] - t_planted) <= DT)
    # never-jumping particles are censored (NaN), not replaced by t_max
    assert np.all(np.isnan(tau[~jumped]))
    assert 0.15 < np.isnan(tau).mean() < 0.35


def test_harsh_noise_bound():
    x, first = planted_trajectories(1000, 500, cage_sigma=SIGMA_HARSH, jump_length=3 * LC, frac_jumping=0.75, seed=2)
    fr = first_jump_frames(x, LC2)
    j = first >= 0
    assert np.all(fr[~j] == -1)
    assert np.mean(np.abs(fr[j] - first[j]) <= 1) > 0.99


def test_out_and_back_excursion():
    """Jump out at 0.3 T and back at 0.6 T: detected at the way out (p ≈ 0.13 L² > l_c²)."""
    rng = np.random.default_rng(6)
    x = caged_noise(500, 100, SIGMA, rng=rng)
    x[150:300, :, 2] += 3 * LC
    assert np.all(first_jump_frames(x, LC2) == 150)


def test_no_false_jumps_without_jumps():
    rng = np.random.default_rng(3)
    x = caged_noise(1000, 2000, SIGMA_HARSH, corr_frames=5.0, rng=rng)
    assert np.all(first_jump_frames(x, LC2) == -1)
    assert segment_trajectories(x, LC2).particle.size == 0


def test_vectorised_matches_references(planted):
    x, _ = planted
    sub = x[:, :40]
    fast = first_jump_frames(sub, LC2, chunk_size=7)
    assert np.array_equal(fast, first_jump_frames_prefix_reference(sub, LC2))
    # literal O(F²) transcription of Eq. 11 on a shorter window
    short = x[:120, :12]
    assert np.array_equal(first_jump_frames(short, LC2), first_jump_frames_reference(short, LC2))


def test_full_segmentation_matches_reference_and_first_jump(planted):
    x, first = planted
    sub = x[:, :150]
    cj = segment_trajectories(sub, LC2, chunk_size=33)
    ref = segment_trajectories_reference(sub, LC2)
    assert np.array_equal(cj.particle, ref.particle)
    assert np.array_equal(cj.frame, ref.frame)
    np.testing.assert_allclose(cj.p, ref.p, rtol=1e-9)
    # the earliest cut of the full recursion is the left-chain first jump
    assert np.array_equal(cj.first_frame(), first_jump_frames(sub, LC2))
    # and the planted jump count is recovered for most particles
    assert cj.counts()[first[:150] < 0].sum() == 0


def test_earliest_jump_found_below_top_level_split():
    """A small early jump followed by a large late one: the top-level cut is the late
    jump, the first jump is only found by recursing into S1."""
    rng = np.random.default_rng(5)
    n, f = 200, 600
    x = caged_noise(f, n, SIGMA, rng=rng)
    x[150:, :, 0] += 3 * LC
    x[450:, :, 1] += 8 * LC
    fr = first_jump_frames(x, LC2)
    assert np.all(fr == 150)


def test_chunking_and_dtype_invariance(planted):
    x, _ = planted
    a = first_jump_frames(x, LC2, chunk_size=1000)
    b = first_jump_frames(x.astype(np.float32), LC2, chunk_size=17)
    assert np.mean(a == b) > 0.99


def test_affine_flow_has_zero_nonaffine_displacement():
    rng = np.random.default_rng(2)
    n, f, rate = 50, 300, 0.05
    t = np.arange(f) * DT
    r0 = rng.uniform(0, 10, (n, 3))
    u = np.repeat(r0[None], f, axis=0)
    u[:, :, 0] += rate * r0[None, :, 1] * t[:, None]
    na = nonaffine_displacement(t, u, rate)
    assert np.abs(na).max() < 1e-10
    # without the correction the flow would look like jumps
    assert (first_jump_frames(u - u[:1], LC2) >= 0).mean() > 0.5
    assert np.all(first_jump_frames(na, LC2) == -1)


def test_planted_jump_under_flow_detected():
    rng = np.random.default_rng(4)
    n, f, rate = 100, 400, 0.02
    t = np.arange(f) * DT
    noise = caged_noise(f, n, SIGMA, rng=rng)
    r0 = rng.uniform(0, 10, (n, 3))
    kj = rng.integers(60, 340, n)
    jump = np.zeros((f, n, 3))
    d = rng.normal(size=(n, 3))
    d *= 3 * LC / np.linalg.norm(d, axis=1, keepdims=True)
    jump += (np.arange(f)[:, None] >= kj[None])[:, :, None] * d[None]
    cage = r0[None] + jump  # cage centre (jumps in y change the streaming velocity)
    # integrate the affine drift of the cage centre exactly at the frames
    y = cage[:, :, 1]
    drift = np.zeros((f, n))
    drift[1:] = np.cumsum(rate * 0.5 * (y[1:] + y[:-1]) * DT, axis=0)
    u = cage + noise
    u[:, :, 0] += drift
    na = nonaffine_displacement(t, u, rate)
    fr = first_jump_frames(na, LC2)
    assert np.array_equal(fr, kj)


def test_lc2_from_msd_plateau_end():
    t = np.geomspace(0.01, 1000, 200)
    plateau, d = 0.03, 0.002
    msd = 3 * t**2 / (1 + t**2 / plateau * 3) + 6 * d * t  # ballistic -> plateau -> diffusive
    lc2 = lc2_from_msd(t, msd, method="slope")
    s = np.gradient(np.log(msd), np.log(t))
    t_star = np.interp(lc2, msd, t)
    assert plateau < lc2 < 4 * plateau
    assert abs(np.interp(t_star, t, s) - 0.5) < 0.05
    # default: MSD at the flattest point, below the slope criterion
    lp = lc2_from_msd(t, msd)
    assert lp == pytest.approx(msd[np.argmin(np.where(t > 0.1, s, 9))])
    assert lp < lc2
    assert lc2_from_msd(t, msd, method="alpha2", alpha2_peak_time=10.0) == pytest.approx(
        np.interp(np.log(10.0), np.log(t), msd), rel=0.02
    )


def test_bad_input_messages():
    with pytest.raises(ValueError, match=r"\(F, N, 3\)"):
        first_jump_frames(np.zeros((10, 3)), LC2)
    with pytest.raises(ValueError, match="lc2"):
        first_jump_frames(np.zeros((10, 2, 3)), -1.0)
