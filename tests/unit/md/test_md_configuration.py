"""Configuration dataclass and extxyz round trips (no MD)."""

from __future__ import annotations

import numpy as np
import pytest

from taulc.md import Configuration, ConfigurationError, read_configuration, write_configuration


def _conf(n: int = 50, tilt: float = 1.3, seed: int = 0) -> Configuration:
    rng = np.random.default_rng(seed)
    cell = np.array([[5.0, 0, 0], [tilt, 5.5, 0], [0, 0, 6.0]])
    frac = rng.random((n, 3))
    species = (rng.random(n) < 0.2).astype(np.int64)
    return Configuration(
        frac @ cell,
        species,
        cell,
        rng.normal(size=(n, 3)) / 3,
        {"system": "unit", "rate": 0.01, "strain": 1.25, "seeds": {"init": 3}},
    )


def test_roundtrip_bit_identical(tmp_path):
    c = _conf()
    c.positions[0] = [1 / 3, np.pi, np.nextafter(2.0, 3.0)]  # values that need 17 digits
    p = write_configuration(tmp_path / "c.extxyz", c)
    d = read_configuration(p)
    assert np.array_equal(d.positions, c.positions)
    assert np.array_equal(d.velocities, c.velocities)
    assert np.array_equal(d.cell, c.cell)
    assert np.array_equal(d.species, c.species)
    assert d.meta["strain"] == 1.25 and d.meta["seeds"] == {"init": 3}
    assert not list(tmp_path.glob(".*tmp"))  # atomic write left no temp file


def test_readable_by_ase(tmp_path):
    from ase.io import read

    c = _conf()
    write_configuration(tmp_path / "c.extxyz", c)
    atoms = read(tmp_path / "c.extxyz")
    assert atoms.get_chemical_symbols()[:3] == [("Ni", "P")[s] for s in c.species[:3]]
    np.testing.assert_allclose(atoms.cell[:], c.cell)
    assert atoms.pbc.all()


def test_wrong_species_is_named(tmp_path):
    c = _conf()
    write_configuration(tmp_path / "c.extxyz", c, symbols=("Cu", "Zr"))
    with pytest.raises(ConfigurationError, match="species"):
        read_configuration(tmp_path / "c.extxyz", symbols=("Ni", "P"))
    # the symbols recorded in the file are used by default
    assert np.array_equal(read_configuration(tmp_path / "c.extxyz").species, c.species)


def test_missing_cell_is_named(tmp_path):
    p = tmp_path / "nocell.extxyz"
    p.write_text("2\nProperties=species:S:1:pos:R:3\nNi 0 0 0\nP 1 1 1\n")
    with pytest.raises(ConfigurationError, match="Lattice"):
        read_configuration(p)


def test_in_memory_validation():
    c = _conf()
    with pytest.raises(ConfigurationError, match="species"):
        Configuration(c.positions, np.full(c.n_atoms, 2), c.cell)
    with pytest.raises(ConfigurationError, match="cell"):
        Configuration(c.positions, c.species, np.eye(3)[:2])
    with pytest.raises(ConfigurationError, match="velocities"):
        Configuration(c.positions, c.species, c.cell, np.zeros((3, 3)))
    assert abs(c.density - c.n_atoms / 165.0) < 1e-12
