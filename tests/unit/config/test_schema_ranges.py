"""Each schema checks its own ranges when constructed (naming the field); the simulate and build roots parse once."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from omegaconf import OmegaConf

from taulc.data.formats import InputError
from taulc.data.ingest_checks import check_configurations, check_ingest_files
from taulc.data.specs import BuildConfig, DatasetSpec, SplitLabelsSpec
from taulc.dynamics.labels import LabelSettings
from taulc.errors import ConfigError
from taulc.md.configuration import Configuration
from taulc.md.engine_spec import EngineSpec
from taulc.md.protocol import MAX_RATE, ProtocolError, ProtocolSpec
from taulc.md.system import MAX_DT, SystemSpec, SystemSpecError, load_system
from taulc.simulate_config import SimulateConfig
from taulc.testing.data import compose

DEMO = {"name": "x", "n_atoms": 500, "density": 1.2, "temperature": 1.0}


def test_system_spec_refuses_unstable_integration():
    """dt > 0.01 and T·dt² > 5e-4 lose atoms in velocity-Verlet MD of the Kob-Andersen mixture."""
    assert MAX_DT == 0.01
    with pytest.raises(SystemSpecError, match=r"field 'system\.dt' = 0\.02 exceeds 0\.01 .*Lost atoms"):
        SystemSpec(**DEMO, dt=0.02)
    with pytest.raises(SystemSpecError, match=r"'system\.temperature' = 50 is outside the accepted range 0 < T <= 20"):
        SystemSpec(**{**DEMO, "temperature": 50.0})
    with pytest.raises(SystemSpecError, match=r"'system\.melt_temperature' = 10 .* for system\.dt = 0\.01"):
        SystemSpec(**DEMO, dt=0.01, melt_temperature=10.0)
    assert SystemSpec(**{**DEMO, "temperature": 20.0}).temperature == 20.0  # measured: runs at dt = 0.005


def test_protocol_spec_refuses_rates_out_of_range():
    assert MAX_RATE == 1.0
    with pytest.raises(ConfigError, match=r"'protocol\.rate' = 5 exceeds 1 .*SLLOD"):
        ProtocolSpec(name="steady", rate=5.0)
    with pytest.raises(ConfigError, match=r"'protocol\.rate_final' = 2 exceeds 1"):
        ProtocolSpec(name="switch", rate=0.01, rate_final=2.0)
    with pytest.raises(ProtocolError, match="'rate' must be >= 0"):
        ProtocolSpec(name="cessation", rate=-0.1)


def test_label_settings_check_every_construction():
    with pytest.raises(ConfigError, match=r"'labels\.n_replicas' must be >= 1"):
        LabelSettings(n_replicas=0)
    with pytest.raises(ConfigError, match=r"'labels\.n_replicas' must be an integer"):
        LabelSettings(n_replicas=2.5)
    with pytest.raises(ConfigError, match=r"'labels\.t_max' must be > 0"):
        LabelSettings(t_max=-1.0)
    with pytest.raises(ConfigError, match=r"'labels\.lc2' must be > 0"):
        LabelSettings(lc2=-0.1)
    with pytest.raises(ConfigError, match=r"labels\.t_max and labels\.sample_interval"):
        LabelSettings(sample_interval=100.0)
    with pytest.raises(ConfigError, match=r"'labels\.reliability_splits' must be >= 1"):
        replace(LabelSettings(), reliability_splits=0)
    assert LabelSettings(n_replicas=2, t_max=4, lc2="auto", q=7).t_max == 4  # ints and 'auto' are fine


def test_dataset_spec_refuses_bad_values():
    with pytest.raises(ConfigError, match=r"'dataset\.rates' lists a rate twice: \[0\.0, 0\.01, 0\.01\]"):
        DatasetSpec(name="x", rates=(0.0, 0.01, 0.01), n_configs=2)
    with pytest.raises(ConfigError, match=r"'dataset\.rates\[0\]' must be >= 0.*mirror"):
        DatasetSpec(name="x", rates=(-0.1,), n_configs=2)
    with pytest.raises(ConfigError, match=r"'dataset\.rates' must be a non-empty list"):
        DatasetSpec(name="x", n_configs=2)
    with pytest.raises(ConfigError, match=r"'dataset\.n_configs' must be >= 1"):
        DatasetSpec(name="x", rates=(0.01,), n_configs=0)
    with pytest.raises(ConfigError, match=r"'dataset\.name' must be a non-empty directory name"):
        DatasetSpec(name="a/b", rates=(0.01,), n_configs=1)
    with pytest.raises(ConfigError, match=r"'dataset\.spacing' must be > 0"):
        DatasetSpec(name="x", rates=(0.01,), n_configs=1, spacing=0.0)
    with pytest.raises(ConfigError, match=r"'dataset\.species_map' entry 2: 3"):
        DatasetSpec(name="x", source="ingest", files="a.dump", species_map={1: 0, 2: 3})
    with pytest.raises(ConfigError, match=r"'dataset\.files' is empty"):
        DatasetSpec(name="x", source="ingest")


def test_simulate_root_checks_across_nodes():
    system = load_system("demo")
    with pytest.raises(ConfigError, match=r"'protocol\.config_interval' = 0\.001 is shorter than one time step"):
        SimulateConfig(system=system, protocol=ProtocolSpec(name="steady", rate=0.01, config_interval=0.001))
    with pytest.raises(ProtocolError, match="oscillatory' samples no configurations"):
        SimulateConfig(system=system, protocol=ProtocolSpec(name="oscillatory", gamma0=0.05))
    with pytest.raises(ConfigError, match=r"'n_configs' must be >= 1"):
        SimulateConfig(system=system, protocol=ProtocolSpec(name="quiescent"), n_configs=0)
    with pytest.raises(ConfigError, match=r"field 'protocol' is missing \(choose protocol=<name>\)"):
        SimulateConfig.from_config({"system": system.to_dict()})


def test_build_root_checks_across_nodes():
    system, labels = load_system("demo"), LabelSettings()
    ds = DatasetSpec(name="x", rates=(0.01,), n_configs=4)
    with pytest.raises(ConfigError, match=r"'engine\.backend' = 'openmm': the build's MD .* runs on LAMMPS"):
        BuildConfig(system=system, dataset=ds, labels=labels, engine=EngineSpec(backend="openmm"))
    bad_test_labels = replace(ds, splits=SplitLabelsSpec(test=1, test_labels={"n_replicas": 0}))
    with pytest.raises(ConfigError, match=r"'dataset\.splits\.test_labels': .*'labels\.n_replicas' must be >= 1"):
        BuildConfig(system=system, dataset=bad_test_labels, labels=labels)


def test_composed_configs_parse():
    sim = SimulateConfig.from_config(
        OmegaConf.to_container(compose("simulate", ["protocol=switch", "n_configs=3", "seed=7"]), resolve=True)
    )
    assert (sim.n_configs, sim.seed, sim.protocol.kind, sim.system.name) == (3, 7, "switch", "demo")
    assert sim.progress is True and sim.record_atom_stress is False and sim.out_dir is None
    build = BuildConfig.from_config(OmegaConf.to_container(compose("build", ["dataset=demo"]), resolve=True))
    assert build.dataset.name == "demo" and build.engine.backend == "lammps" and build.labels.n_replicas >= 1


def test_ingest_input_checks(tmp_path):
    with pytest.raises(ConfigError, match=r"'dataset\.files': .*nope\.dump not found"):
        check_ingest_files([str(tmp_path / "nope.dump")])
    with pytest.raises(ConfigError, match="is not a file"):
        check_ingest_files([str(tmp_path)])
    system = SystemSpec(**DEMO)
    L = system.box_length
    pos = (np.indices((8, 8, 8)).reshape(3, -1).T[:500] + 0.5) * (L / 8)
    species = np.r_[np.zeros(400, dtype=np.int64), np.ones(100, dtype=np.int64)]
    conf = Configuration(pos, species, np.eye(3) * L, meta={"source_file": "a.dump"})
    check_configurations([conf], system)
    with pytest.raises(InputError, match=r"a\.dump \(frame 0\): density N/V"):
        check_configurations([Configuration(pos, species, np.eye(3) * L * 1.1, meta={"source_file": "a.dump"})], system)
    with pytest.raises(InputError, match=r"a\.dump \(frame 0\): 1 overlapping pair"):
        close = pos.copy()
        close[1] = close[0] + [0.2, 0.0, 0.0]
        check_configurations([Configuration(close, species, np.eye(3) * L, meta={"source_file": "a.dump"})], system)
