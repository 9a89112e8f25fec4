"""DescriptorMLP: the shared model contract (taulc.testing.ModelContract) on the tiny dataset."""

from __future__ import annotations

from model_helpers import _quiet_single_thread  # noqa: F401  (autouse fixture)

from taulc.testing import ModelContract


class TestMLPContract(ModelContract):
    config = "mlp"
    overrides = ("model.hidden=16", "trainer.max_epochs=2")
