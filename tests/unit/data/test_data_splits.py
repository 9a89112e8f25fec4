"""Split and storage tests: no leakage across configurations or held-out rates, atomic writes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from taulc.data.manifest import canonical_hash, check_compatible, config_diff
from taulc.data.splits import TEST, TRAIN, VAL, SplitSpec, balanced_subset, split_particles
from taulc.data.storage import DatasetError, atomic_write_bytes, load_npz, save_npz


def _layout(rates=(0.0, 0.001, 0.01, 0.1), n_cfg=5, n=50):
    cid, rate = [], []
    for k, r in enumerate(rates):
        for c in range(n_cfg):
            cid.append(np.full(n, k * n_cfg + c))
            rate.append(np.full(n, r))
    return np.concatenate(cid), np.concatenate(rate)


def test_config_split_has_no_configuration_overlap():
    cid, rate = _layout()
    a = split_particles(SplitSpec(kind="config", seed=3), cid, rate)
    for c in np.unique(cid):
        assert len(np.unique(a[cid == c])) == 1, f"configuration {c} split across parts"
    # every rate contributes train, val and test configurations
    for r in np.unique(rate):
        assert set(np.unique(a[rate == r])) == {TRAIN, VAL, TEST}


def test_rate_split_never_trains_on_held_out_rate():
    cid, rate = _layout()
    a = split_particles(SplitSpec(kind="rate", test_rates=[0.01], val_fraction=0.2, seed=1), cid, rate)
    assert np.all(a[rate == 0.01] == TEST)
    assert not np.any(a[rate != 0.01] == TEST)
    assert np.any(a == VAL) and np.any(a == TRAIN)
    with pytest.raises(ValueError, match="not in the dataset"):
        split_particles(SplitSpec(kind="rate", test_rates=[0.5]), cid, rate)


def test_random_split_fractions_and_determinism():
    cid, rate = _layout()
    a = split_particles(SplitSpec(kind="random", test_fraction=0.2, val_fraction=0.1, seed=7), cid, rate)
    b = split_particles(SplitSpec(kind="random", test_fraction=0.2, val_fraction=0.1, seed=7), cid, rate)
    assert np.array_equal(a, b)
    assert abs(np.mean(a == TEST) - 0.2) < 1e-3 and abs(np.mean(a == VAL) - 0.1) < 1e-3


def test_balanced_subset_equal_counts():
    cls = (np.arange(1000) % 5 == 0).astype(int)  # 20 % slow
    pick = balanced_subset(np.arange(1000), cls, seed=0)
    assert cls[pick].sum() == len(pick) // 2 == 200
    with pytest.raises(ValueError, match="cannot balance"):
        balanced_subset(np.arange(10), np.zeros(10, int))


def test_atomic_write_leaves_nothing_on_failure(tmp_path: Path):
    target = tmp_path / "x.npz"

    class Boom(np.ndarray):
        pass

    def bad():
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        from taulc.data.storage import atomic_write_with

        atomic_write_with(target, lambda tmp: (Path(tmp).write_bytes(b"half"), bad()))
    assert list(tmp_path.iterdir()) == []
    digest = save_npz(target, {"a": np.arange(3)})
    assert len(digest) == 64 and load_npz(target, ("a",))["a"].tolist() == [0, 1, 2]


def test_truncated_npz_and_missing_field_errors(tmp_path: Path):
    p = tmp_path / "s.npz"
    save_npz(p, {"a": np.arange(100)})
    atomic_write_bytes(p, p.read_bytes()[:50])
    with pytest.raises(DatasetError, match="truncated"):
        load_npz(p)
    save_npz(p, {"a": np.arange(3)})
    with pytest.raises(DatasetError, match=r"missing field\(s\) \['b'\]"):
        load_npz(p, ("a", "b"))


def test_manifest_compatibility_names_the_difference(tmp_path: Path):
    cfg = {"labels": {"n_replicas": 8}, "system": {"T": 0.6}}
    man = {"format_version": 1, "config": cfg, "config_hash": canonical_hash(cfg), "shards": []}
    check_compatible(man, tmp_path, cfg)
    other = json.loads(json.dumps(cfg))
    other["labels"]["n_replicas"] = 12
    with pytest.raises(DatasetError, match="labels.n_replicas: built with 8, requested 12"):
        check_compatible(man, tmp_path, other)
    with pytest.raises(DatasetError, match="format_version 0"):
        check_compatible({**man, "format_version": 0}, tmp_path, cfg)
    assert config_diff(cfg, cfg) == []


def test_fixed_roles_and_train_config_limit():
    """A dataset's recorded roles decide split=config; split=rate tests on the held-out rate's test configurations only;
    train_configs keeps n training configurations per rate and leaves validation and test alone."""
    from taulc.data.splits import UNUSED

    roles = (["train"] * 4 + ["val", "test"]) * 2  # 2 rates x 6 configurations
    cid = np.repeat(np.arange(12), 10)
    rate = np.repeat(np.repeat([0.0, 0.1], 6), 10)
    a = split_particles(SplitSpec(kind="config"), cid, rate, roles)
    per_cfg = a[::10]
    assert per_cfg.tolist() == [TRAIN] * 4 + [VAL, TEST] + [TRAIN] * 4 + [VAL, TEST]
    b = split_particles(SplitSpec(kind="rate", test_rates=[0.1]), cid, rate, roles)[::10]
    assert b.tolist() == [TRAIN] * 4 + [VAL, UNUSED] + [UNUSED] * 5 + [TEST]
    c = split_particles(SplitSpec(kind="config", train_configs=2, seed=3), cid, rate, roles)[::10]
    for r in (0, 1):
        block = c[6 * r : 6 * r + 6]
        assert (block[:4] == TRAIN).sum() == 2 and (block[:4] == UNUSED).sum() == 2 and block[4:].tolist() == [VAL, TEST]
    with pytest.raises(ValueError, match="only 4 training"):
        split_particles(SplitSpec(kind="config", train_configs=5), cid, rate, roles)
    # without roles (or with fixed=false) the configurations are drawn as before
    d = split_particles(SplitSpec(kind="config", fixed=False, seed=3), cid, rate, roles)
    assert np.array_equal(d, split_particles(SplitSpec(kind="config", seed=3), cid, rate))
