"""Fixtures shared by every test directory (pytest finds this file for tests/unit/* and tests/integration/).

The tiny dataset and the compose helpers are package code (:mod:`taulc.testing.data`: ``compose``,
``tiny_build_cfg``, ``TINY_OVERRIDES``, ``TRAIN_OVERRIDES``, ``shard``), so the model contract
(``taulc.testing.ModelContract``) and this suite share one build per session. Helpers that are not
fixtures live in the :mod:`tests.helpers` package."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from taulc.testing.data import build_tiny_dataset


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory) -> Path:
    """A 300-particle dataset: equilibrium + one shear rate, 3 configurations each, 2 ICE replicas."""
    return build_tiny_dataset(str(tmp_path_factory.getbasetemp()))


@pytest.fixture
def quiet_single_thread():
    """One torch thread and no warnings for the test (the model tests: ``pytest.mark.usefixtures``)."""
    import torch  # here, so that collecting the suite does not import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
    torch.set_num_threads(n)
