"""Torch first-jump detector (device labels of the batched engine) against the NumPy Candelier code."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from taulc.dynamics.cage_jumps import first_jump_frames, first_jump_times  # noqa: E402
from taulc.dynamics.cage_jumps_torch import (  # noqa: E402
    chunk_trajectories,
    first_jump_frames_torch,
    first_jump_times_torch,
)
from taulc.dynamics.synthetic import planted_trajectories  # noqa: E402

LC2 = 0.057


def test_planted_jumps_same_frames_as_numpy_and_found():
    x, first = planted_trajectories(400, 300, cage_sigma=0.05, jump_length=3 * np.sqrt(LC2), seed=4)
    ref = first_jump_frames(x, LC2)
    got = first_jump_frames_torch(torch.as_tensor(x), LC2).numpy()
    np.testing.assert_array_equal(got, ref)
    jumped = first >= 0
    assert np.all(np.abs(got[jumped] - first[jumped]) <= 1)  # the planted jump, within a frame
    assert np.all(got[~jumped] == -1)


def test_random_walks_batched_and_chunked_equal_numpy():
    """(B, F, N, 3) batches, odd chunk sizes, float32 input: frame for frame the NumPy result."""
    rng = np.random.default_rng(1)
    x = np.cumsum(rng.normal(0.0, 0.04, (3, 250, 90, 3)), axis=1)
    x[1, :, :10] = 0.0  # particles that never move: censored
    ref = np.stack([first_jump_frames(x[b], LC2) for b in range(3)])
    assert 0.2 < (ref >= 0).mean() < 1.0
    for chunk in (None, 1, 37):
        got = first_jump_frames_torch(torch.as_tensor(x), LC2, chunk_size=chunk).numpy()
        np.testing.assert_array_equal(got, ref)
    x32 = x.astype(np.float32)
    ref32 = np.stack([first_jump_frames(x32[b], LC2) for b in range(3)])
    np.testing.assert_array_equal(first_jump_frames_torch(torch.as_tensor(x32), LC2).numpy(), ref32)


def test_times_nan_for_censored_and_memory_chunks():
    rng = np.random.default_rng(2)
    x = np.cumsum(rng.normal(0.0, 0.03, (200, 40, 3)), axis=0)
    t = 0.05 * np.arange(200) + 3.0  # origin not at zero
    ref = first_jump_times(x, t, LC2)
    got = first_jump_times_torch(torch.as_tensor(x), torch.as_tensor(t), LC2).numpy()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_allclose(np.nan_to_num(got), np.nan_to_num(ref))
    assert chunk_trajectories(1000, memory_mb=1.0) == 6  # 20 float64 per (trajectory, frame)
    with pytest.raises(ValueError, match="lc2"):
        first_jump_frames_torch(torch.as_tensor(x), -1.0)
    with pytest.raises(ValueError, match="shape"):
        first_jump_frames_torch(torch.zeros(5, 3), LC2)
