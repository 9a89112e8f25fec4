"""taulc.fileio: atomic writes leave the old file or the new one (never a temp), JSON conversion, read errors."""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from taulc.data.storage import DatasetError
from taulc.data.storage import read_json as dataset_read_json
from taulc.errors import TaulcError
from taulc.fileio import (
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    atomic_write_with,
    json_text,
    jsonable,
    read_json,
)


class Killed(RuntimeError):
    pass


def _half_then_raise(tmp: str) -> None:
    Path(tmp).write_bytes(b"half a file")
    raise Killed("writer died")


@pytest.mark.parametrize("existing", [False, True])
def test_failing_writer_leaves_neither_target_nor_temp(tmp_path: Path, existing: bool):
    target = tmp_path / "sub" / "model.pt"
    if existing:
        atomic_write_bytes(target, b"old")
    with pytest.raises(Killed):
        atomic_write_with(target, _half_then_raise)
    left = sorted(p.name for p in target.parent.iterdir())
    assert left == (["model.pt"] if existing else [])  # no hidden .model.pt.* temporary
    if existing:
        assert target.read_bytes() == b"old"


def test_bytes_write_interrupted_by_fsync_leaves_old_file(tmp_path: Path, monkeypatch):
    target = tmp_path / "a.json"
    atomic_write_json(target, {"v": 1})

    def boom(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_json(target, {"v": 2})
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]
    assert read_json(target) == {"v": 1}


def test_written_files_have_plain_open_permissions(tmp_path: Path):
    """mkstemp makes 0600 files; a published file gets 0666 minus the umask, like open() would."""
    mask = os.umask(0o022)
    try:
        p = atomic_write_text(tmp_path / "x.txt", "hello\n")
        q = tmp_path / "y.txt"
        q.write_text("hello\n")
    finally:
        os.umask(mask)
    assert p.read_text() == "hello\n"
    assert stat.S_IMODE(p.stat().st_mode) == stat.S_IMODE(q.stat().st_mode) == 0o644


def test_library_writer_gets_the_target_suffix(tmp_path: Path):
    """np.savez appends .npz unless the name already ends in it: the temp must keep the target's suffix."""
    target = tmp_path / "arr.npz"
    atomic_write_with(target, lambda tmp: np.savez(tmp, a=np.arange(4)))
    assert [p.name for p in tmp_path.iterdir()] == ["arr.npz"]
    with np.load(target) as z:
        assert z["a"].tolist() == [0, 1, 2, 3]


def test_jsonable_numpy_paths_int_keys():
    obj = {
        0: np.float32(0.5),
        1: np.int64(7),
        "b": np.bool_(True),
        "arr": np.arange(6, dtype=np.int32).reshape(2, 3),
        "p": Path("/data/run"),
        "t": (1, 2.5),
        "nested": {2: [np.float64(1.25), None, "s"]},
        "scalar0d": np.array(3.0),
    }
    out = jsonable(obj)
    assert out == {
        "0": 0.5,
        "1": 7,
        "b": True,
        "arr": [[0, 1, 2], [3, 4, 5]],
        "p": "/data/run",
        "t": [1, 2.5],
        "nested": {"2": [1.25, None, "s"]},
        "scalar0d": 3.0,
    }
    # only builtin types remain (torch.load(weights_only=True) and json need that)
    assert type(out["0"]) is float and type(out["1"]) is int and type(out["b"]) is bool
    assert json.loads(json.dumps(out)) == out
    # a copy: mutating it leaves the source alone
    out["nested"]["2"].append(1)
    assert obj["nested"][2] == [np.float64(1.25), None, "s"]


def test_jsonable_nan_default_vs_strict():
    obj = {"a": float("nan"), "b": np.float64(np.inf), "c": [np.float32(-np.inf), 1.0]}
    loose = jsonable(obj)
    assert math.isnan(loose["a"]) and loose["b"] == math.inf and loose["c"][0] == -math.inf
    assert jsonable(obj, strict=True) == {"a": None, "b": None, "c": [None, 1.0]}
    text = json_text(obj, strict=True)
    assert "NaN" not in text and "Infinity" not in text and json.loads(text)["c"] == [None, 1.0]


def test_jsonable_refuses_unknown_objects():
    with pytest.raises(TypeError, match="not JSON serialisable: object"):
        jsonable({"x": object()})


def test_atomic_write_json_sorted_str_keys(tmp_path: Path):
    p = atomic_write_json(tmp_path / "m.json", {"z": np.float64(1.5), 3: {"b": 1, "a": Path("q")}})
    text = p.read_text()
    assert text.endswith("\n") and text.index('"3"') < text.index('"z"') and text.index('"a"') < text.index('"b"')
    assert read_json(p) == {"3": {"a": "q", "b": 1}, "z": 1.5}


def test_read_json_names_the_file(tmp_path: Path):
    bad = tmp_path / "manifest.json"
    bad.write_text('{"shards": [1, 2,')
    with pytest.raises(TaulcError, match=r"manifest\.json: not valid JSON"):
        read_json(bad)
    with pytest.raises(TaulcError, match=r"nope\.json: file is missing"):
        read_json(tmp_path / "nope.json")
    # the dataset layer's wrapper keeps raising DatasetError (a TaulcError) for the same cases
    with pytest.raises(DatasetError, match=str(bad).replace(".", r"\.")):
        dataset_read_json(bad)
    with pytest.raises(DatasetError, match="file is missing"):
        dataset_read_json(tmp_path / "nope.json")
