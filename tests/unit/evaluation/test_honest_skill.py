"""Honest skill (docs/honest-skill.md): planted signals, the analytic noise ceiling, and one table everywhere."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.special import polygamma
from torch.utils.data import DataLoader

from taulc.dynamics.estimators import ice_estimate, split_halves
from taulc.evaluation.skill import Baselines, classification_table, headline, score_table, target_spec
from taulc.models.metrics import classification_metrics, pearson, split_half_ceiling
from taulc.testing.data import TRAIN_OVERRIDES, compose
from tests.helpers.models import make_trainer

R = 8  # replicas per particle
RATES = (0.0, 1e-3, 1e-2, 3e-2, 1e-1)


def _replica_labels(mu: np.ndarray, rng: np.random.Generator, n_rep: int = R) -> tuple[np.ndarray, np.ndarray]:
    """First-jump times of ``n_rep`` replicas, exponential with mean exp(mu) (no censoring), and ln of the ICE mean."""
    fj = rng.exponential(np.exp(mu), size=(n_rep, mu.size))
    t_max = float(fj.max()) * 2.0
    return fj, np.log(ice_estimate(fj, t_max, "km")[0])


def _halves(fj: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t_max = float(fj.max()) * 2.0
    return split_halves(fj, lambda x: ice_estimate(x, t_max, "km")[0], n_splits=10, seed=3)


def test_ceiling_matches_the_analytic_value():
    """ln of the mean of R exponentials = ln mu + e, Var e = psi_1(R): reliability var_s / (var_s + psi_1(R))."""
    rng = np.random.default_rng(0)
    n = 30000
    group = np.repeat([0, 1], n // 2)
    s = rng.normal(0.0, 0.6, n)  # the known signal ln <tau>
    offset = np.where(group == 0, 2.0, 3.0)  # a group (rate) mean shift
    fj, label = _replica_labels(s + offset, rng)
    a, b = _halves(fj)
    noise = float(polygamma(1, R))
    within = split_half_ceiling(a, b, group)
    analytic = np.sqrt(0.36 / (0.36 + noise))
    for g in (0, 1):
        assert within[g] == pytest.approx(analytic, abs=0.03)
        # and it is what the best possible model (the true signal) actually reaches
        m = group == g
        assert pearson(label[m], s[m]) == pytest.approx(within[g], abs=0.03)
    pooled = split_half_ceiling(a, b, np.zeros(n))[0]
    var_all = 0.36 + 0.25  # the two group means 2 and 3 add a variance 0.25
    assert pooled == pytest.approx(np.sqrt(var_all / (var_all + noise)), abs=0.03)
    assert pooled > within[0] + 0.05  # pooling over rates inflates the ceiling too


def _planted(structural: float, seed: int = 1, n_cfg: int = 5, n_per: int = 10000):
    """Configurations at 5 rates; labels from R replicas around a species x rate mean (+ a planted structural term).

    Features: x0 ~ species, x1 ~ rate (what a descriptor knows about species and rate), x2..x7 noise-carrying
    descriptors whose hidden combination z is the planted structure; the scalar baseline sees z only weakly.
    """
    rng = np.random.default_rng(seed)
    rate = np.repeat(np.repeat(RATES, n_cfg), n_per)
    cfg = np.repeat(np.arange(len(RATES) * n_cfg), n_per)
    species = (rng.random(rate.size) < 0.2).astype(np.int64)
    lr = np.log10(np.maximum(rate, 1e-4))
    x = rng.normal(size=(rate.size, 8))
    x[:, :2] = 0.05 * x[:, :2] + np.stack([species, lr], 1)
    z = (x[:, 2:] @ np.array([1.0, -0.5, 0.7, 0.3, -0.8, 0.4])) / np.sqrt(2.23)
    mu = 3.0 - 0.6 * species - 0.5 * (lr + 4.0) + structural * z
    fj, y = _replica_labels(mu, rng)
    scalar = 0.3 * z + rng.normal(size=z.size)  # a weak structural scalar
    split = cfg % n_cfg  # per rate: 0-1 train, 2 val, 3-4 test
    return dict(
        x=x, y=y, fj=fj, rate=rate, cfg=cfg, species=species, scalar=scalar, train=split <= 1, val=split == 2, test=split >= 3
    )


def _ridge_predict(d) -> np.ndarray:
    from taulc.models.ridge import RidgeRegressor
    from taulc.models.synthetic import TensorDictDataset

    def loader(m):
        return DataLoader(
            TensorDictDataset(
                {"x": torch.tensor(d["x"][m], dtype=torch.float32), "y": torch.tensor(d["y"][m], dtype=torch.float32)}
            ),
            batch_size=65536,
        )

    model = RidgeRegressor()
    make_trainer(1).fit(model, loader(d["train"]), loader(d["val"]))
    with torch.no_grad():
        return model(torch.tensor(d["x"][d["test"]], dtype=torch.float32)).double().numpy()


def _table(d, pred):
    tr, te = d["train"], d["test"]
    base = Baselines(d["y"][tr], d["species"][tr], d["rate"][tr], d["scalar"][tr])
    bp = base.predict(d["species"][te], d["rate"][te], d["scalar"][te])
    rows = score_table(d["y"][te], pred, d["species"][te], d["rate"][te], d["cfg"][te], bp, _halves(d["fj"][:, te]), 0)
    return {r["scope"]: r for r in rows}, rows


def test_species_and_rate_only_labels_give_no_skill():
    d = _planted(structural=0.0)
    by, rows = _table(d, _ridge_predict(d))
    h = headline(rows)
    assert abs(h["skill"]) < 0.02 and abs(h["pearson"]) < 0.02
    assert h["baseline_rate"] == 0.0 and h["baseline_species_rate"] == 0.0  # constant within a rate and species
    # ... while the pooled numbers look like skill, and a species x rate lookup table matches them
    pa = by["pooled_all_species"]
    assert pa["pearson"] > 0.6 and abs(pa["pearson"] - pa["baseline_species_rate"]) < 0.02 and abs(pa["skill"]) < 0.02
    assert by["pooled_rates"]["pearson"] > 0.5 and abs(by["pooled_rates"]["skill"]) < 0.02
    assert all(r["ceiling"] < 0.2 for r in rows if r["scope"] == "rate")  # pure replica noise within a rate


def test_planted_structure_gives_skill_over_the_baselines():
    d = _planted(structural=1.0)
    by, rows = _table(d, _ridge_predict(d))
    h = headline(rows)
    noise = float(polygamma(1, R))
    ceiling = np.sqrt(1.0 / (1.0 + noise))  # Var z = 1 within a rate and species
    assert h["ceiling"] == pytest.approx(ceiling, abs=0.03)
    assert h["pearson"] == pytest.approx(ceiling, abs=0.03)  # ridge recovers the planted term up to label noise
    assert h["best_baseline_name"] == "structural" and 0.2 < h["baseline_structural"] < 0.35
    assert h["skill"] > 0.3 and h["skill"] == pytest.approx(h["pearson"] - h["baseline_structural"], abs=1e-12)
    assert h["fraction_of_ceiling"] == pytest.approx(h["pearson"] / h["ceiling"])
    assert {r["group"] for r in rows if r["scope"] == "rate"} == {f"{r:g}" for r in RATES}
    assert sum(r["scope"] == "config" for r in rows) == 2 * len(RATES)


def test_baselines_use_the_nearest_training_rate_for_a_held_out_rate():
    y = np.array([1.0, 1.2, 3.0, 3.2, 5.0, 5.4])
    sp = np.array([0, 1, 0, 1, 0, 1])
    rate = np.array([0.0, 0.0, 1e-2, 1e-2, 1e-1, 1e-1])
    b = Baselines(y, sp, rate).predict(np.array([0, 1, 1]), np.array([3e-2, 3e-2, 1e-4]))
    np.testing.assert_allclose(b["rate"], [3.1, 3.1, 1.1])  # log10 3e-2 is nearer -2 than -1; 1e-4 nearest to 0
    np.testing.assert_allclose(b["species_rate"], [3.0, 3.2, 1.2])
    assert "structural" not in b


def test_classification_metrics_by_hand():
    cls = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    h = np.array([2.0, 1.0, -1.0, 0.5, -0.5, -1.5, -2.0, -3.0])
    m = classification_metrics(cls, h)
    tp, fn, fp, tn = 2, 1, 1, 4
    assert m["precision"] == pytest.approx(tp / (tp + fp)) and m["recall"] == pytest.approx(tp / (tp + fn))
    assert m["f1"] == pytest.approx(2 * tp / (2 * tp + fp + fn))
    mcc = (tp * tn - fp * fn) / np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    assert m["mcc"] == pytest.approx(mcc)
    # AP: mean precision at the ranks of the true positives (1, 2, 5): (1 + 1 + 3/5) / 3
    assert m["average_precision"] == pytest.approx((1 + 1 + 0.6) / 3)
    # per rate for the reference species; uninformative scores: AP -> p_true, MCC -> 0
    rng = np.random.default_rng(0)
    n = 40000
    rate = np.repeat([0.0, 0.1], n // 2)
    c = (rng.random(n) < np.where(rate == 0, 0.1, 0.5)).astype(int)
    rows = classification_table(c, rng.normal(size=n), np.zeros(n, int), rate, 0)
    per = [r for r in rows if r["scope"] == "rate"]
    assert [r["group"] for r in per] == ["0", "0.1"]
    for r in per:
        assert r["average_precision"] == pytest.approx(r["p_true"], abs=0.02) and abs(r["mcc"]) < 0.03


def test_target_spec():
    assert target_spec("ln_tau_sh").name == "ln_tau_sh" and target_spec("ln_tau_sh").reference_species == 0
    assert target_spec({"name": "ln_tau_lc", "reference_species": "all"}).reference_species is None
    assert target_spec({"reference_species": "small"}).reference_species == 1
    with pytest.raises(ValueError, match="reference_species"):
        target_spec({"reference_species": 2})
    with pytest.raises(ValueError, match="target.name"):
        target_spec({"name": "tau"})


def test_one_table_everywhere(tiny_dataset: Path, tmp_path: Path, capsys):
    """metrics.json, the printed summary, the model card and runs/results.csv carry the same numbers."""
    from omegaconf import open_dict

    from taulc.evaluation.scores import summary_lines
    from taulc.runs import RESULTS_FIELDS
    from taulc.training import train

    results = tmp_path / "results.csv"
    for model in ("ridge", "svm"):
        cfg = compose(
            "train",
            [
                f"data_root={tiny_dataset.parent}",
                *TRAIN_OVERRIDES,
                f"model={model}",
                f"results_table={results}",
                "trainer.enable_progress_bar=false",
                "trainer.enable_model_summary=false",
            ],
        )
        with open_dict(cfg):
            cfg.run_dir = str(tmp_path / model)
        train(cfg)
    out = capsys.readouterr().out
    rows = list(csv.DictReader(open(results)))
    assert tuple(rows[0]) == RESULTS_FIELDS and len(rows) == 2
    for model, row in zip(("ridge", "svm"), rows):
        m = json.loads((tmp_path / model / "metrics.json").read_text())
        kind = "regression" if model == "ridge" else "hardness"
        sk = m["skill"]
        assert m["reference_species"] == 0 and sk["reference_species"] == 0 and row["scored"] == kind
        scopes = [r["scope"] for r in sk[kind]["rows"]]
        assert scopes.count("rate") == 2 and {"within_rate_mean", "config_mean", "pooled_rates", "pooled_all_species"} <= set(
            scopes
        )
        h = sk[kind]["headline"]
        assert float(row["pearson_within_rate"]) == pytest.approx(h["pearson"], abs=5e-4)
        assert float(row["ceiling_within_rate"]) == pytest.approx(h["ceiling"], abs=5e-4)
        assert 0 < h["ceiling"] <= 1 and np.isfinite(h["skill"])
        # big particles only: n of the per-rate rows counts species 0 of the test configurations
        pred = np.load(tmp_path / model / "test_predictions.npz")
        assert sum(r["n"] for r in sk[kind]["rows"] if r["scope"] == "rate") == int((pred["true_species"] == 0).sum())
        lines = summary_lines(m)
        assert all(line in out for line in lines)
        card = (tmp_path / model / "model_card.md").read_text()
        assert all(line in card for line in lines)
        if model == "svm":
            ch = sk["classification"]["headline"]
            assert float(row["mcc"]) == pytest.approx(ch["mcc"], abs=5e-4)
            assert {"precision", "recall", "f1", "mcc", "average_precision"} <= set(ch)


def test_score_table_by_hand():
    """Per-group Pearson against np.corrcoef loops, reference-species filtering, means, skill and constant baselines."""
    rng = np.random.default_rng(4)
    n = 600
    cid = np.repeat(np.arange(6), n // 6)
    rate = np.array([0.0, 0.0, 0.01, 0.01, 0.1, 0.1])[cid]
    sp = (rng.random(n) < 0.3).astype(int)
    y = rng.normal(size=n) + 2 * sp + 5 * rate
    pred = y + rng.normal(size=n)
    base = {"rate": 5 * rate, "species_rate": 2 * sp + 5 * rate, "structural": y + 3 * rng.normal(size=n)}
    rows = score_table(y, pred, sp, rate, cid, base, None, reference_species=0)
    big = sp == 0
    for r in rows:
        if r["scope"] == "rate":
            m = big & (rate == float(r["group"]))
        elif r["scope"] == "config":
            m = big & (cid == int(r["group"]))
        elif r["scope"] in ("pooled_rates", "pooled_all_species"):
            m = big if r["scope"] == "pooled_rates" else np.ones(n, bool)
        else:
            continue
        assert r["n"] == m.sum() and r["pearson"] == pytest.approx(np.corrcoef(y[m], pred[m])[0, 1])
        assert r["baseline_structural"] == pytest.approx(np.corrcoef(y[m], base["structural"][m])[0, 1])
        if r["scope"] in ("rate", "config"):  # rate and species x rate means are constant here: no skill
            assert r["baseline_rate"] == 0.0 and r["baseline_species_rate"] == 0.0
        assert r["skill"] == pytest.approx(r["pearson"] - max(r[f"baseline_{b}"] for b in ("rate", "species_rate", "structural")))
        assert np.isnan(r["ceiling"]) and np.isnan(r["fraction_of_ceiling"])
    h = headline(rows)
    assert h["pearson"] == pytest.approx(np.mean([r["pearson"] for r in rows if r["scope"] == "rate"]))
    assert h["n"] == big.sum()
    everyone = headline(score_table(y, pred, sp, rate, cid, base, None, reference_species=None))
    assert everyone["n"] == n and everyone["baseline_species_rate"] > 0.5  # all species: species identity "scores"
