"""taulc.dynamics: cage jumps, first-jump times, correlators, ICE labels, τ_sh(τ_LC).

Main entry points:

* :func:`label_configuration` -- τ_LC, τ_sh, class, mobility of one configuration.
* :func:`equilibrium_reference` / :func:`reference_from_trajectories` -- q, l_c², τ_2, τ_α, t_χ.
* :func:`first_jump_times`, :func:`segment_trajectories` -- Candelier cage jumps (Zeng, Yu & Wang 2025, Eq. 11).
"""

from taulc.dynamics.cage_jumps import (
    CageJumps,
    first_jump_frames,
    first_jump_times,
    lc2_from_msd,
    nonaffine_displacement,
    segment_trajectories,
)
from taulc.dynamics.correlators import Correlators, compute_correlators, first_peak_q, structure_factor
from taulc.dynamics.estimators import (
    classify_slow,
    ice_estimate,
    km_restricted_mean,
    spearman_brown,
    split_half_reliability,
)
from taulc.dynamics.labels import IceRun, Labels, LabelSettings, label_configuration, run_ice
from taulc.dynamics.reference import Reference, equilibrium_reference, reference_from_trajectories

__all__ = [
    "CageJumps",
    "first_jump_frames",
    "first_jump_times",
    "lc2_from_msd",
    "nonaffine_displacement",
    "segment_trajectories",
    "Correlators",
    "compute_correlators",
    "first_peak_q",
    "structure_factor",
    "classify_slow",
    "ice_estimate",
    "km_restricted_mean",
    "spearman_brown",
    "split_half_reliability",
    "IceRun",
    "Labels",
    "LabelSettings",
    "label_configuration",
    "run_ice",
    "Reference",
    "equilibrium_reference",
    "reference_from_trajectories",
]
