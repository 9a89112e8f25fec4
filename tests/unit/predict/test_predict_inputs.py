"""Bad inputs: each gives a clear error naming the file and the problem, a non-zero exit and no output files."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pytest

from taulc.testing.data import shard
from tests.helpers.predict import big_config, listing, trained_runs, write_dump, write_xyz


@pytest.fixture(scope="session")
def runs(tiny_dataset: Path, tmp_path_factory) -> dict[str, Path]:
    return trained_runs(str(tiny_dataset), str(tmp_path_factory.getbasetemp() / "predict_runs"))


@pytest.fixture(scope="module")
def files(tiny_dataset: Path, tmp_path_factory) -> dict[str, Path]:
    """One good extxyz and dump of a 2400-particle tilted configuration, and every kind of bad file."""
    d = tmp_path_factory.mktemp("inputs")
    pos, sp, cell = big_config(tiny_dataset)
    good_xyz = write_xyz(d / "good.xyz", pos, sp, cell)
    good_dump = write_dump(d / "good.dump", pos, sp, cell)
    xyz_lines = good_xyz.read_text().splitlines()
    dump_lines = good_dump.read_text().splitlines()  # 9 header lines, then "id type x y z"
    out = {"good_xyz": good_xyz, "good_dump": good_dump}

    def put(name: str, lines: list[str]) -> None:
        out[name.split(".")[0]] = d / name
        (d / name).write_text("\n".join(lines) + "\n")

    put("truncated.dump", dump_lines[: len(dump_lines) // 2])
    put("garbage.xyz", ["this is not", "a configuration file at all"])
    comment = xyz_lines[1]
    props = comment[comment.index("Properties=") :].split(" ")[0]
    put("nocell.xyz", [xyz_lines[0], props, *xyz_lines[2:]])  # no Lattice, no pbc
    put("slab.xyz", [xyz_lines[0], comment.replace('pbc="T T T"', 'pbc="T T F"'), *xyz_lines[2:]])
    nan_line = xyz_lines[2].split()
    nan_line[1] = "nan"
    put("nan.xyz", [*xyz_lines[:2], " ".join(nan_line), *xyz_lines[3:]])
    inf_line = xyz_lines[2].split()
    inf_line[3] = "inf"
    put("inf.xyz", [*xyz_lines[:2], " ".join(inf_line), *xyz_lines[3:]])
    alien = list(dump_lines)
    a = alien[9].split()
    alien[9] = " ".join([a[0], "3", *a[2:]])
    put("alien.dump", alien)
    notype = [*dump_lines[:8], "ITEM: ATOMS id x y z", *(" ".join([ln.split()[0], *ln.split()[2:]]) for ln in dump_lines[9:])]
    put("notype.dump", notype)
    close = pos.copy()
    close[1] = close[0] + np.array([0.3, 0.0, 0.0])  # big-big or big-small pair at 0.3 < 0.5 sigma
    out["overlap"] = write_xyz(d / "overlap.xyz", close, sp, cell)
    z = shard(tiny_dataset, 0)
    out["small"] = write_xyz(d / "small.xyz", z["positions"], z["species"], z["cell"])  # L = 6.3 < 2 x 5.3
    # a 2-frame trajectory whose second frame is bad: nothing may be written for it
    traj = d / "traj.xyz"
    traj.write_text(good_xyz.read_text() + out["overlap"].read_text())
    out["traj"] = traj
    return out


CASES = [
    ("truncated", r"truncated\.dump: .*truncated"),
    ("garbage", r"garbage\.xyz: cannot read"),
    ("nocell", r"nocell\.xyz \(frame 0\): no cell"),
    ("slab", r"slab\.xyz \(frame 0\): cell is not periodic"),
    ("small", r"small\.xyz \(frame 0\): cell too small: shortest periodic translation .* >= 2 x cut-off = 10\.6"),
    ("alien", r"alien\.dump \(frame 0\): atom type\(s\)/atomic number\(s\) \[3\] are not in the species map"),
    ("notype", r"notype\.dump: missing species"),
    ("nan", r"nan\.xyz \(frame 0\): positions contain NaN or inf"),
    ("inf", r"inf\.xyz \(frame 0\): positions contain NaN or inf"),
    ("overlap", r"overlap\.xyz \(frame 0\): 1 overlapping pair\(s\): particles 0 and 1 .* 0\.3 apart, below 0\.5 sigma"),
    ("traj", r"traj\.xyz \(frame 1\): 1 overlapping pair"),
]


@pytest.mark.parametrize("case, message", CASES, ids=[c for c, _ in CASES])
def test_bad_input_is_refused_and_writes_nothing(runs, files, tmp_path: Path, caplog, case: str, message: str):
    from taulc.data.ingest import InputError
    from taulc.predict import Predictor
    from taulc.predict.cli import main

    pred = Predictor.load(runs["svm"] / "predictor.pt")
    with pytest.raises(InputError, match=message):
        pred.predict(files[case])
    out = tmp_path / "out"
    with caplog.at_level(logging.ERROR):
        rc = main([str(runs["svm"] / "predictor.pt"), str(files[case]), "--out", str(out), "-q"])
    assert rc == 1
    assert any(re.search(message, r.getMessage()) for r in caplog.records), caplog.text
    assert listing(out) == []  # not even the directory or a temporary file


def test_small_cell_can_be_allowed(runs, files):
    from taulc.predict import Predictor

    (p,) = Predictor.load(runs["svm"] / "predictor.pt").predict(files["small"], allow_small_cell=True)
    assert p.values["H"].shape == (300,)


def test_multi_file_run_reports_failures_and_completes_the_others(runs, files, tmp_path: Path, caplog):
    import shutil

    from taulc.predict.cli import main

    other = Path(shutil.copy(files["good_dump"], tmp_path / "other.dump"))
    out = tmp_path / "out"
    args = [
        str(runs["svm"] / "predictor.pt"),
        str(files["good_xyz"]),
        str(files["truncated"]),
        str(other),
        str(files["overlap"]),
        "--out",
        str(out),
        "-q",
    ]
    with caplog.at_level(logging.ERROR):
        assert main(args) == 1
    assert "2 of 4 file(s) failed" in caplog.text and "truncated.dump" in caplog.text and "overlap.xyz" in caplog.text
    assert listing(out) == sorted(
        ["summary.csv", *(f"{s}.taulc.{e}" for s in ("good", "other") for e in ("csv", "extxyz", "png"))]
    )
    summary = (out / "summary.csv").read_text().splitlines()
    assert len(summary) == 3 and "good.xyz" in summary[1] and "other.dump" in summary[2]


def test_inputs_that_would_overwrite_each_other_are_refused(runs, files, tmp_path: Path):
    from taulc.predict.cli import main

    out = tmp_path / "out"
    assert (
        main([str(runs["svm"] / "predictor.pt"), str(files["good_xyz"]), str(files["good_dump"]), "--out", str(out), "-q"]) == 2
    )
    assert listing(out) == []
