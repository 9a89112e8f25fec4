"""DescriptorMLP: the shared model contract (taulc.testing.ModelContract) on the tiny dataset."""

from __future__ import annotations

import pytest

from taulc.testing import ModelContract

pytestmark = pytest.mark.usefixtures("quiet_single_thread")  # tests/conftest.py


class TestMLPContract(ModelContract):
    config = "mlp"
    overrides = ("model.hidden=16", "trainer.max_epochs=2")
