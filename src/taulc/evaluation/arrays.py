"""The test split of a trained model as arrays: its predictions from Lightning's predict batches (the matching
truth and the rows and configurations of each split come from the model's input kind,
:mod:`taulc.models.input_kinds`)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["concat_predictions"]


def concat_predictions(batches: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """One array per model output from ``trainer.predict``'s batches (graph nodes outside ``mask`` dropped)."""
    keys = batches[0].keys()
    out = {k: np.concatenate([b[k].detach().cpu().numpy().reshape(len(b[k]), -1).squeeze(-1) for b in batches]) for k in keys}
    if "mask" in out:
        m = out.pop("mask").astype(bool)
        out = {k: v[m] if len(v) == len(m) else v for k, v in out.items()}
    out.pop("batch", None)
    return out
