"""Feature importance (core paper Sec. IV.A, Figs. 16 and 18, Appendix C / Table I).

* :func:`feature_pearson` -- Pearson r of every descriptor column with a target,
  streamed over row blocks (Fig. 16 screens all (l, m) up to l = 6).
* :func:`greedy_forward` -- Appendix C: F_1 = the column with the best single
  linear fit, F_2 = the best partner of F_1, ... The Pearson coefficient of an
  ordinary least-squares fit with intercept equals √R², so each step picks the
  column with the largest drop in residual sum of squares. One pass builds the
  centred Gram matrix G = XᵀX and b = Xᵀy (float64); the search then works in
  Gram space with a Gram-Schmidt (Cholesky) update: after k steps every candidate
  carries its residual norm d_j and residual covariance z_j with y, its gain is
  z_j²/d_j, and adding a column costs O(k·F). Identical to refitting N_X models
  per step (:func:`greedy_forward_bruteforce`, the reference) at a tiny fraction
  of the cost.
* :func:`parse_feature_name` -- ``FeatureName`` strings back to (family, gen, l, m, s, r).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from taulc.models.metrics import pearson

log = logging.getLogger(__name__)

__all__ = [
    "GramStats",
    "gram_stats",
    "feature_pearson",
    "PearsonAccumulator",
    "GreedyResult",
    "greedy_forward",
    "greedy_forward_bruteforce",
    "holdout_pearson",
    "parse_feature_name",
]

_NAME = re.compile(
    r"^(?P<family>\S+) gen=(?P<gen>\d+)(?: l=(?P<l>-?\d+))?(?: m=(?P<m>-?\d+))?"
    r"(?: s=(?P<s>\S+))?(?: r=(?P<r>[-\d.eE+]+))?$"
)
_SPECIES = {"b": 0, "s": 1}


def parse_feature_name(name: str) -> dict[str, Any]:
    """``'gl gen=2 l=0 m=0 s=b r=1.30'`` -> ``{family, generation, l, m, species, r}`` (None where absent)."""
    mt = _NAME.match(str(name).strip())
    if not mt:
        return {"family": str(name), "generation": None, "l": None, "m": None, "species": None, "r": None}
    d = mt.groupdict()
    sp = d["s"]
    return {
        "family": d["family"],
        "generation": int(d["gen"]),
        "l": int(d["l"]) if d["l"] is not None else None,
        "m": int(d["m"]) if d["m"] is not None else None,
        "species": _SPECIES.get(sp, sp) if sp is not None else None,
        "r": float(d["r"]) if d["r"] is not None else None,
    }


@dataclass
class GramStats:
    """Centred sufficient statistics of a linear fit: ``G = X_cᵀX_c``, ``b = X_cᵀy_c``, ``tss = y_cᵀy_c``."""

    gram: np.ndarray
    xty: np.ndarray
    tss: float
    mean_x: np.ndarray
    mean_y: float
    n: int


def gram_stats(x: np.ndarray, y: np.ndarray, chunk: int = 16384) -> GramStats:
    """Centred Gram matrix and cross products in float64, streamed over ``chunk`` rows (memory O(F²))."""
    x = np.asarray(x)
    y = np.asarray(y, dtype=np.float64)
    n, f = x.shape
    if n != len(y) or n < 2:
        raise ValueError(f"need matching rows and n >= 2, got X {x.shape}, y {y.shape}")
    mx = np.zeros(f)
    for a in range(0, n, chunk):
        mx += x[a : a + chunk].sum(0, dtype=np.float64)
    mx /= n
    my = float(y.mean())
    g = np.zeros((f, f))
    b = np.zeros(f)
    for a in range(0, n, chunk):
        xc = x[a : a + chunk].astype(np.float64) - mx
        g += xc.T @ xc
        b += xc.T @ (y[a : a + chunk] - my)
    yc = y - my
    return GramStats(gram=g, xty=b, tss=float(yc @ yc), mean_x=mx, mean_y=my, n=n)


def feature_pearson(x: np.ndarray, y: np.ndarray, chunk: int = 16384) -> np.ndarray:
    """Pearson r of every column of ``x`` with ``y`` (NaN for constant columns), O(F) memory (Fig. 16)."""
    x = np.asarray(x)
    y = np.asarray(y, dtype=np.float64)
    n, f = x.shape
    my = y.mean()
    yc = y - my
    mx = np.zeros(f)
    for a in range(0, n, chunk):
        mx += x[a : a + chunk].sum(0, dtype=np.float64)
    mx /= n
    sxy = np.zeros(f)
    sxx = np.zeros(f)
    for a in range(0, n, chunk):
        xc = x[a : a + chunk].astype(np.float64) - mx
        sxy += xc.T @ yc[a : a + chunk]
        sxx += np.einsum("ij,ij->j", xc, xc)
    syy = float(yc @ yc)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = sxy / np.sqrt(sxx * syy)
    r[(sxx <= 1e-12 * max(sxx.max(), 1e-300)) | (syy <= 0)] = np.nan
    return r


class PearsonAccumulator:
    """Column-wise Pearson r with a target, accumulated over row blocks (shards) in float64.

    Data are shifted by the first block's means before summing, so the one-pass
    moment formulas stay accurate; memory is O(F) (Fig. 16 over 4704 columns).
    """

    def __init__(self) -> None:
        self.n = 0
        self.shift_x: np.ndarray | None = None
        self.shift_y = 0.0

    def add(self, x: np.ndarray, y: np.ndarray) -> None:
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if len(y) == 0:
            return
        if self.shift_x is None:
            self.shift_x, self.shift_y = x.mean(0), float(y.mean())
            f = x.shape[1]
            self.sx, self.sxx, self.sxy = np.zeros(f), np.zeros(f), np.zeros(f)
            self.sy = self.syy = 0.0
        xc, yc = x - self.shift_x, y - self.shift_y
        self.n += len(y)
        self.sx += xc.sum(0)
        self.sxx += np.einsum("ij,ij->j", xc, xc)
        self.sxy += xc.T @ yc
        self.sy += float(yc.sum())
        self.syy += float(yc @ yc)

    def result(self) -> np.ndarray:
        """Pearson r per column (NaN for constant columns or fewer than 3 rows)."""
        if self.shift_x is None or self.n < 3:
            return np.full(0 if self.shift_x is None else len(self.shift_x), np.nan)
        n = self.n
        cxx = self.sxx - self.sx**2 / n
        cxy = self.sxy - self.sx * self.sy / n
        cyy = self.syy - self.sy**2 / n
        with np.errstate(invalid="ignore", divide="ignore"):
            r = cxy / np.sqrt(cxx * cyy)
        r[(cxx <= 1e-12 * max(float(cxx.max()), 1e-300)) | (cyy <= 0)] = np.nan
        return r


@dataclass
class GreedyResult:
    """Appendix C ranking: ``order`` (k,) column indices; ``pearson`` (k,) cumulative in-sample
    Pearson after each step (√R² of the OLS fit on the first i+1 columns); ``r2``; ``stats``."""

    order: np.ndarray
    pearson: np.ndarray
    r2: np.ndarray
    stats: GramStats | None = field(default=None, repr=False)

    def coefficients(self, k: int) -> tuple[np.ndarray, float]:
        """OLS coefficients ``(β (k,), intercept)`` of the first ``k`` selected columns."""
        if self.stats is None:
            raise ValueError("no Gram statistics stored")
        s = self.order[:k]
        st = self.stats
        beta = np.linalg.solve(st.gram[np.ix_(s, s)], st.xty[s])
        return beta, float(st.mean_y - st.mean_x[s] @ beta)


def greedy_forward(
    x: np.ndarray | None,
    y: np.ndarray | None,
    k: int = 30,
    *,
    stats: GramStats | None = None,
    tol: float = 1e-10,
    chunk: int = 16384,
) -> GreedyResult:
    """Greedy forward selection of Appendix C (Table I, Fig. 18) by Gram-space Gram-Schmidt updates.

    ``x (N, F)``, ``y (N,)``; or precomputed ``stats``. Candidates whose residual
    norm after projecting out the selected columns falls below ``tol`` × their
    norm (collinear or constant columns) are never picked.
    """
    st = stats if stats is not None else gram_stats(x, y, chunk=chunk)
    g, b, tss = st.gram, st.xty, st.tss
    f = g.shape[0]
    k = int(min(k, f))
    diag = np.diag(g).copy()
    d = diag.copy()  # residual squared norm of each column
    z = b.copy()  # residual covariance of each column with y
    u = np.zeros((k, f))  # rows: <q_i, x_j> for the orthonormal basis q_i of the selected columns
    order: list[int] = []
    explained = 0.0
    r2 = np.zeros(k)
    alive = diag > 0
    for step in range(k):
        ok = alive & (d > tol * np.maximum(diag, 1e-300))
        if order:
            ok[order] = False
        if not ok.any():
            r2, k = r2[:step], step
            break
        gain = np.where(ok, z * z / np.where(ok, d, 1.0), -np.inf)
        j = int(np.argmax(gain))
        row = g[j] - u[:step, j] @ u[:step]
        sd = np.sqrt(d[j])
        u[step] = row / sd
        t = z[j] / sd
        explained += t * t
        d -= u[step] ** 2
        z -= u[step] * t
        order.append(j)
        r2[step] = min(max(explained / tss, 0.0), 1.0) if tss > 0 else 0.0
    return GreedyResult(order=np.asarray(order, dtype=np.int64), pearson=np.sqrt(r2[: len(order)]), r2=r2[: len(order)], stats=st)


def _ols_pearson(xs: np.ndarray, y: np.ndarray) -> float:
    a = np.column_stack([np.ones(len(y)), xs])
    coef, *_ = np.linalg.lstsq(a, y, rcond=None)
    pred = a @ coef
    pc, yc = pred - pred.mean(), y - y.mean()
    den = np.sqrt((pc @ pc) * (yc @ yc))
    return float(pc @ yc / den) if den > 0 else 0.0


def greedy_forward_bruteforce(x: np.ndarray, y: np.ndarray, k: int = 30) -> GreedyResult:
    """Appendix C literally: at each step refit an OLS model for every remaining column (reference)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    order: list[int] = []
    pear: list[float] = []
    for _ in range(min(k, x.shape[1])):
        best, best_p = -1, -np.inf
        for j in range(x.shape[1]):
            if j in order:
                continue
            p = _ols_pearson(x[:, order + [j]], y)
            if p > best_p:
                best, best_p = j, p
        order.append(best)
        pear.append(best_p)
    p = np.asarray(pear)
    return GreedyResult(order=np.asarray(order, dtype=np.int64), pearson=p, r2=p * p)


def holdout_pearson(res: GreedyResult, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Pearson on held-out rows of the OLS models built from the first 1..k selected columns."""

    out = np.full(len(res.order), np.nan)
    if len(y) < 3:
        return out
    xs = np.asarray(x)[:, res.order].astype(np.float64)
    for i in range(len(res.order)):
        try:
            beta, c = res.coefficients(i + 1)
        except np.linalg.LinAlgError:
            break
        out[i] = pearson(xs[:, : i + 1] @ beta + c, y)
    return out
