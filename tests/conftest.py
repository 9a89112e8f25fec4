"""Shared fixtures: a tiny but real dataset (LAMMPS + ICE labels), composed from src/taulc/conf/ like users do.

The dataset and the compose helpers are package code (:mod:`taulc.testing.data`), so the model contract
(``taulc.testing.ModelContract``) and this suite share one build per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from taulc.testing.data import TINY_OVERRIDES, build_tiny_dataset, compose, tiny_build_cfg

__all__ = ["TINY_OVERRIDES", "compose", "tiny_build_cfg"]  # imported by the test modules


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory) -> Path:
    """A 300-particle dataset: equilibrium + one shear rate, 3 configurations each, 2 ICE replicas."""
    return build_tiny_dataset(str(tmp_path_factory.getbasetemp()))
