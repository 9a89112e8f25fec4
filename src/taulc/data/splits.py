"""Train / validation / test splits (``src/taulc/conf/split/``).

Three kinds, all returning one label per particle (0 train, 1 val, 2 test):

* ``random``: particles drawn at random, as in the paper (80:20). Leaks
  through shared coarse-grained neighbourhoods (Eq. 11); report it, but
  trust the configuration split.
* ``config``: whole configurations held out per shear rate, so no particle
  of a test configuration is seen in training.
* ``rate``: whole shear rates held out for testing; validation takes whole
  configurations from the remaining rates.

**Fixed splits.**  A dataset built with ``dataset.splits`` records a role for every
configuration (the test configurations carry precise, many-replica labels; training and
validation ones cheap labels).  With ``split.fixed: true`` (default) ``config`` uses those
roles as they are, and ``rate`` tests on the *test* configurations of the held-out rates
(their other configurations are left out: their labels are too noisy to score on) and
validates on the *validation* configurations of the other rates.  Datasets without roles
are split at random as above.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from taulc.config import from_mapping
from taulc.errors import ConfigError

TRAIN, VAL, TEST = 0, 1, 2
UNUSED = -1
"""A particle in none of the three splits (split=rate with fixed roles: non-test configurations of a held-out rate)."""


@dataclass(frozen=True)
class SplitSpec:
    """The ``split`` node (``src/taulc/conf/split/<kind>.yaml``); :meth:`from_config` refuses unknown or mistyped keys."""

    kind: Literal["random", "config", "rate"] = "config"
    test_fraction: float = 0.2
    val_fraction: float = 0.1
    test_rates: tuple[float, ...] | None = None  # split=rate: the held-out shear rates
    seed: int = 0
    fixed: bool = True  # use the dataset's recorded configuration roles (dataset.splits) when it has them
    train_configs: int | None = None  # keep this many training configurations per rate (learning curves); None = all

    def __post_init__(self) -> None:
        for k in ("test_fraction", "val_fraction"):
            v = getattr(self, k)
            if not 0.0 <= float(v) <= 1.0:
                raise ConfigError(f"field 'split.{k}' must be {'>= 0' if v < 0 else '<= 1'}, got {v!r}")
        if self.train_configs is not None and int(self.train_configs) < 1:
            raise ConfigError(f"field 'split.train_configs' must be >= 1 or null, got {self.train_configs!r}")
        total = float(self.test_fraction) + float(self.val_fraction)
        if self.kind != "rate" and total >= 1.0:
            raise ConfigError(
                f"fields 'split.test_fraction' + 'split.val_fraction' = {self.test_fraction:g} + "
                f"{self.val_fraction:g} = {total:g} leave nothing to train on; their sum must be < 1 "
                "(e.g. 0.2 + 0.1)"
            )

    @classmethod
    def from_config(cls, node: SplitSpec | Mapping[str, Any] | None) -> SplitSpec:
        """The spec of a ``split`` config node (a spec is returned as is)."""
        return node if isinstance(node, cls) else from_mapping(cls, node, "split")


def _n_of(n: int, frac: float) -> int:
    return max(1, int(round(frac * n))) if frac > 0 else 0


def _fixed_split(spec: SplitSpec, config_id: np.ndarray, rate: np.ndarray, roles: Sequence[str]) -> np.ndarray:
    """Per-particle codes from the dataset's configuration roles (module docstring, *Fixed splits*)."""
    code = {"train": TRAIN, "val": VAL, "test": TEST}
    per_cfg = np.array([code[r] for r in roles], dtype=np.int8)
    if spec.kind == "rate":
        if not spec.test_rates:
            raise ValueError("split=rate needs split.test_rates, e.g. split.test_rates=[0.01]")
        cfg_rate = np.zeros(len(roles))
        cfg_rate[config_id] = rate
        rates = sorted(set(cfg_rate.tolist()))
        held = np.zeros(len(roles), dtype=bool)
        for t in spec.test_rates:
            match = [r for r in rates if np.isclose(r, float(t), rtol=1e-6, atol=1e-12)]
            if not match:
                raise ValueError(f"split.test_rates: rate {t} is not in the dataset (rates: {rates})")
            held |= np.isclose(cfg_rate, match[0], rtol=1e-6, atol=1e-12)
        if held.all():
            raise ValueError("split.test_rates holds out every rate; nothing left to train on")
        per_cfg = np.where(held, np.where(per_cfg == TEST, TEST, UNUSED), np.where(per_cfg == TEST, UNUSED, per_cfg))
        per_cfg = per_cfg.astype(np.int8)
    for name, c in (("train", TRAIN), ("val", VAL), ("test", TEST)):
        if not (per_cfg == c).any():
            raise ValueError(f"split={spec.kind} with the dataset's fixed roles leaves no {name} configuration")
    return per_cfg[config_id]


