"""Appendix C greedy ranking (fast Gram updates vs brute-force refits), Fig. 16 Pearson, feature names."""

from __future__ import annotations

import numpy as np
import pytest

from taulc.analysis.importance import (
    PearsonAccumulator,
    feature_pearson,
    greedy_forward,
    greedy_forward_bruteforce,
    holdout_pearson,
    parse_feature_name,
)


def _correlated(n: int, f: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n, f))
    mix = np.eye(f) + 0.3 * rng.normal(size=(f, f)) / np.sqrt(f)
    return (base @ mix).astype(np.float32) + 5.0  # offset: the intercept must be handled


@pytest.mark.parametrize("seed", [0, 1])
def test_greedy_equals_bruteforce(seed):
    x = _correlated(150, 24, seed)
    rng = np.random.default_rng(10 + seed)
    y = x[:, 3] - 0.7 * x[:, 11] + 0.4 * x[:, 2] * x[:, 5] + rng.normal(size=150)
    fast = greedy_forward(x, y, k=8)
    ref = greedy_forward_bruteforce(x, y, k=8)
    np.testing.assert_array_equal(fast.order, ref.order)
    np.testing.assert_allclose(fast.pearson, ref.pearson, rtol=0, atol=1e-9)
    assert np.all(np.diff(fast.pearson) >= -1e-12)


def test_greedy_recovers_planted_features():
    rng = np.random.default_rng(3)
    n, f = 4000, 120
    x = rng.normal(size=(n, f))
    x[:, 50] = x[:, 7] + 0.3 * rng.normal(size=n)  # a correlated distractor of an informative column
    planted = [7, 19, 42, 88, 101]
    y = x[:, planted] @ np.array([1.0, -0.8, 0.6, 0.5, -0.4]) + 0.5 * rng.normal(size=n)
    res = greedy_forward(x, y, k=10)
    assert set(res.order[:5]) == set(planted)
    assert res.order[0] == 7
    assert res.pearson[4] > 0.9 and res.pearson[9] - res.pearson[4] < 0.01
    ho = holdout_pearson(res, x[:500], y[:500])
    assert abs(ho[4] - res.pearson[4]) < 0.03


def test_greedy_skips_constant_and_duplicate_columns():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(300, 6))
    x[:, 2] = 1.0
    x[:, 4] = x[:, 0]
    y = x[:, 0] + 0.5 * x[:, 1] + 0.1 * rng.normal(size=300)
    res = greedy_forward(x, y, k=6)
    assert res.order[0] in (0, 4)
    assert 2 not in res.order and not ({0, 4} <= set(res.order))


def test_feature_pearson_and_accumulator():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(500, 7)) * [1, 2, 3, 4, 5, 6, 7] + 100
    y = x[:, 1] + rng.normal(size=500) * 3
    x[:, 6] = 2.0
    ref = np.array([np.corrcoef(x[:, j], y)[0, 1] for j in range(6)])
    r = feature_pearson(x, y, chunk=64)
    np.testing.assert_allclose(r[:6], ref, atol=1e-10)
    assert np.isnan(r[6])
    acc = PearsonAccumulator()
    for a in range(0, 500, 120):
        acc.add(x[a : a + 120], y[a : a + 120])
    np.testing.assert_allclose(acc.result()[:6], ref, atol=1e-10)


def test_parse_feature_name_roundtrip():
    from taulc.structure.features import FeatureName

    fn = FeatureName("gl", 2, 2, -2, 1, 1.3)
    assert parse_feature_name(str(fn)) == fn.as_dict()
    assert parse_feature_name("caging gen=0 s=b")["species"] == 0
