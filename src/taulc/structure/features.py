"""Config-driven descriptor families and the single entry point :func:`featurize`.

Families (``cfg["families"]``, a mapping ``key -> params`` or a list of
``{name: ..., **params}``; a ``type`` entry selects the family when the key
is not a family name, e.g. ``gl6: {type: gl, lm: all, lmax: 6}``):

* ``gl`` - g_l^m(s, r) of Eq. 9, generations 0..G of Eqs. 11-13.
  Params: ``lm`` (list of [l, m] or ``all`` with ``lmax``), ``r_min``,
  ``r_max``, ``dr``, ``delta``, ``truncation``, ``generations``, ``rc``.
  Element order: generation, (l, m) in the given order, species, r.
* ``caging`` - local caging-potential depth βΦ_r of Sharma, Nandi & Bhattacharyya 2022 (3 columns:
  big-neighbour term, small-neighbour term, total), optional generations.
  Params: ``temperature``, ``lj`` ({epsilon, sigma, cutoff, cutoff_mode,
  shift}), ``delta``, ``truncation``, ``r_grid`` ([min, max]), ``dr``,
  ``cutoffs`` (``auto`` or {bb, bs, ss: [lo, hi]}), ``generations``, ``rc``.

Top-level options: ``dtype`` (float32 | float64, default float64) and
``max_pairs`` (neighbour-list memory bound). All families share one
neighbour stream at the largest cut-off needed, and one coarse-graining
matrix per distinct ``rc``.

**Positions of the cage.**  Every family takes an optional ``positions`` parameter:
``instantaneous`` (default, the thermal snapshot), ``inherent`` (the inherent state) or
``cage`` (the short-time cage average; :mod:`taulc.md.cage`), e.g.
``gl_cage: {type: gl, positions: cage}``.  The families of each position set are computed
together on that set (neighbours and coarse-graining included) and the columns are returned
in the configured family order; :func:`featurize` takes the extra sets as ``position_sets``.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from taulc.structure.caging import CagingAccumulator, LJTable
from taulc.structure.coarse import CoarseGrainAccumulator, coarse_grain
from taulc.structure.descriptors import GlmAccumulator
from taulc.structure.harmonics import all_lm
from taulc.structure.neighbors import DEFAULT_MAX_PAIRS, iter_neighbor_blocks, validate_system
from taulc.structure.radial import RadialGrid
from taulc.utils import to_plain as _to_plain

log = logging.getLogger(__name__)

__all__ = ["FeatureName", "featurize", "parse_families", "required_positions", "FAMILIES", "POSITION_SETS", "SPECIES_LABELS"]

FAMILIES = ("gl", "caging")
#: Families computed outside taulc.structure, as ``name -> "module:function"`` imported on first
#: use (the function maps ``(positions, species, cell, params)`` to ``(X0 (N, F), base names)``,
#: base names being (l, m, species, r) tuples); coarse-grained generations are added here.
EXTERNAL_FAMILIES = {"kappa": "taulc.physics.descriptor:kappa_family"}
SPECIES_LABELS = {0: "b", 1: "s"}
POSITION_SETS = ("instantaneous", "inherent", "cage")
"""Values of a family's ``positions`` parameter (module docstring)."""


@dataclass(frozen=True)
class FeatureName:
    """Name of one feature element (Table I of the core paper: gen, l, m, r; plus species)."""

    family: str
    generation: int
    l: int | None
    m: int | None
    species: int | None
    r: float | None

    def __str__(self) -> str:
        parts = [f"{self.family}", f"gen={self.generation}"]
        if self.l is not None:
            parts.append(f"l={self.l}")
        if self.m is not None:
            parts.append(f"m={self.m}")
        if self.species is not None:
            parts.append(f"s={SPECIES_LABELS.get(self.species, self.species)}")
        if self.r is not None:
            parts.append(f"r={self.r:.2f}")
        return " ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "generation": self.generation,
            "l": self.l,
            "m": self.m,
            "species": self.species,
            "r": self.r,
        }


