"""DescriptorMLP: the shared model contract (tests/model_contract.py) on the tiny dataset."""

from __future__ import annotations

from model_contract import ModelContract
from model_helpers import _quiet_single_thread  # noqa: F401  (autouse fixture)


class TestMLPContract(ModelContract):
    config = "mlp"
    overrides = ("model.hidden=16", "trainer.max_epochs=2")