def split_particles(
    spec: SplitSpec,
    config_id: np.ndarray,
    rate: np.ndarray,
    roles: Sequence[str] | None = None,
) -> np.ndarray:
    """Assign every particle to train/val/test (:data:`UNUSED` for none) according to ``spec``.

    ``roles``: the dataset's role per configuration (``ParticleTable.shard_roles``); used by
    ``config`` and ``rate`` when ``spec.fixed`` and every configuration has one.
    """
    if (
        spec.fixed
        and spec.kind != "random"
        and roles is not None
        and len(roles)
        and all(r in ("train", "val", "test") for r in roles)
    ):
        out = _fixed_split(spec, np.asarray(config_id), np.asarray(rate, dtype=np.float64), list(roles))
    else:
        out = _drawn_split(spec, np.asarray(config_id), np.asarray(rate, dtype=np.float64))
    if spec.train_configs is not None:
        out = limit_train_configs(
            out, np.asarray(config_id), np.asarray(rate, dtype=np.float64), int(spec.train_configs), spec.seed
        )
    return out


def limit_train_configs(codes: np.ndarray, config_id: np.ndarray, rate: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """Keep ``n`` training configurations per rate (drawn with ``seed``), the others :data:`UNUSED`.

    For learning curves (score against the number of training configurations); validation and test
    are untouched, so every point is scored on the same test particles.
    """
    rng = np.random.default_rng([int(seed), 7919])
    out = codes.copy()
    u, first = np.unique(config_id, return_index=True)
    is_train = np.isin(u, config_id[codes == TRAIN])
    cfg_rate = {int(c): float(r) for c, r in zip(u[is_train], rate[first][is_train])}
    for r in sorted(set(cfg_rate.values())):
        cfgs = np.array(sorted(c for c, cr in cfg_rate.items() if cr == r))
        if len(cfgs) < n:
            raise ValueError(f"split.train_configs={n}: rate {r:g} has only {len(cfgs)} training configurations")
        drop = rng.permutation(cfgs)[n:]
        out[np.isin(config_id, drop)] = UNUSED
    return out


def _drawn_split(spec: SplitSpec, config_id: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Random particle / configuration / rate split (module docstring)."""
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


def balanced_subset(idx: np.ndarray, cls: np.ndarray, seed: int = 0, groups: np.ndarray | None = None) -> np.ndarray:
    """Equal numbers of slow and fast particles among ``idx`` (Sec. IV.B), by subsampling the majority.

    ``groups`` (per row of the table, e.g. the shear rate): balance within each group, so that the
    class cannot be told from the group (a rate with slow particles only at high γ̇ would otherwise
    teach the classifier the rate); groups without both classes are left out.
    """
    if groups is not None:
        g = np.asarray(groups)[idx]
        parts = []
        for k, u in enumerate(np.unique(g)):
            sub = idx[g == u]
            c = cls[sub]
            if (c == 1).any() and (c == 0).any():
                parts.append(balanced_subset(sub, cls, seed + 7919 * k))
        if not parts:
            raise ValueError("cannot balance classes: no group has both slow and fast particles in this split")
        return np.sort(np.concatenate(parts))
    rng = np.random.default_rng(seed)
    pos, neg = idx[cls[idx] == 1], idx[cls[idx] == 0]
    k = min(len(pos), len(neg))
    if k == 0:
        raise ValueError("cannot balance classes: one of slow/fast is empty in this split")
    pick = np.concatenate([rng.choice(pos, k, replace=False), rng.choice(neg, k, replace=False)])
    return np.sort(pick)
