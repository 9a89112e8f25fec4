"""Typed build/simulate configs: the shipped demo keeps its identity, one engine vocabulary, unknown keys refused."""

from __future__ import annotations

import logging

import pytest
from omegaconf import OmegaConf

from taulc.config import from_mapping
from taulc.data.manifest import canonical_hash, read_manifest
from taulc.data.specs import BuildConfig, BuildSpec, DatasetSpec
from taulc.errors import ConfigError
from taulc.md.engine_spec import EngineSpec
from taulc.paths import default_data_root
from taulc.simulate_config import SimulateConfig
from taulc.testing.data import compose


def build_cfg(*overrides: str) -> dict:
    return OmegaConf.to_container(compose("build", ["dataset=demo", *overrides]), resolve=True)


def test_composed_demo_config_matches_the_shipped_manifest():
    """``src/taulc/conf/dataset/demo.yaml`` + system/labels as composed today hash to the shipped ``datasets/demo``
    (what ``python -m taulc.build dataset=demo`` compares before doing any MD), and the shipped start-up
    runs are found under the key of the composed ``build.startup`` settings."""
    from taulc.data.builder import DatasetBuilder, dataset_config
    from taulc.data.startup_runs import startup_dir

    root = default_data_root() / "demo"
    man = read_manifest(root)
    cfg = build_cfg()
    assert canonical_hash(dataset_config(cfg)) == man["config_hash"]
    b = DatasetBuilder(cfg, root)
    assert b.up_to_date()
    assert (startup_dir(root, man, b.spec.build.startup) / "r1.000e-01_c000.npz").is_file()


def test_demo_steady_sampling_is_a_protocol():
    """The builder's steady-shear sampling as a ProtocolSpec: transient = max(64, min(0.5/rate, 300)),
    a configuration every 64 τ (dataset.spacing), frames every 0.5 τ = 100 steps of dt = 0.005."""
    ds = BuildConfig.from_config(build_cfg()).dataset
    want = {0.0: 64.0, 0.001: 300.0, 0.01: 64.0, 0.03: 64.0, 0.1: 64.0}  # 0.5/0.001 = 500 capped; 0.5/0.01 = 50 < 64
    for rate, transient in want.items():
        p = ds.steady_protocol(rate, 0.005)
        assert p.transient == pytest.approx(transient, rel=0, abs=1e-12)
        assert p.rate_chain == rate and p.kind == ("steady" if rate else "quiescent")
        assert p.config_interval == 64.0 and p.sample_every == 100
    long = DatasetSpec(name="x", rates=(0.001,), n_configs=1, transient_time=10.0, transient_strain=0.5, transient_time_max=1e9)
    assert long.steady_protocol(0.001, 0.005).transient == pytest.approx(500.0)  # strain 0.5 reached at 0.001


def test_one_engine_vocabulary_for_simulate_and_build(caplog):
    sim = OmegaConf.to_container(compose("simulate", ["engine.n_threads=3"]), resolve=True)
    assert SimulateConfig.from_config(sim).engine == EngineSpec(n_threads=3)
    assert BuildConfig.from_config(build_cfg("engine.n_threads=3")).engine == EngineSpec(n_threads=3)
    with caplog.at_level(logging.WARNING, logger="taulc.config"):  # the old build key, still accepted
        assert BuildConfig.from_config(build_cfg("++engine.threads=2")).engine.n_threads == 2
    assert "'engine.threads' is now called 'engine.n_threads'" in caplog.text
    assert EngineSpec(n_threads=2).engine_kwargs() == {"n_threads": 2, "affine_integral": "trapezoid", "log_file": None}
    assert EngineSpec(n_threads=2).engine_kwargs("openmm") == {"n_threads": 2}


def test_the_thread_count_reaches_lammps_explicitly():
    """No module global: the stage's engine gets ``engine.n_threads`` from the typed config."""
    from taulc.data import stages

    assert not hasattr(stages, "THREADS")
    spec = BuildConfig.from_config(build_cfg("engine.n_threads=1", "system.n_atoms=300"))
    eng = stages.make_engine(spec.system, spec.engine, stages.steps(spec.labels.sample_interval, spec.system.dt))
    try:
        assert eng.n_threads == 1 and eng.sample_every == 20  # 0.1 / 0.005
    finally:
        eng.close()


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("++dataset.spacng=3", "'dataset.spacng' is unknown"),
        ("++build.stage=[label]", "'build.stage' is unknown"),
        ("++build.startup.strian=0.1", "'build.startup.strian' is unknown"),
        ("++engine.thread=2", "'engine.thread' is unknown"),
        ("++labels.n_replica=2", "'labels.n_replica' is unknown"),
        ("dataset.n_configs=2.5", "'dataset.n_configs': expected an integer"),
        ("build.force=maybe", "'build.force': expected true or false"),
        ("++engine.backend=openmm", "runs on LAMMPS; choose the engine of the ICE replicas with labels.engine"),
    ],
)
def test_build_refuses_unknown_or_mistyped_keys(override, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("[", r"\[")):
        BuildConfig.from_config(build_cfg(override))


def test_simulate_refuses_unknown_engine_key():
    sim = OmegaConf.to_container(compose("simulate", ["++engine.n_thread=1"]), resolve=True)
    with pytest.raises(ConfigError, match=r"'engine\.n_thread' is unknown"):
        SimulateConfig.from_config(sim)


def test_build_spec_defaults_are_the_yaml_defaults():
    """src/taulc/conf/build.yaml's ``build`` node and an empty node give the same typed spec (one set of defaults)."""
    assert from_mapping(BuildSpec, build_cfg()["build"], "build") == BuildSpec()
    assert from_mapping(EngineSpec, build_cfg()["engine"], "engine") == EngineSpec()
