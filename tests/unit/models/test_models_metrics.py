"""taulc.models.metrics against brute-force numpy/scipy/sklearn."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import balanced_accuracy_score, roc_auc_score

from taulc.models.metrics import (
    classification_metrics,
    flatten_metrics,
    grouped_pearson,
    pearson,
    r2_score,
    regression_metrics,
    spearman,
)


@pytest.fixture()
def data():
    rng = np.random.default_rng(1)
    n = 600
    cid = rng.integers(0, 6, n)
    rate = np.array([0.0, 0.001, 0.01], dtype=np.float32)[cid % 3]
    t = rng.normal(size=n) + 0.3 * cid
    p = t + rng.normal(size=n)
    p[:10] = np.round(p[:10])  # some ties
    return t, p, cid, rate


def test_pearson_spearman_r2(data):
    t, p, _, _ = data
    assert pearson(t, p) == pytest.approx(stats.pearsonr(t, p)[0], abs=1e-12)
    assert spearman(t, p) == pytest.approx(stats.spearmanr(t, p)[0], abs=1e-12)
    r2 = 1 - ((t - p) ** 2).sum() / ((t - t.mean()) ** 2).sum()
    assert r2_score(t, p) == pytest.approx(r2, abs=1e-12)
    assert math.isnan(pearson(np.ones(5), np.arange(5)))


def test_grouped_and_per_config_against_loop(data):
    t, p, cid, rate = data
    m = regression_metrics(t, p, config_id=cid, rate=rate)
    per_cfg = [stats.pearsonr(t[cid == c], p[cid == c])[0] for c in np.unique(cid)]
    per_cfg_s = [stats.spearmanr(t[cid == c], p[cid == c])[0] for c in np.unique(cid)]
    assert m["pearson_config"] == pytest.approx(np.mean(per_cfg), abs=1e-12)
    assert m["spearman_config"] == pytest.approx(np.mean(per_cfg_s), abs=1e-12)
    assert m["pearson"] == pytest.approx(stats.pearsonr(t, p)[0], abs=1e-12)
    assert set(m["pearson_rate"]) == {0.0, 0.001, 0.01}
    for r, v in m["pearson_rate"].items():
        sel = np.isclose(rate, r)
        assert v == pytest.approx(stats.pearsonr(t[sel], p[sel])[0], abs=1e-12)
        assert m["spearman_rate"][r] == pytest.approx(stats.spearmanr(t[sel], p[sel])[0], abs=1e-12)
    g = grouped_pearson(t, p, cid)
    assert all(isinstance(k, int) for k in g)
    json.dumps(m)  # plain, JSON-serialisable


def test_nonfinite_dropped_and_small_groups_nan():
    t = np.array([1.0, 2.0, np.nan, 4.0, 5.0, 6.0])
    p = np.array([1.1, 2.2, 3.0, 3.9, 5.2, np.inf])
    m = regression_metrics(t, p, config_id=np.array([0, 0, 0, 1, 1, 1]))
    assert m["n"] == 4
    keep = np.isfinite(t) & np.isfinite(p)
    assert m["pearson"] == pytest.approx(stats.pearsonr(t[keep], p[keep])[0])
    assert math.isnan(m["pearson_config"])  # both groups have < 3 valid members


def test_classification_metrics(data):
    t, p, cid, rate = data
    rng = np.random.default_rng(2)
    cls = (t + rng.normal(size=t.size) > 0.5).astype(int)
    cls[:5] = -1  # unlabelled
    h = t - 0.5
    m = classification_metrics(cls, h, ln_tau=t, rate=rate)
    lab = cls >= 0
    assert m["n"] == lab.sum()
    assert m["accuracy"] == pytest.approx(((h[lab] > 0) == cls[lab]).mean())
    assert m["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(cls[lab], h[lab] > 0))
    assert m["roc_auc"] == pytest.approx(roc_auc_score(cls[lab], h[lab]))
    assert m["p_pred"] == pytest.approx((h > 0).mean())
    assert m["p_true"] == pytest.approx(cls[lab].mean())
    assert m["pearson_h_lntau"] == pytest.approx(stats.pearsonr(h, t)[0])
    assert m["pearson_h_tau"] == pytest.approx(stats.pearsonr(h, np.exp(t))[0])
    for r, v in m["p_pred_rate"].items():
        assert v == pytest.approx((h[np.isclose(rate, r)] > 0).mean())
    flat = flatten_metrics(m, "val")
    assert flat["val/roc_auc"] == m["roc_auc"]
    assert "val/p_pred_rate/0.001" in flat
    json.dumps(m)


def test_within_rate_pearson_ignores_rate_means_and_other_species():
    """The selection score: a prediction that knows only each rate's mean scores high pooled but zero within
    rates; one that ranks the reference species within each rate scores its planted correlation."""
    from taulc.models.metrics import pearson, within_rate_pearson

    rng = np.random.default_rng(0)
    n = 6000
    rate = rng.choice([0.0, 0.01, 0.1], n)
    species = (rng.random(n) < 0.2).astype(int)
    s = rng.normal(size=n)
    y = -5.0 * rate * 10 + s  # rate means 0, -0.5, -5
    by_rate = -5.0 * rate * 10 + 1e-9 * rng.normal(size=n)
    assert pearson(y, by_rate) > 0.8
    assert abs(within_rate_pearson(y, by_rate, species, rate)) < 0.05
    planted = by_rate + s + rng.normal(size=n)  # within-rate Pearson 1/sqrt(2)
    assert within_rate_pearson(y, planted, species, rate) == pytest.approx(2**-0.5, abs=0.03)
    # small particles with an anti-correlated prediction do not count for the big-particle score
    mixed = np.where(species == 1, -y, planted)
    assert within_rate_pearson(y, mixed, species, rate, 0) == pytest.approx(2**-0.5, abs=0.03)
    assert within_rate_pearson(y, mixed, species, rate, None) < 0.5
