"""Typed views of composed Hydra config nodes: one converter from a mapping to a frozen dataclass.

Every stage reads its part of the config (``dataset``, ``build``, ``engine``, ``split``,
``target``, ``data``, ``analysis``...) through a dataclass schema declared next to the
code that uses it, instead of ``cfg.get(key, default)`` on raw dicts: the defaults live
in one place, the types are checked once, and an unknown or mistyped key is refused with
a :class:`~taulc.errors.ConfigError` that names the field (``dataset.spacng``) and what was
expected, before any work starts.

:func:`from_mapping` converts by the dataclass's type annotations: ``int``, ``float``,
``bool``, ``str``, ``X | None``, ``list[X]``/``tuple[X, ...]``, ``Literal[...]``, nested
dataclasses, and ``Any`` (kept as is).  Renamed keys are accepted through ``aliases``
(old name -> new name) with a warning, so older run configs still load; a null under the
new name (a YAML default left unset, e.g. ``engine.n_threads: null`` with ``++engine.threads=4``)
gives way to the old name's value.

Base of the import graph: imports only :mod:`taulc.errors` and :mod:`taulc.utils`.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import numbers
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar, Union

from omegaconf import OmegaConf

from taulc.errors import ConfigError
from taulc.paths import conf_dir
from taulc.utils import to_plain

__all__ = ["check_number", "check_unknown_top_level", "from_mapping", "known_top_level", "require_node", "to_mapping"]

log = logging.getLogger(__name__)

T = TypeVar("T")

_BOOL_WORDS = {"true": True, "false": False, "yes": True, "no": False, "1": True, "0": False}


def _convert(value: Any, tp: Any, where: str) -> Any:
    """``value`` as type ``tp`` (an annotation), or a ConfigError naming ``where``."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        if value is None or (isinstance(value, str) and value.lower() in ("null", "none")):
            if type(None) in args:
                return None
        errors = []
        for a in (a for a in args if a is not type(None)):
            try:
                return _convert(value, a, where)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if len(errors) == 1 else f"field '{where}': got {value!r}, expected {tp}")
    if origin is Literal:
        if value in args:
            return value
        raise ConfigError(f"field '{where}': must be one of {list(args)}, got {value!r}")
    if origin in (list, tuple) or tp in (list, tuple):
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            raise ConfigError(f"field '{where}': expected a list, got {value!r}")
        item = args[0] if args else Any
        out = [_convert(v, item, f"{where}[{i}]") for i, v in enumerate(value)]
        return tuple(out) if (origin is tuple or tp is tuple) else out
    if origin is dict or tp is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"field '{where}': expected a mapping, got {value!r}")
        return dict(value)
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        return from_mapping(tp, value, where)
    if value is None:
        raise ConfigError(f"field '{where}': must not be null (expected {getattr(tp, '__name__', tp)})")
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _BOOL_WORDS:
            return _BOOL_WORDS[value.lower()]
        raise ConfigError(f"field '{where}': expected true or false, got {value!r}")
    if tp is int:
        if isinstance(value, bool):
            raise ConfigError(f"field '{where}': expected an integer, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass
        raise ConfigError(f"field '{where}': expected an integer, got {value!r}")
    if tp is float:
        if isinstance(value, bool):
            raise ConfigError(f"field '{where}': expected a number, got {value!r}")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"field '{where}': expected a number, got {value!r}") from None
    if tp is str:
        if isinstance(value, (Mapping, list, tuple)):
            raise ConfigError(f"field '{where}': expected a string, got {value!r}")
        return str(value)
    return value


