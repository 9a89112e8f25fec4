"""Bad inputs to simulate, build (ingest included), train and evaluate: refused before any work.

Every case runs the real Hydra entry point in-process (``taulc-simulate``, ``taulc-build``,
``train.py``, ``evaluate.py``) and asserts exit status 2, a one-line message naming the
field or the file, and that nothing but Hydra's own config/log was written (no
configurations, no dataset, no run directory).  All cases are refused before MD or
training starts, so each takes well under a second.  Predict cases: test_bad_inputs_predict.py.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import REPO
from tests.helpers.bad_inputs import write_labelled_xyz, write_lammps_dump, write_ovito_xyz, write_unreadable


def _entry(name: str):
    if name == "simulate":
        from taulc.simulate import main

        return main
    if name == "build":
        from taulc.build import main

        return main
    spec = importlib.util.spec_from_file_location(f"_taulc_{name}_entry", REPO / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.main


def run_entry(name: str, overrides: list[str], tmp: Path, monkeypatch, capsys) -> tuple[int, str]:
    """Run an entry point with Hydra overrides in ``tmp``; return (exit status, stderr)."""
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    monkeypatch.chdir(tmp)
    monkeypatch.setattr(sys, "argv", [name, f"hydra.run.dir={tmp / 'hydra_run'}", *overrides])
    with pytest.raises(SystemExit) as exc:
        _entry(name)()
    return int(exc.value.code or 0), capsys.readouterr().err


def assert_refused(rc: int, err: str, prog: str, message: str) -> None:
    """Exit 2, one ``<prog>: error:`` line matching ``message``, no traceback."""
    assert rc == 2, err
    assert re.search(message, err), err
    assert err.startswith(f"{prog}: error: ") and "Traceback" not in err


def artefacts(tmp: Path, before: set[Path]) -> list[str]:
    """Files written under ``tmp`` other than Hydra's config and logs and the test's own inputs."""
    return sorted(
        str(p.relative_to(tmp))
        for p in tmp.rglob("*")
        if p.is_file() and p not in before and ".hydra" not in p.parts and p.suffix != ".log"
    )


def lattice_config(n_side: int = 10, density: float = 1.2, n_small: int = 200, seed: int = 0):
    """A simple-cubic Kob-Andersen-composition configuration (N = n_side³, no overlaps): positions, species, cell."""
    a = (1.0 / density) ** (1 / 3)
    g = np.arange(n_side) * a
    pos = np.stack(np.meshgrid(g, g, g, indexing="ij"), -1).reshape(-1, 3) + a / 2
    sp = np.zeros(len(pos), dtype=np.int64)
    sp[np.random.default_rng(seed).choice(len(pos), n_small, replace=False)] = 1
    return pos, sp, np.eye(3) * n_side * a


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    """Files of other codes with N = 1000 (system demo with system.n_atoms=1000): good and broken."""
    d = tmp_path_factory.mktemp("ingest_inputs")
    pos, sp, cell = lattice_config()
    out = {"good": write_lammps_dump(d / "good.dump", pos, sp + 1, cell)}
    out["swapped"] = write_lammps_dump(d / "swapped.dump", pos, 2 - sp, cell)  # type 1 = small (N = 1000)
    half = sp.copy()
    half[:300] = 1
    out["composition"] = write_lammps_dump(d / "composition.dump", pos, half + 1, cell)
    out["n_mismatch"] = write_lammps_dump(d / "n_mismatch.dump", pos[:999], sp[:999] + 1, cell)
    s = (1.2 / 1.38) ** (1 / 3)
    out["dense"] = write_lammps_dump(d / "dense.dump", pos * s, sp + 1, cell * s)
    close = pos.copy()
    close[1] = close[0] + [0.2, 0.0, 0.0]
    out["overlap"] = write_lammps_dump(d / "overlap.dump", close, sp + 1, cell)
    out["one_atom"] = write_lammps_dump(d / "one_atom.dump", pos[:1], sp[:1] + 1, cell)
    two_tilts = cell.copy()
    two_tilts[1, 0], two_tilts[2, 0] = 1.0, 0.5
    out["two_tilts"] = write_lammps_dump(d / "two_tilts.dump", pos, sp + 1, two_tilts)
    out["ab_xyz"] = write_labelled_xyz(d / "ab.xyz", pos, np.where(sp == 0, "A", "B"), cell)
    out["cd_xyz"] = write_labelled_xyz(d / "cd.xyz", pos, np.where(sp == 0, "C1", "D1"), cell)
    # OVITO export with the labels the other way round (first particle 'B', a chemical symbol) and an origin
    flip = np.argsort(sp, kind="stable")[::-1]
    out["ovito"] = write_ovito_xyz(
        d / "ovito.xyz", pos[flip], np.where(sp[flip] == 0, "B", "A"), cell, np.array([1.0, -2.0, 0.5]), flip + 1
    )
    text = out["good"].read_text().splitlines()
    (d / "truncated.dump").write_text("\n".join(text[: len(text) // 2]) + "\n")
    out["truncated"] = d / "truncated.dump"
    out.update(write_unreadable(d))
    return out


# ----------------------------------------------------------------------------- simulate
SIMULATE = [
    ("rate_too_large", ["protocol.rate=100"], r"protocol\.rate' = 100 exceeds 1"),
    ("rate_negative", ["protocol.rate=-0.1"], r"'rate' must be >= 0"),
    ("dt_too_large", ["system.dt=0.05"], r"system\.dt' = 0\.05 exceeds 0\.01.*Lost atoms"),
    ("dt_negative", ["system.dt=-0.005"], r"'dt' must be a positive number"),
    ("n_atoms_zero", ["system.n_atoms=0"], r"'n_atoms' must be an integer >= 2"),
    ("box_too_small", ["system.n_atoms=20"], r"'n_atoms' box edge"),
    ("density_negative", ["system.density=-1.2"], r"'density' must be a positive number"),
    ("temperature_zero", ["system.temperature=0"], r"'temperature' must be a positive number"),
    (
        "temperature_huge",
        ["system.temperature=1e6"],
        r"'system\.temperature' = 1e\+06 is outside the accepted range 0 < T <= 20 .*Lost atoms",
    ),
    (
        "temperature_50",
        ["system.temperature=50"],
        r"'system\.temperature' = 50 is outside the accepted range 0 < T <= 20 for system\.dt = 0\.005",
    ),
    ("melt_temperature", ["system.melt_temperature=100"], r"'system\.melt_temperature' = 100 is outside the accepted range"),
    ("fraction_small", ["system.fraction_small=1.5"], r"'fraction_small' must be in \[0, 1\)"),
    ("sigma_negative", ["system.sigma.bb=-1"], r"'sigma\.bb' must be positive"),
    ("n_configs_zero", ["n_configs=0"], r"'n_configs' must be >= 1"),
    ("n_configs_fraction", ["n_configs=1.5"], r"'n_configs' must be an integer"),
    ("seed_negative", ["seed=-1"], r"'seed' must be >= 0"),
    ("config_interval_zero", ["protocol.config_interval=0"], r"'config_interval' must be > 0"),
    ("quiescent_with_rate", ["protocol=quiescent", "protocol.rate=0.1"], r"'rate' must be 0 for a quiescent protocol"),
    ("out_dir_is_file", ["out_dir={file}"], r"'out_dir' = .*afile\.txt: exists and is not a directory"),
    ("out_dir_under_file", ["out_dir={file}/sub"], r"'out_dir' = .*afile\.txt is a file"),
    ("engine_backend", ["++engine.backend=gromacs"], r"'engine\.backend': unknown MD backend 'gromacs'"),
    ("engine_unknown_key", ["++engine.n_thread=2"], r"'engine\.n_thread' is unknown; known fields of 'engine'"),
    (
        "top_level_unknown_key",
        ["++n_config=3"],
        r"field 'n_config' is unknown to taulc-simulate .*known top-level fields: "
        r"\['engine', 'n_configs'",
    ),
]


@pytest.mark.parametrize("case, overrides, message", SIMULATE, ids=[c[0] for c in SIMULATE])
def test_simulate_refuses_before_md(case, overrides, message, tmp_path, monkeypatch, capsys):
    f = tmp_path / "afile.txt"
    f.write_text("user data\n")
    before = set(tmp_path.rglob("*"))
    rc, err = run_entry("simulate", [o.format(file=f) for o in overrides] + ["progress=false"], tmp_path, monkeypatch, capsys)
    assert_refused(rc, err, "taulc-simulate", message)
    assert artefacts(tmp_path, before) == []
    assert not (tmp_path / "hydra_run").exists(), "the refused run left its directory behind"
    assert f.read_text() == "user data\n"


# ----------------------------------------------------------------------------- build
BUILD = [
    ("n_configs_zero", ["dataset.n_configs=0"], r"'dataset\.n_configs' must be >= 1"),
    ("rates_negative", ["dataset.rates=[-0.1]"], r"'dataset\.rates\[0\]' must be >= 0.*mirror"),
    ("rates_empty", ["dataset.rates=[]"], r"'dataset\.rates' must be a non-empty list"),
    ("rates_twice", ["dataset.rates=[0.0,0.01,0.01]"], r"'dataset\.rates' lists a rate twice"),
    ("rate_too_large", ["dataset.rates=[0.0,5.0]"], r"'dataset\.rates\[1\]' = 5 exceeds 1"),
    ("n_replicas_zero", ["labels.n_replicas=0"], r"'labels\.n_replicas' must be >= 1"),
    ("t_max_negative", ["labels.t_max=-1"], r"'labels\.t_max' must be > 0"),
    ("sample_interval_zero", ["labels.sample_interval=0"], r"'labels\.sample_interval' must be > 0"),
    ("sample_interval_long", ["labels.sample_interval=100"], r"labels\.t_max and labels\.sample_interval"),
    ("estimator", ["labels.estimator=median"], r"labels\.estimator must be one of km\|logmean\|mean_uncensored\|exp_mle"),
    ("lc2_negative", ["labels.lc2=-0.1"], r"'labels\.lc2' must be > 0"),
    ("equilibration_negative", ["dataset.equilibration_time=-5"], r"'dataset\.equilibration_time' must be >= 0"),
    ("spacing_zero", ["dataset.spacing=0"], r"'dataset\.spacing' must be > 0"),
    ("reference_runs_zero", ["dataset.reference_runs=0"], r"'dataset\.reference_runs' must be >= 1"),
    ("dt_too_large", ["system.dt=0.02"], r"'system\.dt' = 0\.02 exceeds"),
    ("temperature_50", ["system.temperature=50"], r"'system\.temperature' = 50 is outside the accepted range 0 < T <= 20"),
    ("stages", ["build.stages=[simulate,relax]"], r"'build\.stages': unknown stage\(s\) \['relax'\]"),
    ("name_empty", ["dataset.name=''"], r"'dataset\.name' must be a non-empty directory name"),
    ("data_root_is_file", ["data_root={file}"], r"'data_root' = .*afile\.txt.* is a file"),
    ("dataset_unknown_key", ["++dataset.spacng=3"], r"'dataset\.spacng' is unknown; known fields of 'dataset'"),
    ("build_unknown_key", ["++build.stage=[label]"], r"'build\.stage' is unknown; known fields of 'build'"),
    ("top_level_unknown_key", ["++n_configs=3"], r"field 'n_configs' is unknown to taulc-build .*known top-level fields: "),
]


@pytest.mark.parametrize("case, overrides, message", BUILD, ids=[c[0] for c in BUILD])
def test_build_refuses_before_md(case, overrides, message, tmp_path, monkeypatch, capsys):
    f = tmp_path / "afile.txt"
    f.write_text("user data\n")
    before = set(tmp_path.rglob("*"))
    ov = [f"data_root={tmp_path / 'data'}", "dataset=demo", "build.progress=false", *(o.format(file=f) for o in overrides)]
    rc, err = run_entry("build", ov, tmp_path, monkeypatch, capsys)
    assert_refused(rc, err, "taulc-build", message)
    assert artefacts(tmp_path, before) == [] and not (tmp_path / "data").exists()
    assert not (tmp_path / "hydra_run").exists(), "the refused run left its directory behind"


INGEST = [
    ("no_files", None, [], r"'dataset\.files' is empty"),
    ("missing_file", "MISSING", [], r"'dataset\.files': .*nope\.dump not found"),
    ("directory", "folder", [], r"a_folder is not a file \(a directory\?\)"),
    ("garbage", "garbage", [], r"garbage\.bin: unsupported format \(binary data"),
    ("empty", "empty", [], r"no frames found in .*empty\.xyz"),
    ("unknown_text", "unknown", [], r"notes\.txt: unsupported format \(not recognised"),
    ("truncated", "truncated", [], r"truncated\.dump: .*truncated"),
    (
        "n_mismatch",
        "n_mismatch",
        [],
        r"n_mismatch\.dump \(frame 0\): 999 particles, but system 'demo' has system\.n_atoms = 1000",
    ),
    ("density", "dense", [], r"dense\.dump \(frame 0\): density N/V = 1\.38, but system 'demo' has system\.density = 1\.2"),
    (
        "swapped_types",
        "swapped",
        [],
        r"swapped\.dump \(frame 0\): 800 small particles .* type map looks swapped.*dataset\.species_map",
    ),
    (
        "composition",
        "composition",
        [],
        r"composition\.dump \(frame 0\): \d+ small particles \(species 1\), but system 'demo' has 200",
    ),
    ("overlap", "overlap", [], r"overlap\.dump \(frame 0\): 1 overlapping pair\(s\): particles 0 and 1"),
    ("one_atom", "one_atom", [], r"one_atom\.dump \(frame 0\): 1 particles, but system 'demo' has system\.n_atoms = 1000"),
    ("two_tilts", "two_tilts", [], r"two_tilts\.dump \(frame 0\): the cell is tilted in xy and xz .* ambiguous"),
    ("labels_unmapped", "cd_xyz", [], r"cd\.xyz \(frame 0\): species label\(s\) \['C1', 'D1'\] are not in the species map"),
    (
        "species_map_value",
        "good",
        ["dataset.species_map={1: 0, 2: 3}"],
        r"'dataset\.species_map' entry 2: 3; expected 0 \(big\) or 1",
    ),
    ("rate_negative", "good", ["dataset.rate=-0.1"], r"'dataset\.rate' must be >= 0"),
    ("rate_missing", "good", ["dataset.rate=null"], r"good\.dump \(frame 0\): no shear rate in the file; set dataset\.rate"),
]


@pytest.mark.parametrize("case, key, extra, message", INGEST, ids=[c[0] for c in INGEST])
def test_ingest_refuses_before_md(case, key, extra, message, inputs, tmp_path, monkeypatch, capsys):
    files = "[]" if key is None else f"[{tmp_path / 'nope.dump' if key == 'MISSING' else inputs[key]}]"
    ov = [
        f"data_root={tmp_path / 'data'}",
        "dataset=ingest",
        "system=demo",
        "system.n_atoms=1000",
        "dataset.rate=0.01",
        f"dataset.files={files}",
        "build.progress=false",
        "engine.n_threads=1",
        *extra,
    ]
    before = set(tmp_path.rglob("*"))
    rc, err = run_entry("build", ov, tmp_path, monkeypatch, capsys)
    assert_refused(rc, err, "taulc-build", message)
    assert artefacts(tmp_path, before) == [] and not (tmp_path / "data" / "ingest").exists()


def test_ingest_reads_other_codes_files_into_the_same_configuration(inputs, tmp_path):
    """LAMMPS dump, atooms A/B xyz, an OVITO export (with the species map) and the swapped dump with the reversed
    map are the same configuration exactly."""
    from taulc.data.ingest import read_configurations

    (ref,) = read_configurations([inputs["good"]], rate=0.01)
    (ab,) = read_configurations([inputs["ab_xyz"]], rate=0.01)  # Kob-Andersen A/B: no map needed
    (sw,) = read_configurations([inputs["swapped"]], species_map={1: 1, 2: 0}, rate=0.01)
    (ov,) = read_configurations([inputs["ovito"]], species_map={"B": 0, "A": 1}, rate=0.01)
    flip = np.argsort(ref.species, kind="stable")[::-1]
    ov.positions[flip], ov.species[flip] = ov.positions.copy(), ov.species.copy()  # back to the dump's order (ids)
    for c in (ab, sw, ov):
        np.testing.assert_array_equal(c.species, ref.species)
        d = c.positions - ref.positions
        d -= np.round(d @ np.linalg.inv(ref.cell)) @ ref.cell  # same point modulo the lattice
        assert np.abs(d).max() < 1e-8


@pytest.mark.parametrize(
    "override, expect",
    [("dataset.species_map={A: 0, B: 1}", {"A": 0, "B": 1}), ("dataset.species_map={1: 1, 2: 0}", {1: 1, 2: 0})],
)
def test_documented_species_map_override_composes(override, expect):
    """The override docs/inputs.md shows works as written (no '+'): the ingest default is null, not a struct dict."""
    from omegaconf import OmegaConf

    from taulc.testing.data import compose

    c = compose("build", ["dataset=ingest", override])
    assert OmegaConf.to_container(c.dataset.species_map) == expect


def test_ingest_cache_is_keyed_by_file_content(inputs, tmp_path):
    """A replaced input file is a new input: the simulate-stage key and the manifest's input hashes change."""
    from omegaconf import OmegaConf

    from taulc.data.builder import DatasetBuilder
    from taulc.testing.data import compose

    f = tmp_path / "run.dump"
    f.write_bytes(inputs["good"].read_bytes())
    cfg = compose(
        "build",
        [
            f"data_root={tmp_path}",
            "dataset=ingest",
            "system=demo",
            "system.n_atoms=1000",
            "dataset.rate=0.01",
            f"dataset.files=[{f}]",
        ],
    )
    c = OmegaConf.to_container(cfg, resolve=True)
    a = DatasetBuilder(c, tmp_path / "ingest", progress=False)
    f.write_bytes(inputs["composition"].read_bytes().replace(b"ITEM: TIMESTEP\n0", b"ITEM: TIMESTEP\n1"))
    b = DatasetBuilder(c, tmp_path / "ingest", progress=False)
    assert a.k_sim != b.k_sim and a.inputs[0]["sha256"] != b.inputs[0]["sha256"]
    # a manifest that recorded the old content is not up to date for the new one
    (tmp_path / "ingest").mkdir()
    man = {"format_version": 1, "config": a.dcfg, "config_hash": None, "inputs": a.inputs, "shards": []}
    from taulc.data.manifest import canonical_hash

    man["config_hash"] = canonical_hash(a.dcfg)
    (tmp_path / "ingest" / "manifest.json").write_text(json.dumps(man))
    assert a.up_to_date() and not b.up_to_date()


