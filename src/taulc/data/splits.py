"""Train / validation / test splits (``conf/split/``).

Three kinds, all returning one label per particle (0 train, 1 val, 2 test):

* ``random``: particles drawn at random, as in the paper (80:20). Leaks
  through shared coarse-grained neighbourhoods (Eq. 11); report it, but
  trust the configuration split.
* ``config``: whole configurations held out per shear rate, so no particle
  of a test configuration is seen in training.
* ``rate``: whole shear rates held out for testing; validation takes whole
  configurations from the remaining rates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from taulc.config import from_mapping
from taulc.errors import ConfigError

TRAIN, VAL, TEST = 0, 1, 2


@dataclass(frozen=True)
class SplitSpec:
    """The ``split`` node (``conf/split/<kind>.yaml``); :meth:`from_config` refuses unknown or mistyped keys."""

    kind: Literal["random", "config", "rate"] = "config"
    test_fraction: float = 0.2
    val_fraction: float = 0.1
    test_rates: tuple[float, ...] | None = None  # split=rate: the held-out shear rates
    seed: int = 0

    def __post_init__(self) -> None:
        for k in ("test_fraction", "val_fraction"):
            v = getattr(self, k)
            if not 0.0 <= float(v) <= 1.0:
                raise ConfigError(f"field 'split.{k}' must be {'>= 0' if v < 0 else '<= 1'}, got {v!r}")
        total = float(self.test_fraction) + float(self.val_fraction)
        if self.kind != "rate" and total >= 1.0:
            raise ConfigError(f"fields 'split.test_fraction' + 'split.val_fraction' = {self.test_fraction:g} + "
                              f"{self.val_fraction:g} = {total:g} leave nothing to train on; their sum must be < 1 "
                              "(e.g. 0.2 + 0.1)")

    @classmethod
    def from_config(cls, node: SplitSpec | Mapping[str, Any] | None) -> SplitSpec:
        """The spec of a ``split`` config node (a spec is returned as is)."""
        return node if isinstance(node, cls) else from_mapping(cls, node, "split")


def _n_of(n: int, frac: float) -> int:
    return max(1, int(round(frac * n))) if frac > 0 else 0


def split_particles(
    spec: SplitSpec,
    config_id: np.ndarray,
    rate: np.ndarray,
) -> np.ndarray:
    """Assign every particle to train/val/test according to ``spec``."""
    rng = np.random.default_rng(spec.seed)
    n = len(config_id)
    out = np.full(n, TRAIN, dtype=np.int8)
    if spec.kind == "random":
        perm = rng.permutation(n)
        n_test, n_val = int(round(spec.test_fraction * n)), int(round(spec.val_fraction * n))
        out[perm[:n_test]] = TEST
        out[perm[n_test : n_test + n_val]] = VAL
        return out

    cfg_rate = {int(c): float(r) for c, r in zip(*np.unique(np.stack([config_id, rate]), axis=1))}
    rates = sorted(set(cfg_rate.values()))
    cfg_split: dict[int, int] = {}
    if spec.kind == "config":
        for r in rates:
            cfgs = np.array(sorted(c for c, cr in cfg_rate.items() if cr == r))
            if len(cfgs) < 3:
                raise ValueError(
                    f"split=config needs >= 3 configurations per shear rate (train, val, test); rate {r:g} has {len(cfgs)}"
                )
            cfgs = rng.permutation(cfgs)
            n_test = min(_n_of(len(cfgs), spec.test_fraction), len(cfgs) - 2)
            n_val = min(_n_of(len(cfgs), spec.val_fraction), len(cfgs) - n_test - 1)
            for c in cfgs[:n_test]:
                cfg_split[int(c)] = TEST
            for c in cfgs[n_test : n_test + n_val]:
                cfg_split[int(c)] = VAL
    elif spec.kind == "rate":
        if not spec.test_rates:
            raise ValueError("split=rate needs split.test_rates, e.g. split.test_rates=[0.01]")
        held = []
        for t in spec.test_rates:
            match = [r for r in rates if np.isclose(r, float(t), rtol=1e-6, atol=1e-12)]
            if not match:
                raise ValueError(f"split.test_rates: rate {t} is not in the dataset (rates: {rates})")
            held.append(match[0])
        if len(held) == len(rates):
            raise ValueError("split.test_rates holds out every rate; nothing left to train on")
        for c, r in cfg_rate.items():
            if r in held:
                cfg_split[c] = TEST
        for r in rates:
            if r in held:
                continue
            cfgs = rng.permutation(np.array(sorted(c for c, cr in cfg_rate.items() if cr == r)))
            if len(cfgs) < 2:
                raise ValueError(f"split=rate needs >= 2 configurations at every training rate; rate {r:g} has {len(cfgs)}")
            for c in cfgs[: min(_n_of(len(cfgs), spec.val_fraction), len(cfgs) - 1)]:
                cfg_split[int(c)] = VAL
    else:
        raise ValueError(f"unknown split kind '{spec.kind}'; expected random, config or rate")
    lut = np.zeros(int(config_id.max()) + 1, dtype=np.int8)
    for c, s in cfg_split.items():
        lut[c] = s
    return lut[config_id]


def balanced_subset(idx: np.ndarray, cls: np.ndarray, seed: int = 0) -> np.ndarray:
    """Equal numbers of slow and fast particles among ``idx`` (Sec. IV.B), by subsampling the majority."""
    rng = np.random.default_rng(seed)
    pos, neg = idx[cls[idx] == 1], idx[cls[idx] == 0]
    k = min(len(pos), len(neg))
    if k == 0:
        raise ValueError("cannot balance classes: one of slow/fast is empty in this split")
    pick = np.concatenate([rng.choice(pos, k, replace=False), rng.choice(neg, k, replace=False)])
    return np.sort(pick)
