"""A run's dataset identity (``<run_dir>/dataset.json``, :mod:`taulc.runs`) and who may import the builder."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from taulc.errors import ConfigError
from taulc.runs import DATASET_RECORD, read_dataset_record, run_dataset, write_dataset_record
from tests.helpers import REPO

SRC = REPO / "src" / "taulc"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def test_training_and_analysis_do_not_import_the_builder() -> None:
    files = [SRC / "training.py", *sorted((SRC / "analysis").rglob("*.py"))]
    assert len(files) > 10
    bad = {str(f.relative_to(SRC)): sorted(n for n in _imports(f) if n.startswith("taulc.data.builder")) for f in files}
    assert not {k: v for k, v in bad.items() if v}, "dataset identity comes from taulc.data.manifest"


def test_builder_reexports_the_manifest_identity() -> None:
    from taulc.data.builder import dataset_config
    from taulc.data.manifest import canonical_hash, dataset_hash, dataset_identity

    assert dataset_config is dataset_identity
    cfg = {
        "system": {"n_atoms": 10, "tau_alpha": 3.0},
        "dataset": {"name": "x", "graph_radius": 2.0},
        "labels": {"t_max": 5.0, "engine": "lammps", "device": "cpu"},
        "model": {"_target_": "m"},
    }
    ident = dataset_identity(cfg)  # documentation-only / placement keys and non-dataset nodes are not part of it
    assert ident == {"system": {"n_atoms": 10}, "dataset": {"name": "x"}, "labels": {"t_max": 5.0}}
    assert dataset_hash(cfg) == canonical_hash(ident)


def _dataset(root: Path, config_hash: str = "abc123", sha: str = "s0") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    man = {
        "format_version": 1,
        "name": root.name,
        "config": {},
        "config_hash": config_hash,
        "shards": [{"id": "r0_c000", "sha256": sha}],
    }
    (root / "manifest.json").write_text(json.dumps(man))
    return root


def test_record_resolves_and_refuses_a_changed_or_moved_dataset(tmp_path: Path, caplog) -> None:
    ds = _dataset(tmp_path / "data" / "demo")
    run = tmp_path / "run"
    run.mkdir()
    assert read_dataset_record(run) is None and run_dataset(run) is None  # older runs: caller falls back
    write_dataset_record(run, ds)
    rec = json.loads((run / DATASET_RECORD).read_text())
    assert rec["name"] == "demo" and rec["config_hash"] == "abc123" and Path(rec["dir"]) == ds.resolve()
    assert run_dataset(run) == ds.resolve()
    # same config, rebuilt shards: resolved, with a warning
    _dataset(ds, sha="s1")
    assert run_dataset(run) == ds.resolve()
    assert "shards changed" in caplog.text
    # rebuilt from another config: refused naming the manifest, both hashes and the record
    _dataset(ds, config_hash="fff999")
    with pytest.raises(ConfigError, match=r"manifest\.json: config_hash 'fff999'.*'abc123'.*dataset\.json"):
        run_dataset(run)
    # moved: refused naming the record and the hash; data_root= finds the moved copy (hash checked)
    _dataset(ds)
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    ds.rename(moved / "demo")
    with pytest.raises(ConfigError, match=r"dataset\.json: .*'demo' \(config_hash abc123\).*moved or was deleted.*data_root="):
        run_dataset(run)
    assert run_dataset(run, data_root=moved) == moved / "demo"
