"""Cage-jump event streaming and p_hop (Sharma, Nandi & Bhattacharyya Eq. 2) on planted jumps."""

from __future__ import annotations

import numpy as np
import pytest

from taulc.dynamics.events import cage_events, iter_cage_events, wrap_into_cell
from taulc.dynamics.phop import hop_frames, phop, phop_reference, window_frames
from taulc.dynamics.synthetic import caged_noise

LC2 = 0.057
SIGMA = np.sqrt(LC2 / 12.0)
DT = 0.1
JUMP = 3 * np.sqrt(LC2)


@pytest.fixture(scope="module")
def planted():
    """120 particles, 400 frames, two jumps each at known frames with known vectors."""
    rng = np.random.default_rng(3)
    n, f = 120, 400
    x = caged_noise(f, n, SIGMA, rng=rng)
    frames = np.stack([rng.integers(60, 170, n), rng.integers(230, 340, n)])
    vecs = rng.normal(size=(2, n, 3))
    vecs *= JUMP / np.linalg.norm(vecs, axis=2, keepdims=True)
    t = np.arange(f)[:, None]
    for k in range(2):
        x += ((t >= frames[k][None, :])[:, :, None]) * vecs[k][None]
    return x, frames, vecs


def test_events_recover_planted_frames_and_jump_vectors(planted):
    x, frames, vecs = planted
    times = np.arange(x.shape[0]) * DT
    cell = np.diag([8.0, 8.0, 8.0])
    cell[1, 0] = 1.7
    ev = cage_events(x, x + 3.0, times, cell, LC2, chunk_size=32)
    assert len(ev) == 2 * x.shape[1]  # no false, no missed jumps
    fr = ev.frame.reshape(-1, 2)
    np.testing.assert_array_less(np.abs(fr - frames.T), 2)  # within one sampling interval
    jv = ev.jump.reshape(-1, 2, 3)
    err = np.linalg.norm(jv - vecs.transpose(1, 0, 2), axis=2)
    assert np.median(err) < 0.05 * JUMP and err.max() < 0.3 * JUMP
    np.testing.assert_allclose(ev.time, times[ev.frame])
    # event positions = unwrapped positions at the event frame, wrapped into the (tilted) cell
    pos = wrap_into_cell((x + 3.0)[ev.frame, ev.particle], cell)
    np.testing.assert_allclose(ev.position, pos)
    frac = ev.position @ np.linalg.inv(cell)
    assert (frac >= 0).all() and (frac < 1).all()


def test_windowed_streaming_matches_full_segmentation(planted):
    x, _, _ = planted
    times = np.arange(x.shape[0]) * DT
    cell = np.eye(3) * 8.0
    full = cage_events(x, x, times, cell, LC2)
    chunks = list(iter_cage_events(x, x, times, cell, LC2, chunk_size=50, window=250, overlap=120))
    assert len(chunks) == 3  # 120 particles in chunks of 50
    win = type(full).concat(chunks)
    np.testing.assert_array_equal(win.particle, full.particle)
    assert np.abs(win.frame - full.frame).max() <= 1
    np.testing.assert_allclose(win.jump, full.jump, atol=0.1 * JUMP)


def test_wrap_into_cell_per_frame_tilt():
    cell = np.diag([5.0, 6.0, 7.0])
    r = np.array([[1.0, 7.0, 1.0], [1.0, 7.0, 1.0]])
    out = wrap_into_cell(r, cell, tilt=np.array([0.0, 2.0]))
    np.testing.assert_allclose(out[0], [1.0, 1.0, 1.0])
    np.testing.assert_allclose(out[1], [4.0, 1.0, 1.0])  # y image shifts x by -tilt: 1 - 2 + 5


def test_phop_matches_reference_and_peaks_at_planted_jumps(planted):
    x, frames, _ = planted
    times = np.arange(x.shape[0]) * DT
    t_r = 4.0  # 20 frames either side
    h = window_frames(t_r, DT)
    p = phop(x, times, t_r, chunk_size=17, form="length2")  # Candelier's length² form
    np.testing.assert_allclose(p[:, :5], phop_reference(x[:, :5], h), rtol=1e-9, atol=1e-12)
    # Sharma, Nandi & Bhattacharyya's Eq. 2 as printed (the default) is its square root, a length
    np.testing.assert_allclose(phop(x, times, t_r, chunk_size=17), np.sqrt(p), rtol=1e-12, equal_nan=True)
    assert np.isnan(p[:h]).all() and np.isnan(p[-h:]).all()
    # the maximum of p_hop around each planted jump sits at the jump (first frame in the new cage ± 1)
    for k in range(2):
        lo = frames[k] - 40
        seg = np.stack([p[a : a + 81, i] for i, a in enumerate(lo)])
        peak = lo + np.argmax(seg, axis=1)
        assert np.abs(peak - frames[k]).max() <= 2
        assert np.median(np.abs(peak - frames[k])) <= 1
    # in a cage p_hop ~ the cage variance 3σ² = l_c²/4; at a jump ~ |jump|² + 3σ² (= 9.25 l_c²)
    assert np.nanmedian(p[:50]) == pytest.approx(0.25 * LC2, rel=0.25)
    at = p[frames[0], np.arange(x.shape[1])]
    assert np.median(at) > 5 * LC2
    fr, _pa = hop_frames(p, threshold=LC2, min_separation=h)
    assert len(fr) == 2 * x.shape[1]
    np.testing.assert_array_less(np.abs(fr.reshape(-1, 2) - np.sort(frames.T, axis=1)), 3)


def test_phop_bad_input():
    with pytest.raises(ValueError, match="uniformly"):
        phop(np.zeros((5, 2, 3)), np.array([0, 1, 2, 4, 5.0]), 1.0)
    with pytest.raises(ValueError, match=r"\(F, N, 3\)"):
        phop(np.zeros((5, 2)), np.arange(5.0), 1.0)