# ----------------------------------------------------------------------------- train
TRAIN = [
    ("target", ["target.name=tau"], r"target.name must be ln_tau_lc, ln_tau_sh or mobility, got 'tau'"),
    ("target_ref", ["target.reference_species=2"], r"target.reference_species must be 0 \(big\), 1 \(small\) or all"),
    ("species", ["data.species=medium"], r"'data\.species' must be all \| big \| small"),
    ("batch_size", ["data.batch_size=0"], r"'data\.batch_size' must be >= 1"),
    ("max_epochs", ["trainer.max_epochs=0"], r"'trainer\.max_epochs' must be >= 1"),
    ("patience", ["early_stopping.patience=-1"], r"'early_stopping\.patience' must be >= 0"),
    ("val_fraction", ["split.val_fraction=2"], r"'split\.val_fraction' must be <= 1"),
    (
        "fractions_sum",
        ["split.test_fraction=0.6", "split.val_fraction=0.5"],
        r"'split\.test_fraction' \+ 'split\.val_fraction' = 0\.6 \+ 0\.5 = 1\.1 leave nothing to train on",
    ),
    ("seed", ["seed=-3"], r"'seed' must be >= 0"),
    ("split_unknown", ["+split.test_fracton=0.3"], r"'split\.test_fracton' is unknown; known fields of 'split'"),
    ("split_kind", ["split.kind=by_rate"], r"'split\.kind': must be one of \['random', 'config', 'rate'\]"),
    ("data_unknown", ["+data.specis=big"], r"'data\.specis' is unknown; known fields of 'data'"),
    ("target_unknown", ["+target.nam=ln_tau_sh"], r"'target\.nam' is unknown; known fields of 'target'"),
    ("early_stopping_unknown", ["+early_stopping.patiense=3"], r"'early_stopping\.patiense' is unknown"),
    ("top_level_unknown_key", ["++max_epochs=3"], r"field 'max_epochs' is unknown to train\.py .*known top-level fields: "),
    ("ckpt_missing", ["ckpt_path={tmp}/missing.ckpt"], r"'ckpt_path' = .*missing\.ckpt: checkpoint file not found"),
    ("results_table_dir", ["results_table={tmp}"], r"'results_table' = .*: is a directory"),
    (
        "dataset_not_built",
        ["dataset.name=never_built"],
        r"never_built/manifest\.json: dataset 'never_built' is not built.*taulc\.build dataset=never_built",
    ),
]


