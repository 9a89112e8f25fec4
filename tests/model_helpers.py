"""Helpers shared by the model tests: a quiet single-thread fixture and a bare Lightning Trainer."""

from __future__ import annotations

import warnings

import lightning.pytorch as pl
import pytest
import torch


@pytest.fixture(autouse=True)
def _quiet_single_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
    torch.set_num_threads(n)


def make_trainer(max_epochs: int, num_sanity_val_steps: int = 0, **kw) -> pl.Trainer:
    """A CPU Trainer without logger, checkpoints, progress bars or summaries (override any via ``kw``)."""
    args = dict(max_epochs=max_epochs, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                enable_model_summary=False, num_sanity_val_steps=num_sanity_val_steps, accelerator="cpu", devices=1)
    args.update(kw)
    return pl.Trainer(**args)
