"""The typed command line of ``taulc-predict`` (:class:`PredictConfig`), parsed once by :func:`taulc.predict.cli.main`.

Each schema checks its own ranges in ``__post_init__`` and names the option as the command line spells it
(``--slice-thickness``, ``--out-format``), so a bad option stops the command with exit status 2 before the
bundle is loaded or anything is written. :class:`MapOptions` (the hardness-map slab and colour range) is also
what :func:`taulc.predict.files.predict_file` takes from Python. What needs the inputs (``--out`` writable, two
inputs with one output name) is checked by :func:`taulc.predict.files.check_outputs`.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Any

from taulc.config import check_number
from taulc.errors import ConfigError

__all__ = ["OUT_FORMATS", "MapOptions", "PredictConfig"]

OUT_FORMATS = ("extxyz", "lammps-dump", "gsd", "same")
"""Per-atom output formats (``--out-format``); ``same``: a LAMMPS dump -> lammps-dump, gsd -> gsd, else extxyz."""


def _option(value: Any, option: str, *, lo: float | None = None, lo_open: bool = False) -> float:
    """``value`` as a finite number (``> lo`` / ``>= lo``), else a ConfigError naming the command-line ``option``."""
    try:
        return check_number(value, option, lo=lo, lo_open=lo_open)
    except ConfigError as exc:
        raise ConfigError(str(exc).replace(f"field '{option}'", option)) from None


@dataclass(frozen=True)
class MapOptions:
    """Hardness-map settings: slab centre ``z`` (None = mid-box), ``thickness``, colour range (None = bundle's)."""

    z: float | None = None  # --slice-z
    thickness: float = 1.5  # --slice-thickness (σ_bb)
    vmin: float | None = None  # --vmin
    vmax: float | None = None  # --vmax
    enabled: bool = True  # not --no-png

    def __post_init__(self) -> None:
        if self.z is not None:
            _option(self.z, "--slice-z")
        _option(self.thickness, "--slice-thickness", lo=0, lo_open=True)
        for name in ("vmin", "vmax"):
            if getattr(self, name) is not None:
                _option(getattr(self, name), f"--{name}")
        if self.vmin is not None and self.vmax is not None and not self.vmin < self.vmax:
            raise ConfigError(f"--vmin ({self.vmin:g}) must be below --vmax ({self.vmax:g})")


@dataclass(frozen=True)
class PredictConfig:
    """What ``taulc-predict`` reads of its command line, typed; built by :meth:`from_args`."""

    bundle: str
    inputs: tuple[str, ...]
    out: str
    fmt: str | None = None  # --format (None: from each file)
    out_format: str = "extxyz"  # --out-format, one of OUT_FORMATS
    species_map: dict[Any, int] | None = None  # --species-map, added to the bundle's
    strict: bool = False
    allow_small_cell: bool = False
    maps: MapOptions = field(default_factory=MapOptions)
    device: str = "cpu"
    temperature: float | None = None  # --temperature (LJ units), > 0
    quiet: bool = False
    verbose: bool = False

    def __post_init__(self) -> None:
        if not str(self.bundle).strip():
            raise ConfigError("BUNDLE must name a predictor bundle or a training run directory")
        if not self.inputs:
            raise ConfigError("give at least one INPUT configuration file")
        if not str(self.out).strip():
            raise ConfigError("--out must name an output directory")
        if self.out_format not in OUT_FORMATS:
            raise ConfigError(f"--out-format {self.out_format!r}: expected one of {', '.join(OUT_FORMATS)}")
        for key, val in (self.species_map or {}).items():
            if val not in (0, 1):
                raise ConfigError(f"--species-map entry {key!r}={val!r}: expected 0 (big) or 1 (small)")
        if self.temperature is not None:
            _option(self.temperature, "--temperature", lo=0, lo_open=True)

    @classmethod
    def from_args(cls, ns: argparse.Namespace) -> PredictConfig:
        """The config of a parsed command line (:func:`taulc.predict.cli.parser`); a bad option raises a
        ConfigError naming it."""
        maps = MapOptions(z=ns.slice_z, thickness=ns.slice_thickness, vmin=ns.vmin, vmax=ns.vmax, enabled=not ns.no_png)
        return cls(
            bundle=str(ns.bundle),
            inputs=tuple(str(p) for p in ns.inputs),
            out=str(ns.out),
            fmt=ns.fmt,
            out_format=ns.out_format,
            species_map=dict(ns.species_map) if ns.species_map else None,
            strict=bool(ns.strict),
            allow_small_cell=bool(ns.allow_small_cell),
            maps=maps,
            device=str(ns.device),
            temperature=None if ns.temperature is None else float(ns.temperature),
            quiet=bool(ns.quiet),
            verbose=bool(ns.verbose),
        )
