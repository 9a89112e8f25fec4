"""Test support for models inside and outside taulc: ``from taulc.testing import ModelContract``.

:class:`ModelContract` (:mod:`taulc.testing.contract`) is the pytest mixin every model's tests subclass;
:mod:`taulc.testing.data` builds the tiny dataset it trains on. Needs pytest (the ``test`` extra).
"""

from __future__ import annotations

from taulc.testing.contract import ModelContract, contract_run
from taulc.testing.data import TINY_OVERRIDES, TRAIN_OVERRIDES, build_tiny_dataset, compose, shard, tilted_shard, tiny_build_cfg

__all__ = [
    "ModelContract",
    "contract_run",
    "TINY_OVERRIDES",
    "TRAIN_OVERRIDES",
    "build_tiny_dataset",
    "compose",
    "shard",
    "tilted_shard",
    "tiny_build_cfg",
]
