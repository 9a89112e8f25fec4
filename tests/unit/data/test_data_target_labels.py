"""Learning targets re-estimated at load time: the regression estimator is a choice, the Eq. 2 classes are not."""

from __future__ import annotations

import numpy as np

from taulc.data.dataset import target_labels
from taulc.dynamics.estimators import ice_estimate


def _shard() -> dict[str, np.ndarray]:
    """Two particles, four paired replicas, t_max = 30, τ_2 = 5.

    Particle 0: shear off, three early jumps and one replica censored at t_max; shear on, four early jumps.
    The ICE means differ by (1 + 1 + 1 + 30)/4 - 1 = 7.25 >= τ_2 (slow by Eq. 2), the geometric means by
    30^(1/4) - 1 = 1.34 < τ_2.  Particle 1: the same times with shear on and off (never slow).
    """
    lc = np.array([[1.0, 2.0], [1.0, 2.0], [1.0, 2.0], [np.nan, 2.0]])
    sh = np.array([[1.0, 2.0], [1.0, 2.0], [1.0, 2.0], [1.0, 2.0]])
    return {
        "first_jump_lc": lc,
        "first_jump_sh": sh,
        "t_max": np.float64(30.0),
        "tau_2": np.float64(5.0),
        "slow": np.array([1, 0]),
    }


def test_classes_follow_eq2_on_ice_means_whatever_the_target_estimator() -> None:
    z = _shard()
    km_lc = ice_estimate(z["first_jump_lc"], 30.0, "km")[0]
    assert np.isclose(km_lc[0], 8.25)  # the restricted mean the planted numbers assume
    for estimator in ("km", "logmean", "mean_uncensored", "exp_mle"):
        _, _, slow = target_labels(z, estimator, None)
        assert slow.tolist() == [1, 0], estimator


def test_logmean_targets_are_the_log_of_the_restricted_geometric_mean() -> None:
    ln_lc, ln_sh, _ = target_labels(_shard(), "logmean", None)
    assert np.isclose(ln_lc[0], np.log(30.0) / 4) and np.isclose(ln_sh[0], 0.0)
    assert np.allclose(ln_lc[1], np.log(2.0)) and np.allclose(ln_sh[1], np.log(2.0))


def test_a_shorter_horizon_moves_the_classes_with_the_targets() -> None:
    """At t' = 6 the censored replica counts 6: means differ by (3 + 6)/4 - 1 = 1.25 < τ_2, so not slow."""
    _, _, slow = target_labels(_shard(), "logmean", 6.0)
    assert slow.tolist() == [0, 0]
