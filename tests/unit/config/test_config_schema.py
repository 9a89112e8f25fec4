"""taulc.config.from_mapping: typed views of config nodes, errors naming the field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pytest

from taulc.config import from_mapping, to_mapping
from taulc.errors import ConfigError


@dataclass(frozen=True)
class Inner:
    patience: int = 10
    min_delta: float = 1e-3


@dataclass(frozen=True)
class Outer:
    name: str
    rates: list[float] = field(default_factory=lambda: [0.0])
    kind: Literal["config", "rate"] = "config"
    n: int | None = None
    on: bool = False
    inner: Inner = field(default_factory=Inner)
    _aliases = {"old_n": "n"}


def test_converts_by_annotation_and_fills_defaults() -> None:
    s = from_mapping(Outer, {"name": "x", "rates": [0, "1e-2"], "n": 3.0, "on": "true", "inner": {"patience": 4}}, "ds")
    assert s.rates == [0.0, 0.01] and s.n == 3 and isinstance(s.n, int) and s.on is True
    assert s.inner == Inner(patience=4, min_delta=1e-3)
    assert from_mapping(Outer, {"name": "x", "n": None}, "ds").n is None
    assert to_mapping(s)["inner"] == {"patience": 4, "min_delta": 1e-3}


@pytest.mark.parametrize(
    ("data", "msg"),
    [
        ({"name": "x", "ratse": [0.0]}, "'ds.ratse' is unknown"),
        ({"rates": [0.0]}, "'ds.name' is required"),
        ({"name": "x", "n": 2.5}, "'ds.n': expected an integer"),
        ({"name": "x", "rates": [0.0, "fast"]}, "'ds.rates[1]': expected a number"),
        ({"name": "x", "kind": "random"}, "'ds.kind': must be one of"),
        ({"name": "x", "inner": {"patiense": 1}}, "'ds.inner.patiense' is unknown"),
        ({"name": "x", "on": 2}, "'ds.on': expected true or false"),
    ],
)
def test_refuses_with_the_field_named(data: dict, msg: str) -> None:
    with pytest.raises(ConfigError, match=msg.replace("[", r"\[").replace("]", r"\]")):
        from_mapping(Outer, data, "ds")


def test_old_key_names_are_accepted_once() -> None:
    assert from_mapping(Outer, {"name": "x", "old_n": 5}, "ds").n == 5
    assert from_mapping(Outer, {"name": "x", "old_n": 5, "n": None}, "ds").n == 5  # new key left at its null default
    with pytest.raises(ConfigError, match="old name of 'ds.n'"):
        from_mapping(Outer, {"name": "x", "old_n": 5, "n": 6}, "ds")


# --------------------------------------------------------------------------- the train / evaluate schemas
def _yaml(name: str) -> dict:
    from omegaconf import OmegaConf

    from taulc.paths import conf_dir

    raw = OmegaConf.load(conf_dir() / name)
    for k in ("defaults", "hydra"):
        raw.pop(k, None)
    return OmegaConf.to_container(OmegaConf.create({"seed": 0, "node": raw}), resolve=True)["node"]  # ${seed} = 0


def test_schema_defaults_are_the_shipped_yaml_defaults() -> None:
    """The dataclass defaults (used when a key is absent) equal what src/taulc/conf/*.yaml ships."""
    from taulc.analysis.cluster_analysis import ClustersSpec
    from taulc.analysis.context import EvaluateSpec
    from taulc.data.splits import SplitSpec
    from taulc.data.train_spec import TrainDataSpec
    from taulc.evaluation.skill import TargetSpec, target_spec
    from taulc.models.callbacks import EarlyStoppingSpec

    train = _yaml("train.yaml")
    assert TrainDataSpec.from_config(train["data"]) == TrainDataSpec()
    assert EarlyStoppingSpec.from_config(train["early_stopping"]) == EarlyStoppingSpec()
    assert target_spec(train["target"]) == TargetSpec()
    assert SplitSpec.from_config(_yaml("split/config.yaml")) == SplitSpec()
    assert SplitSpec.from_config(_yaml("split/rate.yaml")).test_rates == (0.01,)
    ev = _yaml("evaluate.yaml")
    spec = EvaluateSpec.from_config(ev)  # the root, parsed once: analysis.clusters is typed with the rest
    assert spec == EvaluateSpec() and isinstance(spec.analysis.clusters, ClustersSpec)
    assert spec.analysis.clusters == ClustersSpec.from_config(ev["analysis"]["clusters"]) == ClustersSpec()
    typed = to_mapping(EvaluateSpec())["analysis"]
    shipped_clusters = ev["analysis"].pop("clusters")
    assert {k: v for k, v in typed.items() if k != "clusters"} == ev["analysis"]  # every shipped key is a field
    assert {k: typed["clusters"][k] for k in shipped_clusters} == shipped_clusters  # ... with the same value
    assert {k: ev[k] for k in ("run", "runs", "runs_root", "data_root", "out")} == {
        k: v for k, v in to_mapping(EvaluateSpec()).items() if k != "analysis"
    }


@pytest.mark.parametrize(
    ("node", "data", "msg"),
    [
        ("split", {"kind": "config", "tset_fraction": 0.3}, "'split.tset_fraction' is unknown"),
        ("split", {"kind": "config", "test_fraction": 1.5}, "'split.test_fraction' must be <= 1"),
        ("data", {"balance": True}, "'data.balance' is unknown"),
        ("data", {"batch_size": 0}, "'data.batch_size' must be >= 1"),
        ("target", {"nam": "ln_tau_lc"}, "'target.nam' is unknown"),
        ("target", {"reference_species": "medium"}, "target.reference_species must be 0 (big), 1 (small) or all"),
        ("early_stopping", {"patience": -1}, "'early_stopping.patience' must be >= 0"),
        ("analysis", {"importance": {"greedy": 3}}, "'analysis.importance.greedy' is unknown"),
        ("analysis", {"rheology": {"thinning_min_rate": "low"}}, "'analysis.rheology.thinning_min_rate'"),
        ("analysis", {"n_grid": 1}, "'analysis.n_grid' must be >= 2"),
        ("analysis", {"relation": {"min_count": 0}}, "'analysis.relation.min_count' must be >= 1"),
        ("analysis", {"rheology": {"thinning_min_rate": -0.1}}, "'analysis.rheology.thinning_min_rate' must be > 0"),
        ("analysis", {"gnn": {"n_repeats": 0}}, "'analysis.gnn.n_repeats' must be >= 1"),
        ("analysis", {"clusters": {"t_r": 0}}, "'analysis.clusters.t_r' must be > 0"),
        ("analysis", {"clusters": {"threshold_c": 1.5}}, "'analysis.clusters.threshold_c' must be <= 1"),
        ("analysis", {"clusters": {"phop_form": "area"}}, "'analysis.clusters.phop_form' must be one of"),
        ("analysis", {"clusters": {"tr": 1}}, "'analysis.clusters.tr' is unknown"),
        ("evaluate", {"analysis": {"clusters": {"max_life_cycles": -1}}}, "'analysis.clusters.max_life_cycles' must be >= 0"),
        ("evaluate", {"runs_root": " "}, "'runs_root' must name a directory"),
    ],
)
def test_train_and_evaluate_nodes_refuse_naming_the_field(node: str, data: dict, msg: str) -> None:
    import re

    from taulc.analysis.context import EvaluateSpec, analysis_spec
    from taulc.data.splits import SplitSpec
    from taulc.data.train_spec import TrainDataSpec
    from taulc.evaluation.skill import target_spec
    from taulc.models.callbacks import EarlyStoppingSpec

    parse = {
        "split": SplitSpec.from_config,
        "data": TrainDataSpec.from_config,
        "target": target_spec,
        "early_stopping": EarlyStoppingSpec.from_config,
        "analysis": analysis_spec,
        "evaluate": EvaluateSpec.from_config,
    }[node]
    with pytest.raises(ConfigError, match=re.escape(msg)):
        parse(data)


def test_target_spellings_are_kept() -> None:
    from taulc.evaluation.skill import target_spec

    assert target_spec("ln_tau_sh").name == "ln_tau_sh"  # bare name (older runs)
    assert [target_spec({"reference_species": s}).reference_species for s in ("big", "small", "all", 1, "0", None)] == [
        0,
        1,
        None,
        1,
        0,
        None,
    ]
    assert target_spec({"structural_baseline": False}).structural_baseline is None


def test_evaluate_runs_spellings() -> None:
    from taulc.analysis.context import EvaluateSpec

    assert EvaluateSpec.from_config({"runs": "auto"}).auto and EvaluateSpec().extra_runs == []
    assert EvaluateSpec.from_config({"runs": ["a", "b"]}).extra_runs == ["a", "b"]
    assert EvaluateSpec.from_config({"runs": "runs/ridge/latest"}).extra_runs == ["runs/ridge/latest"]
    assert EvaluateSpec.from_config({"runs": []}).extra_runs == [] and not EvaluateSpec.from_config({"runs": None}).auto
    assert (
        EvaluateSpec.from_config({"analysis": {"importance": {"full_descriptor": False}}}).analysis.importance.full_descriptor
        is None
    )