@pytest.mark.parametrize("case, overrides, message", TRAIN, ids=[c[0] for c in TRAIN])
def test_train_refuses_before_training(case, overrides, message, tmp_path, monkeypatch, capsys):
    before = set(tmp_path.rglob("*"))
    ov = [f"results_table={tmp_path / 'results.csv'}", *(o.format(tmp=tmp_path) for o in overrides)]
    if not any(o.startswith("dataset.name") for o in ov):
        ov.insert(0, f"data_root={REPO / 'datasets'}")  # the shipped demo dataset: only its manifest is read
    else:
        ov.insert(0, f"data_root={tmp_path / 'data'}")
    rc, err = run_entry("train", ov, tmp_path, monkeypatch, capsys)
    assert_refused(rc, err, "train.py", message)
    assert not (tmp_path / "hydra_run").exists(), "the refused run left its directory behind"
    assert artefacts(tmp_path, before) == []


class _Exploit:
    """Unpickling this runs a shell command (what a crafted .ckpt can do under weights_only=False)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


def test_crafted_checkpoint_is_refused_without_running_its_code(tmp_path, monkeypatch, capsys):
    import torch

    marker = tmp_path / "pwned"
    ckpt = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {}, "payload": _Exploit(marker)}, ckpt)
    ov = [f"data_root={REPO / 'datasets'}", f"results_table={tmp_path / 'results.csv'}", "model=gnn", f"ckpt_path={ckpt}"]
    rc, err = run_entry("train", ov, tmp_path, monkeypatch, capsys)
    assert rc == 2, err
    assert re.search(r"'ckpt_path' = .*evil\.ckpt: not a checkpoint that loads with weights_only=True", err), err
    assert not marker.exists(), "the checkpoint's code ran"
    assert not (tmp_path / "hydra_run").exists()


@pytest.mark.parametrize(
    "argv",
    [["-m", "taulc.simulate", "system.dt=0.05"], [str(REPO / "evaluate.py"), "run=/nonexistent"]],
    ids=["simulate", "evaluate"],
)
def test_refused_real_process_leaves_no_run_directory(argv, tmp_path):
    """As users run them (a real process, Hydra's default run directory under the working directory): a refused
    command exits 2 and leaves no outputs/... or reports/... behind."""
    import os
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    r = subprocess.run([sys.executable, *argv], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and ": error: " in r.stderr, r.stderr
    assert list(tmp_path.iterdir()) == [], sorted(str(p) for p in tmp_path.rglob("*"))


def _checkpoint(path: Path, overrides: list[str]) -> Path:
    """A checkpoint as Lightning writes it (state_dict + hyper_parameters) of the model composed with ``overrides``."""
    import hydra
    import torch
    from omegaconf import OmegaConf

    from taulc.testing.data import compose

    cfg = OmegaConf.to_container(compose("train", overrides).model, resolve=True)
    if cfg.get("n_features") in (None, "???"):
        cfg["n_features"] = 576
    model = hydra.utils.instantiate(cfg)
    hp = {k: v for k, v in cfg.items() if k != "_target_"}
    torch.save({"state_dict": model.state_dict(), "hyper_parameters": hp, "epoch": 1}, path)
    return path


@pytest.mark.parametrize(
    "model, message",
    [
        (
            ["model=svm"],
            r"'ckpt_path' = .*gnn\.ckpt: the checkpoint is of another model \(its hyperparameters \[.*'hidden'.*\] are "
            r"not LinearSVM's\)",
        ),
        (
            ["model=gnn", "model.hidden=32"],
            r"'ckpt_path' = .*gnn\.ckpt: the checkpoint does not fit the composed \w+ \(model\.hidden = "
            r"32 \(checkpoint: 16\)",
        ),
    ],
    ids=["svm_with_gnn_ckpt", "gnn_other_hidden"],
)
def test_mismatched_checkpoint_is_refused_before_data_loading(model, message, tmp_path, monkeypatch, capsys):
    ckpt = _checkpoint(tmp_path / "gnn.ckpt", ["model=gnn", "model.hidden=16"])
    before = set(tmp_path.rglob("*"))
    ov = [f"data_root={REPO / 'datasets'}", f"results_table={tmp_path / 'results.csv'}", *model, f"ckpt_path={ckpt}"]
    rc, err = run_entry("train", ov, tmp_path, monkeypatch, capsys)
    assert_refused(rc, err, "train.py", message)
    assert artefacts(tmp_path, before) == []


def test_matching_checkpoint_passes_the_check(tmp_path):
    import torch
    from omegaconf import OmegaConf

    from taulc.testing.data import compose
    from taulc.validate import check_checkpoint_model

    ckpt = _checkpoint(tmp_path / "gnn.ckpt", ["model=gnn", "model.hidden=16"])
    cfg = OmegaConf.to_container(compose("train", ["model=gnn", "model.hidden=16", "model.lr=0.01"]).model, resolve=True)
    check_checkpoint_model(torch.load(ckpt, weights_only=True), cfg, str(ckpt))  # another lr: resumable


# ----------------------------------------------------------------------------- runs and evaluate
def _fake_run(d: Path, complete: bool, mtime: float) -> Path:
    """A run directory as train.py leaves it (metrics.json, .hydra/config.yaml, optionally COMPLETE)."""
    import os

    from taulc.runs import Run

    (d / ".hydra").mkdir(parents=True)
    (d / ".hydra" / "config.yaml").write_text("model: {_target_: taulc.models.LinearSVM}\n")
    (d / "metrics.json").write_text("{}")
    if complete:
        Run(d).mark_complete()
        os.utime(d / "COMPLETE", (mtime, mtime))
    return d


def test_latest_skips_incomplete_runs(tmp_path):
    from taulc.analysis.report import resolve_run
    from taulc.runs import RunError

    old = _fake_run(tmp_path / "svm" / "old", True, 1000.0)
    _fake_run(tmp_path / "svm" / "killed", False, 2000.0)  # newer, but killed before its marker
    assert resolve_run("latest", tmp_path) == old.resolve()
    assert resolve_run("svm", tmp_path) == old.resolve()
    with pytest.raises(RunError, match=r"killed is not a complete train\.py run"):
        resolve_run(str(tmp_path / "svm" / "killed"), tmp_path)


def test_two_runs_in_the_same_second_get_their_own_directories(tmp_path):
    from taulc.runs import Run

    shared = tmp_path / "runs" / "svm" / "2026-01-01_00-00-00"
    (shared / ".hydra").mkdir(parents=True)
    (shared / ".hydra" / "config.yaml").write_text("seed: 1\n")
    a = Run.claim(shared, {"seed": 1}).path
    (shared / ".hydra" / "config.yaml").write_text("seed: 2\n")  # the second run's Hydra overwrites the shared copy
    b = Run.claim(shared, {"seed": 2}).path
    c = Run.claim(shared).path
    assert a == shared and b.name == shared.name + "-1" and c.name == shared.name + "-2"
    assert (b / ".hydra" / "config.yaml").read_text() == "seed: 2\n"
    Run(a).mark_complete({"seed": 1})  # each run leaves its own config behind, whatever was overwritten meanwhile
    assert (a / ".hydra" / "config.yaml").read_text() == "seed: 1\n"
    assert json.loads((a / "COMPLETE").read_text())["files"] == {".taulc-owner": (a / ".taulc-owner").stat().st_size}


EVALUATE = [
    ("incomplete_run", ["run={tmp}/runs/svm/killed"], r"killed is not a complete train\.py run \(expected COMPLETE"),
    ("no_complete_run", ["run=latest", "runs_root={tmp}/runs"], r"run=latest: no complete run \(COMPLETE marker"),
    ("oversample_even", ["analysis.oversample=2"], r"'analysis\.oversample' must be odd"),
    ("slice_center", ["analysis.slice_center=2"], r"'analysis\.slice_center' must be <= 1"),
    ("n_grid", ["analysis.n_grid=1"], r"'analysis\.n_grid' must be >= 2"),
    ("greedy_k", ["analysis.importance.greedy_k=0"], r"'analysis\.importance\.greedy_k' must be >= 1"),
    ("analysis_unknown", ["+analysis.n_gridd=3"], r"'analysis\.n_gridd' is unknown; known fields of 'analysis'"),
    ("relation_unknown", ["+analysis.relation.nbins=3"], r"'analysis\.relation\.nbins' is unknown"),
    ("clusters_unknown", ["+analysis.clusters.threshold=0.2"], r"'analysis\.clusters\.threshold' is unknown"),
    ("clusters_range", ["analysis.clusters.t_r=0"], r"'analysis\.clusters\.t_r' must be > 0"),
    ("gnn_type", ["analysis.gnn.max_graphs=two"], r"'analysis\.gnn\.max_graphs': expected an integer"),
    ("out_is_file", ["out={tmp}/afile.txt"], r"'out' = .*afile\.txt: exists and is not a directory"),
    ("top_level_unknown_key", ["++n_grid=30"], r"field 'n_grid' is unknown to evaluate\.py .*known top-level fields: "),
]


@pytest.mark.parametrize("case, overrides, message", EVALUATE, ids=[c[0] for c in EVALUATE])
def test_evaluate_refuses_before_work(case, overrides, message, tmp_path, monkeypatch, capsys):
    _fake_run(tmp_path / "runs" / "svm" / "killed", False, 0.0)
    (tmp_path / "afile.txt").write_text("user data\n")
    before = set(tmp_path.rglob("*"))
    ov = [f"runs_root={tmp_path / 'runs'}", *(o.format(tmp=tmp_path) for o in overrides)]
    rc, err = run_entry("evaluate", ov, tmp_path, monkeypatch, capsys)
    assert_refused(rc, err, "evaluate.py", message)
    assert artefacts(tmp_path, before) == [] and (tmp_path / "afile.txt").read_text() == "user data\n"


def test_corrupted_shard_is_named_and_rebuilt_from_the_stage_caches(tiny_dataset, tmp_path, caplog):
    """A shard whose bytes no longer match the manifest: the rebuild names it and reuses the finished stages
    (no MD reruns: the simulate/label caches are hit), and the dataset is whole again."""
    import logging
    import shutil

    from taulc.build import run
    from taulc.data.manifest import read_manifest
    from taulc.data.storage import sha256_file
    from taulc.testing.data import tiny_build_cfg

    root = tmp_path / "data"
    shutil.copytree(tiny_dataset, root / "tiny")
    man = read_manifest(root / "tiny")
    bad = root / "tiny" / man["shards"][1]["file"]
    raw = bytearray(bad.read_bytes())
    raw[-100] ^= 0xFF
    bad.write_bytes(bytes(raw))
    caplog.clear()
    with caplog.at_level(logging.INFO):
        run(tiny_build_cfg(root))
    assert re.search(
        rf"shard .*{re.escape(bad.name)} is corrupt \(sha256 \w+\.\.\., the manifest records \w+\.\.\.\); "
        r"rebuilding \(finished stages are reused",
        caplog.text,
    ), caplog.text
    assert "equilibrating" not in caplog.text  # no MD: the engine logs this when it starts a state
    for s in read_manifest(root / "tiny")["shards"]:
        assert sha256_file(root / "tiny" / s["file"]) == s["sha256"]
