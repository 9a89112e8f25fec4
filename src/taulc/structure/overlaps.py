"""Overlapping particles: two particles closer than :data:`OVERLAP_RATIO` · σ_αβ make a configuration invalid.

Used on ingested configurations (:func:`taulc.data.ingest_checks.check_configurations`) and on every frame a
predictor is applied to (:class:`taulc.predict.Predictor`).
"""

from __future__ import annotations

import numpy as np

from taulc.structure.neighbors import neighbor_list

__all__ = ["OVERLAP_RATIO", "find_overlaps", "overlap_message"]

OVERLAP_RATIO = 0.5
"""Two particles closer than OVERLAP_RATIO · σ_αβ make a configuration invalid (LJ energy > 1.6·10⁴ ε)."""


def find_overlaps(
    positions: np.ndarray, species: np.ndarray, cell: np.ndarray, sigma: np.ndarray
) -> tuple[int, int, int, float, float]:
    """Pairs closer than :data:`OVERLAP_RATIO` σ_αβ: (count, i, j, distance, threshold) of the worst, count 0 if none."""

    sigma = np.asarray(sigma, dtype=float)
    pairs = neighbor_list(np.asarray(positions, dtype=np.float64), cell, OVERLAP_RATIO * float(sigma.max()), full=False)
    if not len(pairs):
        return 0, -1, -1, float("nan"), float("nan")
    thr = OVERLAP_RATIO * sigma[species[pairs.i], species[pairs.j]]
    bad = np.flatnonzero(pairs.distances < thr)
    if not bad.size:
        return 0, -1, -1, float("nan"), float("nan")
    k = bad[np.argmin(pairs.distances[bad] / thr[bad])]
    return int(bad.size), int(pairs.i[k]), int(pairs.j[k]), float(pairs.distances[k]), float(thr[k])


def overlap_message(where: str, found: tuple[int, int, int, float, float]) -> str:
    """The user-facing message for :func:`find_overlaps`' result ``found`` in ``where`` (a file and frame)."""
    n, i, j, d, t = found
    return (
        f"{where}: {n} overlapping pair(s): particles {i} and {j} (0-based, file/id order) are {d:.4g} apart, "
        f"below {OVERLAP_RATIO:g} sigma = {t:.4g} (LJ energy > 1.6e4 epsilon); the configuration is corrupt or not "
        "in LJ units of sigma_bb"
    )
