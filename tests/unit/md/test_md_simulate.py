"""The simulate stage: Hydra composition, every protocol, CLI smoke test."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

from taulc.md import read_configuration
from taulc.paths import conf_dir
from taulc.simulate import simulate

TINY = [
    "system=demo",
    "system.n_atoms=300",
    "system.temperature=0.8",
    "system.equilibration_time=2",
    "system.melt_time=1",
    "n_configs=2",
    "progress=false",
    "engine.n_threads=1",
]


def _cfg(*overrides: str):
    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        return compose("simulate", overrides=[*TINY, *overrides])


@pytest.mark.parametrize(
    "proto",
    [
        ["protocol=quiescent", "protocol.config_interval=1"],
        [
            "protocol=startup",
            "protocol.rate=0.1",
            "protocol.t0=0.5",
            "protocol.config_interval=1",
            "protocol.after_duration=1",
            "record_atom_stress=true",
        ],
        [
            "protocol=switch",
            "protocol.rate=0.1",
            "protocol.rate_final=0.05",
            "protocol.transient_strain=0.1",
            "protocol.config_interval=1",
            "protocol.after_duration=0.5",
        ],
        [
            "protocol=cessation",
            "protocol.rate=0.1",
            "protocol.transient_strain=0.1",
            "protocol.config_interval=1",
            "protocol.after_duration=0.5",
        ],
    ],
    ids=["quiescent", "startup", "switch", "cessation"],
)
def test_protocols(tmp_path, proto):
    cfg = _cfg(*proto)
    summary = simulate(cfg, out_dir=tmp_path)
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert saved["n_configs"] == 2 and len(saved["configs"]) == 2
    kind = cfg.protocol.kind
    confs = [read_configuration(tmp_path / r["file"]) for r in summary["configs"]]
    for c in confs:
        assert c.n_atoms == 300 and c.meta["protocol"] == kind
        assert c.meta["rate_after"] == saved["protocol"]["rate_after"]
        assert c.meta["master_seed"] == 0 and "init" in c.meta["seeds"]
    if kind == "quiescent":
        assert all(c.tilt == 0.0 and c.meta["strain"] == 0.0 for c in confs)
        assert "viscosity" not in saved
    if kind == "startup":  # configurations t0 = 0.5 after start-up at 0.1: strain 0.05
        assert all(c.meta["strain"] == pytest.approx(0.05) for c in confs)
        assert saved["configs"][0]["after"]["rate"] == 0.1
        z = np.load(tmp_path / saved["configs"][0]["after"]["atom_stress_file"])
        total = (z["atom_stress_xy"] * z["particle_volume"]).sum(axis=1) / confs[0].volume
        np.testing.assert_allclose(total, -z["stress_xy"], atol=1e-4)  # float32 storage
    if kind in ("switch", "cessation"):
        assert saved["viscosity"]["rate"] == 0.1 and saved["viscosity"]["eta"] > 0
        assert confs[1].meta["strain"] > confs[0].meta["strain"] > 0.1
        assert "after" in saved["configs"][0]
    assert abs(saved["temperature_mean"] - 0.8) < 0.05
    # consecutive configurations are distinct states of one chain
    assert not np.array_equal(confs[0].positions, confs[1].positions)


def test_bad_override_names_the_field(tmp_path):
    with pytest.raises(ValueError, match="'rate'"):
        simulate(_cfg("protocol=steady", "protocol.rate=-0.01"), out_dir=tmp_path)
    with pytest.raises(ValueError, match="n_configs"):
        simulate(_cfg("protocol=steady", "n_configs=0"), out_dir=tmp_path)
    assert not (tmp_path / "summary.json").exists()


def test_cli_steady(tmp_path):
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "taulc.simulate",
        *TINY,
        "protocol=steady",
        "protocol.rate=0.1",
        "protocol.transient_strain=0.1",
        "protocol.config_interval=1",
        f"hydra.run.dir={out}",
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["viscosity"]["eta"] > 0
    assert sorted(p.name for p in (out / "configs").iterdir()) == ["conf_0000.extxyz", "conf_0001.extxyz"]
    bad = subprocess.run([sys.executable, "-m", "taulc.simulate", "system=nope"], capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "nope" in bad.stderr
