"""Shared figure conventions: one colour per shear rate, a log γ̇ axis that can show γ̇ = 0, saving."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

log = logging.getLogger(__name__)

__all__ = ["plt", "RatePalette", "rate_label", "save_figure", "rate_axis", "plain_log_ticks"]

plt.rcParams.update(
    {
        "figure.dpi": 110,
        "savefig.dpi": 130,
        "axes.grid": False,
        "font.size": 10,
        "axes.titlesize": 10,
        "legend.fontsize": 8,
        "legend.frameon": False,
    }
)

GDOT = "\u03b3\u0307"  # γ̇


def rate_label(rate: float) -> str:
    """``'γ̇ = 0 (equilibrium)'`` or ``'γ̇ = 1e-02'``."""
    return f"{GDOT} = 0 (equil.)" if rate == 0 else f"{GDOT} = {rate:.3g}"


class RatePalette:
    """Fixed colour per shear rate of a dataset (γ̇ = 0 black, sheared rates along ``viridis``)."""

    def __init__(self, rates: Sequence[float]) -> None:
        self.rates = sorted({float(r) for r in rates})
        pos = [r for r in self.rates if r > 0]
        cmap = plt.get_cmap("viridis")
        self._c = {0.0: (0.0, 0.0, 0.0, 1.0)}
        for i, r in enumerate(pos):
            self._c[r] = cmap(0.1 + 0.8 * (i / max(1, len(pos) - 1)) if len(pos) > 1 else 0.5)

    def __call__(self, rate: float):
        r = float(rate)
        if r in self._c:
            return self._c[r]
        near = min(self._c, key=lambda k: abs(k - r))
        return self._c[near]


def rate_axis(ax, rates: Sequence[float], values_at: str = "x") -> dict[float, float]:
    """Log γ̇ axis on which γ̇ = 0 sits one decade left of the smallest positive rate, labelled '0'.

    Returns ``{rate: coordinate}`` for plotting.
    """
    rates = sorted({float(r) for r in rates})
    pos = [r for r in rates if r > 0]
    zero_at = (min(pos) / 10.0) if pos else 1.0
    coords = {r: (r if r > 0 else zero_at) for r in rates}
    if values_at == "x":
        ax.set_xscale("log")
        if 0.0 in coords and pos:
            ax.axvline(np.sqrt(zero_at * min(pos)), color="0.8", lw=0.8, ls=":")
            ticks = [zero_at] + [10.0**k for k in range(int(np.floor(np.log10(min(pos)))), int(np.ceil(np.log10(max(pos)))) + 1)]
            ax.set_xticks(ticks)
            ax.set_xticklabels(["0"] + [f"$10^{{{int(np.log10(t))}}}$" for t in ticks[1:]])
            ax.minorticks_off()
    return coords


def save_figure(fig, path: Path) -> Path:
    """Save a PNG and close the figure."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    log.debug("wrote %s", path)
    return path


def plain_log_ticks(ax, axis: str = "both") -> None:
    """Readable log-axis ticks: 1-2-5 sequence, plain numbers (``0.5``, ``2``, ``20``), no minor labels."""

    fmt = FuncFormatter(lambda v, _: f"{v:g}")
    for name in ("x", "y") if axis == "both" else (axis,):
        a = ax.xaxis if name == "x" else ax.yaxis
        if (ax.get_xscale() if name == "x" else ax.get_yscale()) != "log":
            continue
        lo, hi = ax.get_xlim() if name == "x" else ax.get_ylim()
        subs = (1.0, 2.0, 5.0) if hi / max(lo, 1e-300) < 1e3 else (1.0,)
        a.set_major_locator(LogLocator(base=10, subs=subs))
        a.set_major_formatter(fmt)
        a.set_minor_formatter(NullFormatter())