def parse_families(cfg: Mapping | None) -> list[tuple[str, str, dict]]:
    """-> [(key, family type, params)] from ``cfg["families"]`` (default: ``{gl: {}}``)."""
    cfg = _to_plain(cfg) or {}
    fams = cfg.get("families", {"gl": {}})
    items: list[tuple[str, dict]] = []
    if isinstance(fams, Mapping):
        items = [(str(k), dict(v or {})) for k, v in fams.items()]
    elif isinstance(fams, Sequence) and not isinstance(fams, str):
        for k, entry in enumerate(fams):
            if isinstance(entry, str):
                items.append((entry, {}))
            elif isinstance(entry, Mapping) and "name" in entry:
                p = dict(entry)
                items.append((str(p.pop("name")), p))
            else:
                raise ValueError(f"descriptor config: families[{k}] must be a name or a mapping with 'name'")
    else:
        raise ValueError(f"descriptor config: 'families' must be a mapping or list, got {type(fams).__name__}")
    if not items:
        raise ValueError("descriptor config: 'families' is empty")
    out = []
    for key, params in items:
        ftype = str(params.pop("type", key))
        if ftype not in FAMILIES and ftype not in EXTERNAL_FAMILIES:
            known = (*FAMILIES, *EXTERNAL_FAMILIES)
            raise ValueError(f"descriptor config: unknown family {ftype!r} (key {key!r}); known: {known}")
        out.append((key, ftype, params))
    keys = [k for k, _, _ in out]
    if len(set(keys)) != len(keys):
        raise ValueError(f"descriptor config: duplicate family keys {keys}")
    return out


_GL_KEYS = {"lm", "lmax", "r_min", "r_max", "dr", "delta", "truncation", "generations", "rc"}
_CAGING_KEYS = {"temperature", "lj", "delta", "truncation", "r_grid", "dr", "cutoffs", "generations", "rc"}


def _check_keys(key: str, params: Mapping, allowed: set[str]) -> None:
    extra = set(params) - allowed
    if extra:
        raise ValueError(f"descriptor config: family {key!r} has unknown options {sorted(extra)}; allowed {sorted(allowed)}")


def _gl_lm(params: Mapping) -> list[tuple[int, int]]:
    lm = params.get("lm", [[0, 0], [2, -2]])
    if isinstance(lm, str):
        if lm != "all":
            raise ValueError(f"descriptor config: lm must be a list of [l, m] or 'all', got {lm!r}")
        return all_lm(int(params.get("lmax", 6)))
    return [(int(a), int(b)) for a, b in lm]


class _External:
    """An :data:`EXTERNAL_FAMILIES` family: needs no neighbour pairs from the shared stream."""

    cutoff = 0.0

    def __init__(self, ftype: str, pos: np.ndarray, sp: np.ndarray, cell: np.ndarray, params: dict) -> None:
        module, func = EXTERNAL_FAMILIES[ftype].split(":")
        self.fn = getattr(importlib.import_module(module), func)
        self.args = (pos, sp, cell, {k: v for k, v in params.items() if k not in ("generations", "rc")})

    def consume(self, block: Any) -> None:
        pass

    def result(self) -> tuple[np.ndarray, list]:
        return self.fn(*self.args)


def _positions_of(params: Mapping) -> str:
    p = str(params.get("positions", "instantaneous"))
    if p not in POSITION_SETS:
        raise ValueError(f"descriptor config: positions must be one of {POSITION_SETS}, got {p!r}")
    return p


def required_positions(cfg: Mapping | None) -> list[str]:
    """The position sets a descriptor config reads (``instantaneous``, ``inherent``, ``cage``), in family order."""
    out: list[str] = []
    for _key, _ftype, params in parse_families(cfg):
        p = _positions_of(params)
        if p not in out:
            out.append(p)
    return out


