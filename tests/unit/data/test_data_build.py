"""Dataset builder: resumable after a kill, idempotent, ingest parity, bad input, datamodules."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from taulc.data import stages
from taulc.data.builder import DatasetBuilder
from taulc.data.datamodules import GraphDataModule, TabularDataModule
from taulc.data.dataset import load_dataset
from taulc.data.ingest import InputError, read_configurations
from taulc.data.splits import SplitSpec
from taulc.data.storage import DatasetError
from taulc.testing.data import tiny_build_cfg


def _manifest_wo_time(root: Path) -> dict:
    man = json.loads((root / "manifest.json").read_text())
    man.pop("created")
    return man


def _builder(cfg, root: Path) -> DatasetBuilder:
    from omegaconf import OmegaConf

    return DatasetBuilder(OmegaConf.to_container(cfg, resolve=True), root, progress=False)


def test_tiny_dataset_is_labelled_and_loadable(tiny_dataset: Path):
    t = load_dataset(tiny_dataset)
    assert t.n_shards == 6 and t.features.shape == (6 * 300, 576)
    assert np.isfinite(t.ln_tau_lc).all() and np.isfinite(t.ln_tau_sh).all()
    eq = t.rate == 0.0
    # at rate 0, tau_sh is tau_LC by definition, so nobody is slow (Eq. 2)
    assert np.array_equal(t.ln_tau_lc[eq], t.ln_tau_sh[eq]) and t.slow[eq].sum() == 0
    man = t.manifest
    assert set(man["rates"]) == {"0", "0.1"} and man["rates"]["0.1"]["eta"] > 0
    assert all(len(s["sha256"]) == 64 for s in man["shards"])


def test_rerun_with_unchanged_config_does_nothing(tiny_dataset: Path, monkeypatch):
    cfg = tiny_build_cfg(tiny_dataset.parent)
    before = (tiny_dataset / "manifest.json").read_bytes()

    def boom(*a, **k):
        raise AssertionError("a stage ran although the dataset is up to date")

    for name in ("equilibrate", "reference", "sample_steady", "label"):
        monkeypatch.setattr(stages, name, boom)
    _builder(cfg, tiny_dataset).build()
    assert (tiny_dataset / "manifest.json").read_bytes() == before


def test_killed_build_resumes_to_the_same_manifest(tiny_dataset: Path, tmp_path: Path, monkeypatch):
    """Kill the label stage after two shards; the resumed build recomputes nothing finished."""
    cfg = tiny_build_cfg(tmp_path)
    root = tmp_path / "tiny"
    real_label = stages.label
    calls: list[str] = []

    def dying_label(c, conf_path, rate, ref, seed, **kw):
        if len(calls) == 2:
            raise KeyboardInterrupt("simulated kill")
        calls.append(Path(conf_path).stem)
        return real_label(c, conf_path, rate, ref, seed, **kw)

    monkeypatch.setattr(stages, "label", dying_label)
    with pytest.raises(KeyboardInterrupt):
        _builder(cfg, root).build()
    assert not (root / "manifest.json").exists()
    assert not list(root.rglob("*.tmp")), "a temporary file survived the kill"
    finished = list(calls)

    resumed: list[str] = []

    def counting_label(c, conf_path, rate, ref, seed, **kw):
        resumed.append(Path(conf_path).stem)
        return real_label(c, conf_path, rate, ref, seed, **kw)

    monkeypatch.setattr(stages, "label", counting_label)
    for name in ("equilibrate",):
        monkeypatch.setattr(stages, name, lambda *a, **k: (_ for _ in ()).throw(AssertionError("recomputed")))
    _builder(cfg, root).build()
    assert not set(finished) & set(resumed), "finished shards were recomputed"
    assert len(finished) + len(resumed) == 6
    # same result as the uninterrupted build of the session fixture (same seeds, 1 thread)
    a, b = _manifest_wo_time(root), _manifest_wo_time(tiny_dataset)
    assert [s["sha256"] for s in a["shards"]] == [s["sha256"] for s in b["shards"]]
    assert a["config_hash"] == b["config_hash"] and a["rates"] == b["rates"]


def test_missing_shard_and_changed_config_are_refused(tiny_dataset: Path, tmp_path: Path):
    copy = tmp_path / "tiny"
    shutil.copytree(tiny_dataset, copy, ignore=shutil.ignore_patterns("cache"))
    first = sorted((copy / "shards").iterdir())[0]
    first.unlink()
    with pytest.raises(DatasetError, match=re.escape(first.name) + ".*missing"):
        load_dataset(copy)
    from taulc.data.builder import dataset_config

    cfg = tiny_build_cfg(tiny_dataset.parent, ["labels.n_replicas=4"])
    from omegaconf import OmegaConf

    with pytest.raises(DatasetError, match="labels.n_replicas: built with 2, requested 4"):
        load_dataset(tiny_dataset, dataset_config(OmegaConf.to_container(cfg, resolve=True)))


def _write_dump(conf, path: Path) -> None:
    """A LAMMPS text dump of ``conf`` written by LAMMPS itself (through the engine)."""
    from omegaconf import OmegaConf

    from taulc.md.lammps_engine import LammpsEngine
    from taulc.md.system import SystemSpec

    cfg = OmegaConf.to_container(tiny_build_cfg(path.parent), resolve=True)
    eng = LammpsEngine(SystemSpec.from_config(cfg["system"]), n_threads=1)
    try:
        eng.load(conf)
        eng.commands(f"write_dump all custom {path} id type x y z modify sort id format float %.17g")
    finally:
        eng.close()


def test_ingested_lammps_dump_gives_native_descriptors(tiny_dataset: Path, tmp_path: Path):
    from taulc.structure import featurize

    sim = next((tiny_dataset / "cache").glob("simulate_*"))
    native = stages.load_configuration(sim / "r1.000e-01_c001.extxyz")
    assert abs(native.cell[1, 0]) > 1e-6, "want a tilted (sheared) box"
    dump = tmp_path / "conf.dump"
    _write_dump(native, dump)
    (ing,) = read_configurations([dump], rate=0.1)
    assert np.array_equal(ing.species, native.species)
    np.testing.assert_allclose(ing.cell, native.cell, rtol=0, atol=1e-9)
    x_native, _ = featurize(native.positions, native.species, native.cell)
    x_ing, _ = featurize(ing.positions, ing.species, ing.cell)
    np.testing.assert_allclose(x_ing, x_native, rtol=1e-6, atol=1e-8)


def test_ingested_lammps_data_file_in_lj_units(tiny_dataset: Path, tmp_path: Path):
    """LJ-unit data files (masses 1) have no element: species come from the atom type."""
    from omegaconf import OmegaConf

    from taulc.md.lammps_engine import LammpsEngine
    from taulc.md.system import SystemSpec

    sim = next((tiny_dataset / "cache").glob("simulate_*"))
    native = stages.load_configuration(sim / "r1.000e-01_c002.extxyz")
    cfg = OmegaConf.to_container(tiny_build_cfg(tmp_path), resolve=True)
    eng = LammpsEngine(SystemSpec.from_config(cfg["system"]), n_threads=1)
    try:
        eng.load(native)
        eng.commands(f"write_data {tmp_path / 'conf.data'} nocoeff")
    finally:
        eng.close()
    (ing,) = read_configurations([tmp_path / "conf.data"], rate=0.1)
    assert np.array_equal(ing.species, native.species)
    np.testing.assert_allclose(ing.cell, native.cell, atol=1e-9)


def test_bad_inputs_give_clear_errors_and_write_nothing(tiny_dataset: Path, tmp_path: Path):
    sim = next((tiny_dataset / "cache").glob("simulate_*"))
    conf = stages.load_configuration(sim / "r1.000e-01_c000.extxyz")
    dump = tmp_path / "good.dump"
    _write_dump(conf, dump)
    lines = dump.read_text().splitlines()
    trunc = tmp_path / "truncated.dump"
    trunc.write_text("\n".join(lines[: len(lines) // 2]) + "\n")
    with pytest.raises(InputError, match="truncated.dump"):
        read_configurations([trunc], rate=0.1)
    alien = tmp_path / "alien.dump"
    header, body = lines[:9], lines[9:]
    body[0] = " ".join([body[0].split()[0], "3", *body[0].split()[2:]])
    alien.write_text("\n".join(header + body) + "\n")
    with pytest.raises(InputError, match=r"alien.dump.*\[3\].*species map"):
        read_configurations([alien], rate=0.1)
    nocell = tmp_path / "nocell.xyz"
    nocell.write_text("2\nProperties=species:S:1:pos:R:3\nNi 0 0 0\nP 1 1 1\n")
    with pytest.raises(InputError, match="nocell.xyz.*periodic"):
        read_configurations([nocell], rate=0.0)
    # an ingest build with a bad file fails before writing anything
    from omegaconf import OmegaConf

    from taulc.testing.data import TINY_OVERRIDES, compose

    keep = [o for o in TINY_OVERRIDES if not o.startswith("dataset.")]
    cfg = compose(
        "build",
        [
            f"data_root={tmp_path}",
            *keep,
            "dataset=ingest",
            f"dataset.files=[{dump},{trunc}]",
            "dataset.rate=0.1",
            "dataset.name=bad",
        ],
    )

    b = DatasetBuilder(OmegaConf.to_container(cfg, resolve=True), tmp_path / "bad", progress=False)
    with pytest.raises(InputError, match="truncated.dump"):
        b.build()
    assert not (tmp_path / "bad").exists()


def test_datamodules_serve_the_split(tiny_dataset: Path):
    dm = TabularDataModule(tiny_dataset, SplitSpec(kind="config", seed=0), balance_classes=False, batch_size=256)
    dm.setup()
    batch = next(iter(dm.train_dataloader()))
    assert batch["x"].shape == (256, 576) and batch["x"].dtype.is_floating_point
    test_cfg = set(dm.arrays("test")["config_id"].tolist())
    train_cfg = set(dm.arrays("train")["config_id"].tolist())
    assert test_cfg and not test_cfg & train_cfg
    g = GraphDataModule(tiny_dataset, SplitSpec(kind="config", seed=0), batch_size=2)
    g.setup()
    gb = next(iter(g.train_dataloader()))
    assert gb.edge_attr.shape[1] == 4 and gb.mask.any()
    np.testing.assert_allclose(gb.edge_attr[:, 3].numpy(), np.linalg.norm(gb.edge_attr[:, :3].numpy(), axis=1), rtol=1e-5)
    assert float(gb.edge_attr[:, 3].max()) <= 2.0 + 1e-6