def from_mapping(
    cls: type[T],
    mapping: Mapping[str, Any] | None,
    where: str,
    aliases: Mapping[str, str] | None = None,
    ignore: tuple[str, ...] = (),
) -> T:
    """The dataclass ``cls`` filled from ``mapping`` (a Hydra node or a dict) at config path ``where``.

    Missing keys take the dataclass defaults; unknown keys are refused (``ignore`` lists keys
    that may be present and are dropped); ``aliases`` maps old key names to field names.
    """
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise TypeError(f"{cls!r} is not a dataclass")
    data = to_plain(mapping) if mapping is not None else {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"field '{where}': expected a mapping, got {data!r}")
    data = dict(data)
    aliases = dict(aliases or {})
    aliases.update(getattr(cls, "_aliases", {}) or {})
    for old, new in aliases.items():
        if old in data:
            if new in data and data[new] is not None and data[new] != data[old]:  # null: the new key left unset
                raise ConfigError(
                    f"field '{where}.{old}' is the old name of '{where}.{new}'; give only one "
                    f"(got {data[old]!r} and {data[new]!r})"
                )
            log.warning("config field '%s.%s' is now called '%s.%s'", where, old, where, new)
            data[new] = data.pop(old)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(k for k in data if k not in fields and k not in ignore)
    if unknown:
        raise ConfigError(f"field '{where}.{unknown[0]}' is unknown; known fields of '{where}': {sorted(fields)}")
    kw: dict[str, Any] = {}
    for name, f in fields.items():
        if name in data:
            kw[name] = _convert(data[name], hints[name], f"{where}.{name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"field '{where}.{name}' is required and missing")
    try:
        return cls(**kw)
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:  # __post_init__ checks
        raise ConfigError(f"field '{where}': {exc}") from None


def to_mapping(obj: Any) -> dict[str, Any]:
    """A schema instance back to plain containers (tuples as lists), e.g. for a manifest or a hash."""

    def plain(v: Any) -> Any:
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, Mapping):
            return {k: plain(x) for k, x in v.items()}
        return v

    return plain(dataclasses.asdict(obj))


def check_number(
    value: Any, field: str, *, lo: float | None = None, lo_open: bool = False, hi: float | None = None, integer: bool = False
) -> float:
    """``value`` as a finite number within [lo, hi] (``lo_open``: > lo), else a ConfigError naming ``field``."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok and integer:
        ok = math.isfinite(float(value)) and float(value) == int(value)
    if not ok or not math.isfinite(float(value)):
        kind = "an integer" if integer else "a finite number"
        raise ConfigError(f"field '{field}' must be {kind}, got {value!r}")
    v = float(value)
    if lo is not None and (v <= lo if lo_open else v < lo):
        raise ConfigError(f"field '{field}' must be {'>' if lo_open else '>='} {lo:g}, got {value!r}")
    if hi is not None and v > hi:
        raise ConfigError(f"field '{field}' must be <= {hi:g}, got {value!r}")
    return v


def require_node(c: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """The config group node ``c[key]`` (``system``, ``protocol``, ``labels``, ``dataset``), else a ConfigError
    saying which group to choose."""
    node = c.get(key)
    if not isinstance(node, Mapping):
        raise ConfigError(f"field '{key}' is missing (choose {key}=<name>)")
    return node


def known_top_level(config_name: str) -> set[str]:
    """Top-level keys of a primary config (``conf/<name>.yaml``): its own keys and its default groups."""

    raw = OmegaConf.to_container(OmegaConf.load(Path(conf_dir()) / f"{config_name}.yaml"))
    assert isinstance(raw, dict)
    keys = {str(k) for k in raw if k not in ("defaults", "hydra")}
    for d in raw.get("defaults") or []:
        if isinstance(d, dict):
            keys |= {str(k).replace("override ", "").strip().split("@")[0].lstrip("/") for k in d}
    return keys


def check_unknown_top_level(c: Mapping[str, Any], config_name: str, prog: str) -> None:
    """Refuse top-level keys the command does not read (``++n_config=5`` would otherwise be ignored silently)."""
    known = known_top_level(config_name)
    unknown = sorted(str(k) for k in c if str(k) not in known and str(k) != "hydra")
    if unknown:
        raise ConfigError(
            f"field '{unknown[0]}' is unknown to {prog} (a typo? '++' adds keys that nothing reads); "
            f"known top-level fields: {sorted(k for k in known if not k.startswith('hydra'))}"
        )
