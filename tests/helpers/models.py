"""A bare Lightning Trainer for the model tests (the quiet single-thread fixture is in tests/conftest.py)."""

from __future__ import annotations

import lightning.pytorch as pl


def make_trainer(max_epochs: int, num_sanity_val_steps: int = 0, **kw) -> pl.Trainer:
    """A CPU Trainer without logger, checkpoints, progress bars or summaries (override any via ``kw``)."""
    args = dict(
        max_epochs=max_epochs,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=num_sanity_val_steps,
        accelerator="cpu",
        devices=1,
    )
    args.update(kw)
    return pl.Trainer(**args)
