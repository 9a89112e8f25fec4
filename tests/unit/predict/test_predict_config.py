"""taulc-predict's typed command line (PredictConfig, MapOptions): bad options are named as the CLI spells them."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from taulc.errors import ConfigError
from taulc.predict.cli import main, parser
from taulc.predict.config import MapOptions, PredictConfig


def _cfg(*extra: str) -> PredictConfig:
    return PredictConfig.from_args(parser().parse_args(["run/predictor.pt", "a.xyz", "b.dump", "--out", "o", *extra]))


def test_command_line_is_parsed_once_into_a_frozen_config() -> None:
    cfg = _cfg("--slice-z", "4", "--vmax", "3", "--no-png", "--species-map", "1=1,2=0", "--temperature", "0.6")
    assert cfg.inputs == ("a.xyz", "b.dump") and cfg.out_format == "extxyz" and cfg.species_map == {1: 1, 2: 0}
    assert cfg.maps == MapOptions(z=4.0, thickness=1.5, vmin=None, vmax=3.0, enabled=False)
    assert cfg.temperature == 0.6
    with pytest.raises(AttributeError):
        cfg.out = "elsewhere"  # type: ignore[misc]
    assert _cfg().maps == MapOptions()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"thickness": 0.0}, "--slice-thickness must be > 0, got 0.0"),
        ({"thickness": -1.0}, "--slice-thickness must be > 0"),
        ({"z": float("nan")}, "--slice-z must be a finite number"),
        ({"vmin": 2.0, "vmax": 2.0}, "--vmin (2) must be below --vmax (2)"),
        ({"vmin": 3.0, "vmax": 1.0}, "--vmin (3) must be below --vmax (1)"),
        ({"vmax": float("inf")}, "--vmax must be a finite number"),
    ],
)
def test_map_options_refuse_naming_the_option(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        MapOptions(**kwargs)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"out_format": "pdb"}, "--out-format 'pdb': expected one of extxyz, lammps-dump, gsd, same"),
        ({"temperature": 0.0}, "--temperature must be > 0"),
        ({"species_map": {"A": 2}}, "--species-map entry 'A'=2: expected 0 (big) or 1 (small)"),
        ({"inputs": ()}, "give at least one INPUT"),
        ({"out": " "}, "--out must name an output directory"),
    ],
)
def test_predict_config_refuses_naming_the_option(changes: dict, message: str) -> None:
    base = {"bundle": "run/predictor.pt", "inputs": ("a.xyz",), "out": "o"}
    with pytest.raises(ConfigError, match=re.escape(message)):
        PredictConfig(**{**base, **changes})


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--slice-thickness", "0"], "--slice-thickness must be > 0"),
        (["--vmin", "1", "--vmax", "-1"], "--vmin (1) must be below --vmax (-1)"),
        (["--temperature", "-0.5"], "--temperature must be > 0"),
        (["--slice-z", "nan"], "--slice-z must be a finite number"),
    ],
)
def test_bad_option_exits_2_before_the_bundle_is_read(tmp_path: Path, caplog, option: list, message: str) -> None:
    out = tmp_path / "out"
    with caplog.at_level(logging.ERROR):
        rc = main([str(tmp_path / "missing.pt"), str(tmp_path / "a.xyz"), "--out", str(out), "-q", *option])
    assert rc == 2 and message in caplog.text and "missing.pt" not in caplog.text, caplog.text
    assert not out.exists()


def test_unknown_out_format_is_refused_by_the_command_line(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["b.pt", "a.xyz", "--out", str(tmp_path / "o"), "--out-format", "pdb"])
    assert exc.value.code == 2 and "--out-format: invalid choice: 'pdb'" in capsys.readouterr().err
