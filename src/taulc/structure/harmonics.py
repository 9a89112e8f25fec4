r"""Real orthonormal spherical harmonics Y_lm(r̂), vectorised, from Cartesian vectors.

Convention (no Condon-Shortley phase in the real functions)::

    Y_l0       = N_l0 P_l(cos θ)
    Y_lm (m>0) = √2 N_lm P_l^m(cos θ) cos(m φ)
    Y_lm (m<0) = √2 N_l|m| P_l^|m|(cos θ) sin(|m| φ)
    N_lm = sqrt((2l+1)/(4π) (l-m)!/(l+m)!),   P_l^m without the (-1)^m phase.

In terms of the complex harmonics *with* the Condon-Shortley phase (e.g.
``scipy.special.sph_harm_y``): ``Y_lm = √2 (-1)^m Re Y_l^m`` for m > 0 and
``Y_lm = √2 (-1)^m Im Y_l^{|m|}`` for m < 0. Examples::

    Y_00   = 1 / (2 √π)
    Y_2,-2 = ½ √(15/π) x y / r²      (the xy-symmetric one: odd under x -> -x)
    Y_2,2  = ¼ √(15/π) (x² - y²) / r²

Implementation: (x + i y)^m = C_m + i S_m by recursion (= sin^m θ e^{imφ}) and
Q_l^m = P_l^m / sin^m θ, a polynomial in z = cos θ, by the standard three-term
recursion, so no trigonometric functions and no division by sin θ are needed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["all_lm", "real_sph_harm", "parity"]


def all_lm(lmax: int) -> list[tuple[int, int]]:
    """All (l, m) with l <= lmax, l ascending, m = -l..l (the order of the paper's Fig. 16)."""
    return [(l, m) for l in range(lmax + 1) for m in range(-l, l + 1)]


def parity(lm: Sequence[tuple[int, int]]) -> np.ndarray:
    """``(-1)^l`` for each (l, m): Y_lm(-r) = (-1)^l Y_lm(r)."""
    return np.array([(-1.0) ** l for l, _ in lm])


def _norm(l: int, m: int) -> float:
    return math.sqrt((2 * l + 1) / (4.0 * math.pi) * math.factorial(l - m) / math.factorial(l + m))


def real_sph_harm(vectors: np.ndarray, lm: Sequence[tuple[int, int]]) -> np.ndarray:
    """Real orthonormal Y_lm of the directions of ``vectors`` (P, 3) -> (P, len(lm)).

    The vectors need not be normalised; zero vectors give NaN for l > 0.
    """
    lm = [(int(l), int(m)) for l, m in lm]
    for l, m in lm:
        if l < 0 or abs(m) > l:
            raise ValueError(f"invalid spherical-harmonic index (l={l}, m={m})")
    v = np.asarray(vectors, dtype=np.float64)
    out = np.empty((v.shape[0], len(lm)), dtype=np.float64)
    if not lm:
        return out
    with np.errstate(invalid="ignore", divide="ignore"):
        inv = 1.0 / np.sqrt(np.einsum("ij,ij->i", v, v))
    x = v[:, 0] * inv
    y = v[:, 1] * inv
    z = v[:, 2] * inv
    mmax = max(abs(m) for _, m in lm)
    # C_m + i S_m = (x + i y)^m
    cs: list[tuple[np.ndarray, np.ndarray]] = [(np.ones_like(x), np.zeros_like(x))]
    for _ in range(1, mmax + 1):
        c, s = cs[-1]
        cs.append((x * c - y * s, x * s + y * c))
    need: dict[int, int] = {}
    for l, m in lm:
        need[abs(m)] = max(need.get(abs(m), 0), l)
    q: dict[tuple[int, int], np.ndarray] = {}
    for am, lmax in need.items():
        dfact = 1.0
        for k in range(1, 2 * am, 2):
            dfact *= k
        q_mm = np.full_like(z, dfact)  # Q_m^m = (2m-1)!!
        q[(am, am)] = q_mm
        if lmax > am:
            q[(am + 1, am)] = (2 * am + 1) * z * q_mm
        for l in range(am + 2, lmax + 1):
            q[(l, am)] = ((2 * l - 1) * z * q[(l - 1, am)] - (l + am - 1) * q[(l - 2, am)]) / (l - am)
    sq2 = math.sqrt(2.0)
    for col, (l, m) in enumerate(lm):
        am = abs(m)
        if m == 0:
            out[:, col] = _norm(l, 0) * q[(l, 0)]
        elif m > 0:
            out[:, col] = (sq2 * _norm(l, am)) * q[(l, am)] * cs[am][0]
        else:
            out[:, col] = (sq2 * _norm(l, am)) * q[(l, am)] * cs[am][1]
    return out
