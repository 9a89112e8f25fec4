"""Bad inputs give errors that name the field (no MD run needed)."""

from __future__ import annotations

import numpy as np
import pytest

from taulc.md import (
    Configuration,
    ProtocolError,
    ProtocolSpec,
    Segment,
    SystemSpec,
    SystemSpecError,
    available_systems,
    load_protocol,
    load_system,
)


def test_paper_systems_and_demo():
    assert {"demo", "sample_a", "sample_b"} <= set(available_systems())
    a, b, d = load_system("sample_a"), load_system("sample_b"), load_system("demo")
    assert (a.n_atoms, a.density, a.temperature) == (10976, 1.38, 1.0)
    assert (b.n_atoms, b.density, b.temperature) == (9000, 1.2, 0.48)
    for s in (a, b, d):
        assert dict(s.epsilon) == {"bb": 1.0, "bs": 1.5, "ss": 0.5}
        assert dict(s.sigma) == {"bb": 1.0, "bs": 0.8, "ss": 0.88}
        assert s.dt == 0.005 and s.cutoff == 2.5 and s.cutoff_mode == "global"
        assert abs(s.tdamp - 100 * s.dt) < 1e-12
    assert d.box_length > 2 * 5.3
    assert b.n_small == 1800 and b.n_big == 7200


def test_unknown_system():
    with pytest.raises(SystemSpecError, match="unknown system 'nope'"):
        load_system("nope")


def test_bad_system_fields():
    with pytest.raises(SystemSpecError, match="'density'"):
        SystemSpec(name="x", n_atoms=500, density=-1.0, temperature=1.0)
    with pytest.raises(SystemSpecError, match="'n_atoms'"):
        SystemSpec(name="x", n_atoms=50, density=1.2, temperature=1.0)  # box < 2 r_c
    with pytest.raises(SystemSpecError, match="unknown field"):
        SystemSpec.from_config({"name": "x", "n_atoms": 500, "density": 1.2, "temperature": 1.0, "densty": 1.2})
    with pytest.raises(SystemSpecError, match="'sigma'"):
        SystemSpec(name="x", n_atoms=500, density=1.2, temperature=1.0, sigma={"bb": 1.0})


def test_negative_rate():
    with pytest.raises(ValueError, match="'rate'"):
        Segment(1.0, -0.01)
    with pytest.raises(ProtocolError, match="'rate'"):
        load_protocol("steady", rate=-0.01)
    with pytest.raises(ProtocolError, match="'rate'"):
        ProtocolSpec(name="steady", rate=0.0)
    with pytest.raises(ProtocolError, match="'rate_final'"):
        ProtocolSpec(name="switch", rate=0.01)
    with pytest.raises(ProtocolError, match="'kind'"):
        ProtocolSpec(name="wobble", rate=0.01)


def test_protocol_rates():
    rates = {
        n: (load_protocol(n).rate_before, load_protocol(n).rate_after)
        for n in ("quiescent", "steady", "startup", "switch", "cessation")
    }
    assert rates["quiescent"] == (0.0, 0.0)
    assert rates["steady"] == (0.01, 0.01)
    assert rates["startup"] == (0.0, 0.01)
    assert rates["switch"] == (0.03, 0.01)
    assert rates["cessation"] == (0.01, 0.0)
    assert load_protocol("steady").transient == pytest.approx(200.0)


def test_configuration_inconsistent_with_system():
    s = SystemSpec(name="x", n_atoms=400, density=1.2, temperature=1.0)
    L = s.box_length
    rng = np.random.default_rng(0)
    good = Configuration(rng.random((400, 3)) * L, np.r_[np.zeros(320), np.ones(80)], np.eye(3) * L)
    s.check_box(good.n_atoms, good.volume)
    with pytest.raises(SystemSpecError, match="'n_atoms'"):
        s.check_box(399, good.volume)
    with pytest.raises(SystemSpecError, match="density"):
        s.check_box(400, good.volume * 1.1)
