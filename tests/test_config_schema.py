"""taulc.config.from_mapping: typed views of config nodes, errors naming the field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pytest

from taulc.config import from_mapping, to_mapping
from taulc.errors import ConfigError


@dataclass(frozen=True)
class Inner:
    patience: int = 10
    min_delta: float = 1e-3


@dataclass(frozen=True)
class Outer:
    name: str
    rates: list[float] = field(default_factory=lambda: [0.0])
    kind: Literal["config", "rate"] = "config"
    n: int | None = None
    on: bool = False
    inner: Inner = field(default_factory=Inner)
    _aliases = {"old_n": "n"}


def test_converts_by_annotation_and_fills_defaults() -> None:
    s = from_mapping(Outer, {"name": "x", "rates": [0, "1e-2"], "n": 3.0, "on": "true", "inner": {"patience": 4}}, "ds")
    assert s.rates == [0.0, 0.01] and s.n == 3 and isinstance(s.n, int) and s.on is True
    assert s.inner == Inner(patience=4, min_delta=1e-3)
    assert from_mapping(Outer, {"name": "x", "n": None}, "ds").n is None
    assert to_mapping(s)["inner"] == {"patience": 4, "min_delta": 1e-3}


@pytest.mark.parametrize(("data", "msg"), [
    ({"name": "x", "ratse": [0.0]}, "'ds.ratse' is unknown"),
    ({"rates": [0.0]}, "'ds.name' is required"),
    ({"name": "x", "n": 2.5}, "'ds.n': expected an integer"),
    ({"name": "x", "rates": [0.0, "fast"]}, "'ds.rates[1]': expected a number"),
    ({"name": "x", "kind": "random"}, "'ds.kind': must be one of"),
    ({"name": "x", "inner": {"patiense": 1}}, "'ds.inner.patiense' is unknown"),
    ({"name": "x", "on": 2}, "'ds.on': expected true or false"),
])
def test_refuses_with_the_field_named(data: dict, msg: str) -> None:
    with pytest.raises(ConfigError, match=msg.replace("[", r"\[").replace("]", r"\]")):
        from_mapping(Outer, data, "ds")


def test_old_key_names_are_accepted_once() -> None:
    assert from_mapping(Outer, {"name": "x", "old_n": 5}, "ds").n == 5
    assert from_mapping(Outer, {"name": "x", "old_n": 5, "n": None}, "ds").n == 5  # new key left at its null default
    with pytest.raises(ConfigError, match="old name of 'ds.n'"):
        from_mapping(Outer, {"name": "x", "old_n": 5, "n": 6}, "ds")