def featurize(
    positions: np.ndarray,
    species: np.ndarray,
    cell: np.ndarray,
    cfg: Mapping | None = None,
    position_sets: Mapping[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, list[FeatureName]]:
    """Per-particle descriptors of all configured families, concatenated: (X (N, F), names (F,)).

    With the default config (``gl`` only) this is X of Eq. 13: 2 x 48 x 2
    elements of X^(0) (Eq. 10) and its coarse-grained generations 1 and 2
    (Eqs. 11-12, r_c = 4), 576 columns.  ``position_sets`` supplies the ``inherent`` /
    ``cage`` positions of families that ask for them (module docstring).
    """
    plain = _to_plain(cfg) or {}
    fams = parse_families(plain)
    groups: dict[str, dict[str, dict]] = {}
    for key, ftype, params in fams:
        p = dict(params)
        which = _positions_of(p)
        p.pop("positions", None)
        groups.setdefault(which, {})[key] = {"type": ftype, **p}
    sets = {"instantaneous": positions, **dict(position_sets or {})}
    if len(groups) == 1:
        which, sub = next(iter(groups.items()))
        if which not in sets:
            raise ValueError(
                f"descriptor config: families {sorted(sub)} need the '{which}' positions, which were not "
                f"given (available: {sorted(sets)})"
            )
        return _featurize_set(np.asarray(sets[which], dtype=np.float64), species, cell, {**plain, "families": sub})
    cols: dict[str, tuple[np.ndarray, list[FeatureName]]] = {}
    for which, sub in groups.items():
        if which not in sets:
            raise ValueError(
                f"descriptor config: families {sorted(sub)} need the '{which}' positions, which were not "
                f"given (available: {sorted(sets)})"
            )
        x, names = _featurize_set(np.asarray(sets[which], dtype=np.float64), species, cell, {**plain, "families": sub})
        for key in sub:
            m = np.array([n.family == key for n in names])
            cols[key] = (x[:, m], [n for n in names if n.family == key])
    order = [k for k, _, _ in fams]
    x = np.concatenate([cols[k][0] for k in order], axis=1)
    return x, [n for k in order for n in cols[k][1]]


def _featurize_set(
    positions: np.ndarray, species: np.ndarray, cell: np.ndarray, plain: Mapping
) -> tuple[np.ndarray, list[FeatureName]]:
    """:func:`featurize` of families that all read the same ``positions``."""
    t0 = time.perf_counter()
    pos, c, sp = validate_system(positions, cell, species)
    assert sp is not None
    n = pos.shape[0]
    fams = parse_families(plain)
    dtype = np.dtype(plain.get("dtype", "float64"))
    max_pairs = int(plain.get("max_pairs", DEFAULT_MAX_PAIRS))
    vol = abs(np.linalg.det(c))

    accs: list[tuple[str, str, dict, Any]] = []
    for key, ftype, params in fams:
        if ftype == "gl":
            _check_keys(key, params, _GL_KEYS)
            r_min = float(params.get("r_min", 0.3))
            r_max = float(params.get("r_max", 5.0))
            dr = float(params.get("dr", 0.1))
            grid = RadialGrid.from_range(r_min, r_max, dr)
            acc = GlmAccumulator(sp, _gl_lm(params), grid, float(params.get("delta", 0.1)), float(params.get("truncation", 5.0)))
        elif ftype in EXTERNAL_FAMILIES:
            acc = _External(ftype, pos, sp, c, params)
        else:
            _check_keys(key, params, _CAGING_KEYS)
            if params.get("temperature") is None:
                raise ValueError(f"descriptor config: family {key!r} needs 'temperature' (βU in HNC Eq. 6)")
            rg = params.get("r_grid", [0.5, 2.2])
            acc = CagingAccumulator(
                sp,
                vol,
                float(params["temperature"]),
                LJTable.from_config(params.get("lj")),
                float(params.get("delta", 0.09)),
                float(params.get("truncation", 5.0)),
                RadialGrid.from_range(float(rg[0]), float(rg[1]), float(params.get("dr", 0.01))),
                params.get("cutoffs", "auto"),
            )
        accs.append((key, ftype, params, acc))

    gens = {key: int(p.get("generations", 2 if ft == "gl" else 0)) for key, ft, p, _ in accs}
    rcs = sorted({float(p.get("rc", 4.0)) for key, _, p, _ in accs if gens[key] > 0})
    cgs = {rc: CoarseGrainAccumulator(n, rc) for rc in rcs}
    consumers = [a for *_, a in accs if a.cutoff > 0] + list(cgs.values())
    cutoff = max((x.cutoff for x in consumers), default=0.0)
    for block in iter_neighbor_blocks(pos, c, cutoff, max_pairs=max_pairs) if consumers else ():
        for x in consumers:
            x.consume(block)
        del block
    t1 = time.perf_counter()
    mats = {rc: acc.matrix() for rc, acc in cgs.items()}

    blocks: list[np.ndarray] = []
    names: list[FeatureName] = []
    for key, ftype, params, acc in accs:
        if ftype == "gl":
            g = acc.result()  # (N, n_lm, 2, n_r)
            x0 = g.reshape(n, -1)
            base = [(l, m, s, float(round(r, 10))) for (l, m) in acc.lm for s in (0, 1) for r in acc.grid.values]
        elif ftype in EXTERNAL_FAMILIES:
            x0, base = acc.result()
        else:
            x0 = acc.result()
            base = [(None, None, 0, None), (None, None, 1, None), (None, None, None, None)]
        ng = gens[key]
        xx = coarse_grain(x0, mats[float(params.get("rc", 4.0))], ng) if ng > 0 else x0
        blocks.append(xx.astype(dtype, copy=False))
        names += [FeatureName(key, gen, l, m, s, r) for gen in range(ng + 1) for (l, m, s, r) in base]
    x = np.concatenate(blocks, axis=1) if len(blocks) > 1 else blocks[0]
    log.info(
        "featurize: N=%d, %d features (%s) in %.2f s (pairs+sums %.2f s)",
        n,
        x.shape[1],
        ", ".join(k for k, *_ in accs),
        time.perf_counter() - t0,
        t1 - t0,
    )
    return x, names
