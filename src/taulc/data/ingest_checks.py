"""Checks of a ``dataset=ingest`` build's inputs, run before any MD: the listed files, then the frames read from them.

* :func:`check_ingest_files`: every ``dataset.files`` entry exists and is a file (the list's non-emptiness is a
  range check of :class:`taulc.data.specs.DatasetSpec`);
* :func:`check_configurations`: the ingested configurations against the system they will be simulated with:
  N, ρ, composition and overlapping pairs (:mod:`taulc.structure.overlaps`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from taulc.data.formats import InputError
from taulc.errors import ConfigError
from taulc.md.configuration import Configuration
from taulc.md.system import SystemSpec
from taulc.structure.overlaps import find_overlaps, overlap_message

__all__ = ["check_configurations", "check_ingest_files"]


def check_ingest_files(files: Sequence[str]) -> None:
    """Every ``dataset.files`` entry is an existing file, else a ConfigError naming it."""
    for f in files:
        p = Path(f)
        if not p.exists():
            raise ConfigError(f"field 'dataset.files': {p} not found")
        if not p.is_file():
            raise ConfigError(f"field 'dataset.files': {p} is not a file (a directory?); list the files themselves")


def check_configurations(confs: Sequence[Configuration], system: SystemSpec) -> None:
    """Ingested configurations against ``system``: N, ρ, composition, overlaps.

    ``confs`` carry ``meta['source_file']`` / ``meta['source_frame']``; raises
    :class:`taulc.data.formats.InputError` naming the file and frame.
    """

    sig = system.sigma
    sigma = np.array([[sig["bb"], sig["bs"]], [sig["bs"], sig["ss"]]], dtype=float)
    for conf in confs:
        where = f"{conf.meta.get('source_file', '<configuration>')} (frame {conf.meta.get('source_frame', 0)})"
        n = len(conf.species)
        if n != system.n_atoms:
            raise InputError(
                f"{where}: {n} particles, but system '{system.name}' has system.n_atoms = {system.n_atoms}; "
                f"choose the matching system or override system.n_atoms={n}"
            )
        rho = n / abs(float(np.linalg.det(conf.cell)))
        if abs(rho - system.density) > 1e-4 * system.density:
            raise InputError(
                f"{where}: density N/V = {rho:.6g}, but system '{system.name}' has system.density = "
                f"{system.density:g}; override system.density={rho:.6g} or check the box"
            )
        n_small = int(np.sum(conf.species == 1))
        if n_small != system.n_small:
            hint = (
                " - the type map looks swapped (type 1 is the small species here): set dataset.species_map='{1: 1, 2: 0}'"
                if n - n_small == system.n_small
                else "; check dataset.species_map or system.fraction_small"
            )
            raise InputError(
                f"{where}: {n_small} small particles (species 1), but system '{system.name}' has "
                f"{system.n_small} (system.fraction_small = {system.fraction_small:g}){hint}"
            )
        found = find_overlaps(conf.positions, conf.species, conf.cell, sigma)
        if found[0]:
            raise InputError(overlap_message(where, found))
