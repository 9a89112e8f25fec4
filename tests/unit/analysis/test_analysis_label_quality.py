"""Label quality from stored per-replica first jumps: planted signals with analytic reliabilities, the demo."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.special import polygamma

from taulc.analysis.label_quality import censoring_horizon, label_quality, load_first_jumps, main
from taulc.data.manifest import canonical_hash
from taulc.data.storage import DatasetError, atomic_write_json, save_npz, shard_id
from taulc.dynamics.estimators import replicas_needed, spearman_brown
from tests.helpers import REPO

DEMO = REPO / "datasets" / "demo"
VAR_A = 0.3  # planted variance of the per-particle log-rate a_i
R = 8


def _write_dataset(root: Path, shards: list[dict[str, np.ndarray]], tau_alpha: float = 10.0) -> Path:
    """A minimal dataset directory (manifest + shards with the label-quality fields)."""
    cfg = {"labels": {"estimator": "km"}}
    entries = []
    for s in shards:
        sid = shard_id(float(s["rate"]), int(s["config_index"]))
        sha = save_npz(root / "shards" / f"{sid}.npz", s)
        entries.append(
            {
                "id": sid,
                "file": f"shards/{sid}.npz",
                "sha256": sha,
                "rate": float(s["rate"]),
                "config_index": int(s["config_index"]),
                "seeds": {"label": 100 + int(s["config_index"])},
            }
        )
    atomic_write_json(
        root / "manifest.json",
        {
            "format_version": 1,
            "config": cfg,
            "config_hash": canonical_hash(cfg),
            "shards": entries,
            "reference": {"tau_alpha": tau_alpha},
        },
    )
    return root


def _planted(
    rng: np.random.Generator, n: int, t_max: float, offset: float, config_index: int, rate: float = 0.0, var_a: float = VAR_A
) -> dict[str, np.ndarray]:
    """ln t = a_i + ln E with E ~ Exp(1): the label noise of ln(mean of m replicas) has variance ψ1(m) exactly."""
    a = offset + rng.normal(0.0, math.sqrt(var_a), n)
    species = (rng.random(n) < 0.2).astype(np.int64)  # species 1: no signal at all
    a = np.where(species == 0, a, offset)
    t = np.exp(a)[None, :] * rng.exponential(1.0, (R, n))
    fj = np.where(t <= t_max, t, np.nan).astype(np.float32)
    t2 = np.exp(a)[None, :] * rng.exponential(1.0, (R, n))
    fj2 = np.where(t2 <= t_max, t2, np.nan).astype(np.float32)
    return {
        "first_jump_lc": fj,
        "first_jump_sh": fj2,
        "species": species,
        "rate": np.float64(rate),
        "t_max": np.float64(t_max),
        "config_index": np.int64(config_index),
    }


def _analytic_split_half(m: int, var_a: float = VAR_A) -> float:
    """Spearman-Brown corrected split-half reliability with halves of m replicas (ψ1 = trigamma)."""
    r_half = var_a / (var_a + float(polygamma(1, m)))
    return float(spearman_brown(r_half))


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> dict:
    rng = np.random.default_rng(7)
    root = tmp_path_factory.mktemp("planted")
    # uncensored (t_max far beyond every jump); config offsets of +-1.5 in ln t would inflate a pooled reliability
    shards = [_planted(rng, 6000, 1e12, off, i) for i, off in enumerate((-1.5, 1.5))]
    _write_dataset(root, shards)
    return label_quality(
        root, 0, n_splits=10, n_subsets=3, fractions=(1.0,), progress=False, estimator="km", compare=("logmean",)
    )


def test_planted_reliability_matches_spearman_brown(planted):
    row = planted["rates"][0]
    expected = _analytic_split_half(R // 2)  # 0.679 for var_a = 0.3, halves of 4
    for kind in ("lc", "sh"):
        assert row[kind]["censored_fraction"] == 0.0
        assert row[kind]["reliability"] == pytest.approx(expected, abs=0.02), kind
        assert row[kind]["ceiling"] == pytest.approx(math.sqrt(expected), abs=0.015)
        curve = {c["n_replicas"]: c["reliability"] for c in row[kind]["replica_curve"]}
        assert sorted(curve) == list(range(2, R + 1))
        assert curve[2] == pytest.approx(_analytic_split_half(1), abs=0.03)
        assert curve[4] == pytest.approx(_analytic_split_half(2), abs=0.03)
        # odd R' = 3: halves of one replica, carried from 2 to 3 replicas by Spearman-Brown (k = 3/2)
        assert curve[3] == pytest.approx(spearman_brown(_analytic_split_half(1), 1.5), abs=0.03)
        assert curve[R] == pytest.approx(expected, abs=0.02)
    # within-configuration reliability: the config offsets (pooled ρ would be ~0.95) do not leak in
    assert row["lc"]["reliability"] < 0.75


def test_planted_replicas_needed_matches_analytic(planted):
    row = planted["rates"][0]
    rho = _analytic_split_half(R // 2)
    analytic = R * 0.8 * (1 - rho) / (rho * 0.2)  # = 15.1 replicas for ρ = 0.8
    assert 14 < analytic < 16.5
    assert row["lc"]["replicas_needed"] == pytest.approx(analytic, rel=0.1)
    assert row["sh"]["replicas_needed"] == pytest.approx(R * 0.7 * (1 - rho) / (rho * 0.3), rel=0.1)
    # the prophecy and its inverse agree exactly
    assert spearman_brown(0.42, replicas_needed(0.42, 6, 0.8) / 6) == pytest.approx(0.8, abs=1e-12)
    assert math.isinf(replicas_needed(0.0, 6, 0.8))


def test_truncation_counts_and_exponential_horizon(tmp_path: Path):
    rng = np.random.default_rng(3)
    tau, t_max = 10.0, 15.0  # one exponential population: S(t) = exp(-t/τ), 22 % censored at t_max
    shards = [_planted(rng, 4000, t_max, math.log(tau), i, var_a=0.0) for i in range(2)]
    _write_dataset(tmp_path, shards, tau_alpha=5.0)
    res = label_quality(tmp_path, 0, n_splits=4, n_subsets=1, fractions=(0.25, 0.5, 0.75, 1.0), progress=False, estimator="km")
    row = res["rates"][0]
    sel = [s["species"] == 0 for s in shards]
    for kind, key in (("lc", "first_jump_lc"), ("sh", "first_jump_sh")):
        raw = np.concatenate([np.ravel(s[key][:, m]).astype(np.float64) for s, m in zip(shards, sel)])
        for c in row[kind]["t_max_curve"]:
            counted = float(np.mean(~(raw <= c["fraction"] * t_max)))  # NaN counts as censored
            assert c["censored_fraction"] == pytest.approx(counted, abs=1e-12)
            assert c["t_max_over_tau_alpha"] == pytest.approx(c["fraction"] * t_max / 5.0)
        assert np.all(np.diff([c["censored_fraction"] for c in row[kind]["t_max_curve"]]) < 0)
        assert row[kind]["t_max_curve"][0]["censored_fraction"] == pytest.approx(math.exp(-0.25 * t_max / tau), abs=0.01)
        # exponential tail extrapolated from [0.75, 1] t_max: S = 5 % at τ ln 20 = 30.0
        assert row[kind]["t_max_needed_method"] == "exponential tail"
        assert row[kind]["t_max_needed"] == pytest.approx(tau * math.log(20.0), rel=0.04)
        assert row[kind]["tail_check_censored_at_t_max"] == pytest.approx(math.exp(-t_max / tau), abs=0.01)
    # inside t_max the horizon is the empirical 95 % quantile of the pooled first jumps
    x = rng.exponential(1.0, (4, 500))
    t_q, how = censoring_horizon([x], float(x.max()) + 1, 1.0)
    assert how == "measured" and t_q == np.sort(x.ravel())[math.ceil(0.95 * x.size) - 1]


def test_missing_per_replica_field_is_named(tmp_path: Path):
    rng = np.random.default_rng(0)
    s = _planted(rng, 50, 1e3, 0.0, 0)
    del s["first_jump_sh"]
    _write_dataset(tmp_path, [s])
    with pytest.raises(DatasetError, match=r"r0\.000e\+00_c000\.npz: missing field\(s\) \['first_jump_sh'\]"):
        load_first_jumps(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main([str(tmp_path), "--out", str(tmp_path / "out")])
    assert exc.value.code == 2 and not (tmp_path / "out" / "label_quality.json").exists()


def test_cli_writes_json_and_figure(tmp_path: Path, capsys):
    rng = np.random.default_rng(1)
    _write_dataset(tmp_path / "d", [_planted(rng, 300, 5.0, 0.0, i, rate=r) for i, r in enumerate((0.0, 0.01))])
    main([str(tmp_path / "d"), "--out", str(tmp_path / "o"), "--splits", "3", "--subsets", "1", "--species", "all"])
    res = json.loads((tmp_path / "o" / "label_quality.json").read_text())
    assert res["species"] == "all" and [r["rate"] for r in res["rates"]] == [0.0, 0.01]
    assert (tmp_path / "o" / "label_quality.png").read_bytes()[:4] == b"\x89PNG"
    out = capsys.readouterr().out
    assert "Reliability of ln τ_LC vs replicas R' (all species)" in out and "Censored fraction" in out


@pytest.fixture(scope="module")
def demo_all() -> dict:
    return label_quality(DEMO, None, n_splits=10, n_subsets=1, fractions=(1.0,), progress=False, estimator="km")


def test_demo_all_species_reproduces_manifest(demo_all):
    # same estimator, same halvings (label seeds), all particles: the builder's stored reliabilities
    man = json.loads((DEMO / "manifest.json").read_text())
    for row in demo_all["rates"]:
        stored = [s["stats"]["reliability_lc"] for s in man["shards"] if s["rate"] == row["rate"]]
        assert row["lc"]["reliability_configs"] == pytest.approx(stored, abs=1e-6)
        assert row["lc"]["reliability"] == pytest.approx(row["lc"]["stored_reliability_all_species"], abs=1e-6)
        assert row["lc"]["censored_fraction"] == pytest.approx(man["rates"][f"{row['rate']:g}"]["censored_lc"], abs=1e-9)


def test_demo_big_particles_rate_zero(demo_all):
    res = label_quality(DEMO, 0, n_splits=10, n_subsets=1, fractions=(1.0,), progress=False, estimator="km", compare=("logmean",))
    zero = res["rates"][0]
    assert zero["rate"] == 0.0 and zero["lc"]["n_replicas"] == 6 and zero["n_particles_per_config"] == 1200
    # measured 0.38 (20 halvings) / 0.37-0.39 (10); the issue quotes 0.40 for 6 replicas
    assert 0.33 < zero["lc"]["reliability"] < 0.45
    # big particles are less reliable and more censored than all particles (manifest 0.52, 23 %)
    assert zero["lc"]["reliability"] < demo_all["rates"][0]["lc"]["reliability"] - 0.08
    assert 0.24 < zero["lc"]["censored_fraction"] < 0.28
    # the demo is far from the goals: ρ < 0.8 needs tens of replicas at every rate
    assert all(r["lc"]["replicas_needed"] > 30 for r in res["rates"])
    # the log-mean of the same 6 replicas is more reliable at every rate, with no MD (issue: 0.46 / 0.40 / 0.27 /
    # 0.29 / 0.24 against 0.38 / 0.31 / 0.16 / 0.22 / 0.14 for the KM mean)
    for r in res["rates"]:
        assert r["lc"]["by_estimator"]["logmean"]["reliability"] > r["lc"]["reliability"] + 0.04, r["rate"]
    assert 0.40 < zero["lc"]["by_estimator"]["logmean"]["reliability"] < 0.52


def test_planted_logmean_reliability_matches_trigamma(planted):
    """ln t = a_i + ln E: the mean of ln E over m replicas has variance ψ1(1)/m = π²/(6m) exactly,
    so halves of m = 4 give r = var_a / (var_a + π²/24) (uncensored)."""
    row = planted["rates"][0]
    r_half = VAR_A / (VAR_A + math.pi**2 / 6 / (R // 2))
    for kind in ("lc", "sh"):
        assert row[kind]["by_estimator"]["logmean"]["reliability"] == pytest.approx(spearman_brown(r_half), abs=0.02)
        # for *pure exponential*, uncensored waiting times the log of the mean is the better estimator
        # (ψ1(4) = 0.28 < π²/24 = 0.41): the log-mean's gain on MD labels (test above) comes from censoring
        # and the heavier-than-exponential tails of first-passage times, not from the logarithm as such
        assert row[kind]["by_estimator"]["logmean"]["reliability"] < row[kind]["reliability"] - 0.05


def test_split_filter_needs_fixed_splits(planted, tmp_path: Path):
    from taulc.data.storage import DatasetError

    rng = np.random.default_rng(1)
    _write_dataset(tmp_path, [_planted(rng, 200, 1e12, 0.0, i) for i in range(2)])
    with pytest.raises(DatasetError, match="no fixed splits"):
        label_quality(tmp_path, 0, n_splits=2, n_subsets=1, fractions=(1.0,), progress=False, split="test")
