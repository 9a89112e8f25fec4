"""Equilibrium reference of a system: q, MSD, α2 → τ_2, F_s → τ_α, χ4 → t_χ, l_c².

Computed once per system/temperature from quiescent runs (multiple time
origins) and passed to :func:`taulc.dynamics.labels.label_configuration` so
that every configuration is labelled with the same ``l_c²`` and ``τ_2``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from taulc.dynamics.cage_jumps import lc2_from_msd
from taulc.dynamics.correlators import Correlators, compute_correlators, first_peak_q
from taulc.dynamics.labels import LabelSettings, derived_seed, iter_replicas

logger = logging.getLogger(__name__)

__all__ = ["Reference", "reference_from_trajectories", "equilibrium_reference"]


@dataclass
class Reference:
    """Equilibrium reference scalars and curves (JSON-friendly via :meth:`to_dict`)."""

    q: float
    lc2: float
    tau_2: float
    alpha2_max: float
    tau_alpha: float
    t_chi: float
    correlators: Correlators
    meta: dict = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Scalars at the top level plus ``curves`` (t, msd, alpha2, fs, chi4)."""
        c = self.correlators
        return {
            "q": self.q,
            "lc2": self.lc2,
            "tau_2": self.tau_2,
            "alpha2_max": self.alpha2_max,
            "tau_alpha": self.tau_alpha,
            "t_chi": self.t_chi,
            "meta": self.meta,
            "curves": {k: getattr(c, k).tolist() for k in ("t", "msd", "alpha2", "fs", "chi4")},
        }


def reference_from_trajectories(
    displacements: np.ndarray | Sequence[np.ndarray],
    times: np.ndarray,
    *,
    positions: np.ndarray | None = None,
    cell: np.ndarray | None = None,
    settings: LabelSettings | Mapping[str, Any] | None = None,
    temperature: float | None = None,
    mask: np.ndarray | None = None,
    species: np.ndarray | None = None,
) -> Reference:
    """Reference from quiescent trajectories ``(F, N, 3)`` (one or several replicas).

    Correlators use ``mask`` if given, else the particles of
    ``settings.reference_species`` when ``species`` is given, else all particles.
    ``q``: ``settings.q`` if numeric, else the first peak of S(q) of
    ``positions``/``cell`` (needs both), else 7.25.  ``l_c²``: ``settings.lc2`` if
    numeric, else :func:`lc2_from_msd` on the multi-origin MSD.
    """
    st = settings if isinstance(settings, LabelSettings) else LabelSettings.from_config(settings)
    if not isinstance(st.q, str):
        q = float(st.q)
    elif positions is not None and cell is not None:
        q = first_peak_q(positions, cell)
        logger.info("q = %.3f from the first peak of S(q)", q)
    else:
        q = 7.25
    vol = float(abs(np.linalg.det(cell))) if cell is not None else None
    if mask is None and species is not None and st.reference_species is not None:
        mask = np.asarray(species) == int(st.reference_species)
    corr = compute_correlators(displacements, times, q=q, a=st.overlap_a, mask=mask, temperature=temperature, volume=vol)
    if isinstance(st.lc2, str):
        lc2 = lc2_from_msd(
            corr.t, corr.msd, method=st.lc2_method, slope_threshold=st.lc2_slope_threshold, alpha2_peak_time=corr.tau_2
        )
    else:
        lc2 = float(st.lc2)
    ref = Reference(
        q=q,
        lc2=lc2,
        tau_2=corr.tau_2,
        alpha2_max=corr.alpha2_max,
        tau_alpha=corr.tau_alpha,
        t_chi=corr.t_chi,
        correlators=corr,
        meta={
            "lc2_method": st.lc2_method if isinstance(st.lc2, str) else "config",
            "lc2_slope_threshold": st.lc2_slope_threshold,
            "overlap_a": st.overlap_a,
            "species": None if mask is None else st.reference_species,
            **corr.meta,
        },
    )
    logger.info(
        "reference: q=%.3f l_c²=%.4g τ_2=%.4g (α2=%.3f) τ_α=%.4g t_χ=%.4g",
        q,
        lc2,
        ref.tau_2,
        ref.alpha2_max,
        ref.tau_alpha,
        ref.t_chi,
    )
    return ref


def equilibrium_reference(
    engine: Any,
    conf: Any,
    settings: LabelSettings | Mapping[str, Any] | None = None,
    *,
    t_run: float | None = None,
    n_runs: int = 1,
    seed: int = 0,
    temperature: float | None = None,
) -> Reference:
    """Run ``n_runs`` quiescent trajectories of length ``t_run`` from ``conf`` and build the reference.

    ``t_run`` defaults to ``settings.t_max``; it should cover several τ_α so that
    the MSD leaves the plateau and F_s decays below 1/e.
    """
    st = settings if isinstance(settings, LabelSettings) else LabelSettings.from_config(settings)
    t_run = float(t_run or st.t_max)
    trajs, times = [], None
    for tr in iter_replicas(
        engine, conf, 0.0, n_replicas=n_runs, t_max=t_run, sample_interval=st.sample_interval, seed=derived_seed(seed, 7)
    ):
        trajs.append(np.asarray(tr.nonaffine, dtype=np.float32))
        times = np.asarray(tr.times, dtype=np.float64)
    if times is None:
        raise RuntimeError("engine produced no reference trajectory")
    if temperature is None:
        temperature = (getattr(conf, "meta", {}) or {}).get("T") or (getattr(conf, "meta", {}) or {}).get("temperature")
    return reference_from_trajectories(
        trajs,
        times,
        positions=getattr(conf, "positions", None),
        cell=getattr(conf, "cell", None),
        settings=st,
        temperature=temperature,
        species=getattr(conf, "species", None),
    )
