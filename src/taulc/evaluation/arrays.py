"""The test split of a trained model as arrays: its predictions (from Lightning's predict batches), the
matching truth, and the rows and configurations of each split, for tabular and graph datamodules alike."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["concat_predictions", "truth_for", "split_rows", "split_configs"]


def concat_predictions(batches: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """One array per model output from ``trainer.predict``'s batches (graph nodes outside ``mask`` dropped)."""
    keys = batches[0].keys()
    out = {k: np.concatenate([b[k].detach().cpu().numpy().reshape(len(b[k]), -1).squeeze(-1) for b in batches]) for k in keys}
    if "mask" in out:
        m = out.pop("mask").astype(bool)
        out = {k: v[m] if len(v) == len(m) else v for k, v in out.items()}
    out.pop("batch", None)
    return out


def truth_for(dm: Any, kind: str) -> dict[str, np.ndarray]:
    """The test split's truth (target, classes, configuration, rate, species, ...) in prediction order."""
    if kind == "tabular":
        return dm.arrays("test")
    cols: dict[str, list[np.ndarray]] = {}
    for g in dm.graphs["test"]:
        m = g.mask.numpy()
        for k in ("y", "cls", "config_id", "rate", "species", "ln_tau_lc", "mobility"):
            cols.setdefault(k, []).append(getattr(g, k).numpy()[m])
    return {k: np.concatenate(v) for k, v in cols.items()}


def split_rows(dm: Any, kind: str, target: str) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``dm.table`` in the training split (finite target) and, in prediction order, the test split."""
    from taulc.data.splits import TRAIN, split_particles  # noqa: PLC0415

    t = dm.table
    assign = dm.assign if kind == "tabular" else split_particles(dm.spec, t.config_id, t.rate, t.shard_roles)
    train = np.flatnonzero((assign == TRAIN) & np.isfinite(t.target(target)))
    if kind == "tabular":
        return train, np.asarray(dm.rows["test"])
    off = t.shard_offsets
    test = [off[int(g.config_id[0])] + np.flatnonzero(g.mask.numpy()) for g in dm.graphs["test"]]
    return train, np.concatenate(test)


def split_configs(dm: Any, kind: str) -> dict[str, list[int]]:
    """Global configuration ids that contribute particles to each split (recorded for evaluation)."""
    if kind == "tabular":
        cid = dm.table.config_id
        return {k: sorted(int(c) for c in np.unique(cid[r])) for k, r in dm.rows.items()}
    return {k: sorted({int(g.config_id[0]) for g in gs}) for k, gs in dm.graphs.items()}
