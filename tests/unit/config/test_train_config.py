"""``TrainConfig``: train.yaml parsed once into typed fields; a bad field is refused by name before any work."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from taulc.errors import ConfigError
from taulc.testing.data import TRAIN_OVERRIDES, compose
from taulc.train_config import TrainConfig


def _plain(overrides: list[str]) -> dict:
    c = OmegaConf.to_container(compose("train", [*TRAIN_OVERRIDES, *overrides]), resolve=True)
    assert isinstance(c, dict)
    return c


def test_composed_train_config_parses_into_typed_fields() -> None:
    tc = TrainConfig.from_config(_plain(["model=ridge", "seed=3", "optimized_metric=val/pearson"]))
    assert tc.seed == 3 and tc.split.seed == 3  # ${seed} reaches the split
    assert tc.model_target.endswith("RidgeRegressor")
    assert tc.optimized_metric == "val/pearson" and tc.run_dir is None and tc.ckpt_path is None
    assert tc.target.name == "ln_tau_lc" and tc.target.estimator == "logmean"
    assert tc.data.batch_size >= 1 and tc.early_stopping.patience >= 0


@pytest.mark.parametrize(
    ("override", "field"),
    [("seed=-1", "seed"), ("trainer.max_epochs=0", "trainer.max_epochs"), ("split.test_fraction=1.5", "split.test_fraction")],
)
def test_out_of_range_field_is_named(override: str, field: str) -> None:
    with pytest.raises(ConfigError, match=f"'{field}'"):
        TrainConfig.from_config(_plain([override]))


def test_missing_model_is_refused() -> None:
    c = _plain([])
    del c["model"]
    with pytest.raises(ConfigError, match="field 'model' is missing"):
        TrainConfig.from_config(c)


def test_direct_construction_checks_ranges() -> None:
    tc = TrainConfig.from_config(_plain([]))
    with pytest.raises(ConfigError, match="'seed'"):
        type(tc)(**{**tc.__dict__, "seed": -2})
