"""Users' files in and out (issue 24): Kob-Andersen type names by default, predictions written back in the
input's own format with the input's columns, ids, info keys and timestep, and the domain check reading
velocities, recorded temperatures and the structure of every bundle kind.

Round trips are checked with the readers users have: LAMMPS itself (``read_dump ... add keep``: id/type
columns), ``gsd.hoomd`` and ASE; and by feeding each output back to taulc-predict (same predictions).
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pytest

from taulc.testing.data import shard, tilted_shard
from tests.helpers.bad_inputs import write_gsd, write_labelled_xyz, write_lammps_dump
from tests.helpers.predict import trained_runs

gsd_hoomd = pytest.importorskip("gsd.hoomd")


@pytest.fixture(scope="session")
def runs(tiny_dataset: Path, tmp_path_factory) -> dict[str, Path]:
    return trained_runs(str(tiny_dataset), str(tmp_path_factory.getbasetemp() / "predict_runs"))


def _element_dump(path: Path, ref: Path, names: tuple[str, str] = ("A", "B")) -> Path:
    """``ref`` (``id type x y z ...``) rewritten as LAMMPS writes ``dump custom ... id element x y z`` with names."""
    out = []
    atoms = False
    for line in ref.read_text().splitlines():
        if line.startswith("ITEM: ATOMS"):
            atoms = True
            out.append(line.replace(" type ", " element "))
            continue
        if line.startswith("ITEM:"):
            atoms = False
        elif atoms:
            f = line.split()
            f[1] = names[int(f[1]) - 1]
            line = " ".join(f)
        out.append(line)
    path.write_text("\n".join(out) + "\n")
    return path


@pytest.fixture(scope="module")
def files(tiny_dataset: Path, tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("roundtrip")
    z = tilted_shard(tiny_dataset)
    pos, sp, cell = z["positions"], z["species"], z["cell"]
    q = shard(tiny_dataset, 0)
    rng = np.random.default_rng(5)
    n = len(sp)
    v = rng.normal(0.0, np.sqrt(0.6), (n, 3)) + np.outer(0.1 * pos[:, 1], [1, 0, 0])
    perm = rng.permutation(n)
    out: dict[str, Path] = {}
    out["dump"] = write_lammps_dump(d / "ref.dump", pos, sp + 1, cell)
    out["ortho"] = write_lammps_dump(d / "ortho.dump", q["positions"], q["species"] + 1, q["cell"])
    out["element"] = _element_dump(d / "element.dump", out["dump"])
    out["gsd"] = write_gsd(d / "hoomd.gsd", pos, sp, cell, velocities=v)
    out["atooms"] = write_labelled_xyz(d / "atooms.xyz", q["positions"], np.where(q["species"] == 0, "A", "B"), q["cell"])
    # a dump with velocities, an extra compute column, shuffled ids, a shifted origin and timestep 12000
    full = write_lammps_dump(
        d / "full.dump", pos[perm], sp[perm] + 1, cell, ids=perm * 3 + 7, velocities=v[perm], origin=np.array([-2.0, 1.0, 0.5])
    )
    lines = full.read_text().splitlines()
    lines[1] = "12000"
    lines[8] += " c_pe"
    lines[9:] = [f"{ln} {-5.0 - 0.01 * k:.6g}" for k, ln in enumerate(lines[9:])]
    full.write_text("\n".join(lines) + "\n")
    out["full"] = full
    return out


def _pred(runs, path: Path, model: str = "svm", **kw):
    from taulc.predict import Predictor

    pred = Predictor.load(runs[model] / "predictor.pt")
    return pred.predict(path, allow_small_cell=True, **kw)


def _cli(runs, args: list[str], caplog, model: str = "svm") -> tuple[int, str]:
    from taulc.predict.cli import main

    caplog.clear()
    with caplog.at_level(logging.INFO):
        rc = main([str(runs[model] / "predictor.pt"), *args, "--no-png", "--allow-small-cell", "-q"])
    return rc, caplog.text


# ----------------------------------------------------------------------------- Kob-Andersen names by default
@pytest.mark.parametrize("case, ref", [("gsd", "dump"), ("atooms", "ortho"), ("element", "dump")])
def test_ka_type_names_need_no_flag(runs, files, caplog, case, ref):
    """A HOOMD gsd with types A/B, an atooms xyz with A/B and a LAMMPS ``element`` dump with A/B give the
    predictions of the same configuration with types 1/2, and the mapping used is logged."""
    with caplog.at_level(logging.INFO, logger="taulc.data.ingest"):
        (p,) = _pred(runs, files[case])
    (r,) = _pred(runs, files[ref])
    np.testing.assert_array_equal(p.species, r.species)
    # gsd stores float32 positions; 10-digit XYZ round-off can cross the Gaussian truncation edge, amplified by
    # standardised descriptor columns of tiny spread (tests/test_bad_inputs_predict.py)
    tol = 1e-4 if case == "gsd" else 1e-5
    np.testing.assert_allclose(p.values["H"], r.values["H"], atol=tol * max(1.0, np.abs(r.values["H"]).max()))
    assert re.search(r"species map A -> 0 \(big, 2\d\d particles\), B -> 1 \(small, \d\d particles\)", caplog.text), caplog.text


def test_unknown_element_names_fall_back_to_types_or_name_the_cause(runs, files, tmp_path):
    """``element`` names outside the map: refused with the names found and the option (not a KeyError)."""
    from taulc.data.ingest import InputError

    bad = _element_dump(tmp_path / "cu.dump", files["dump"], ("Cu", "Zr"))
    with pytest.raises(
        InputError,
        match=r"cu\.dump \(frame 0\): species label\(s\) \['Cu', 'Zr'\] are not in the species "
        r"map .*--species-map",
    ):
        _pred(runs, bad)


# ----------------------------------------------------------------------------- round trips
def _lammps_read_dump(path: Path, step: int, cell: np.ndarray) -> dict[str, np.ndarray]:
    """Read a dump with LAMMPS' own ``read_dump ... add keep`` (ids and types from the id/type columns)."""
    from taulc._mpi import import_lammps

    lmp = import_lammps().lammps(cmdargs=["-nocite", "-log", "none", "-screen", "none"])
    try:
        lmp.commands_string(f"""
units lj
atom_style atomic
atom_modify map yes
boundary p p p
region box prism 0 1 0 1 0 1 0 0 0
create_box 2 box
mass * 1.0
read_dump {path} {step} x y z box yes add keep
""")
        ids = np.array(lmp.numpy.extract_atom("id"), dtype=np.int64).copy()
        typ = np.array(lmp.numpy.extract_atom("type"), dtype=np.int64).copy()
        x = np.array(lmp.numpy.extract_atom("x"), dtype=np.float64)[: len(ids)].copy()
        box = lmp.extract_box()
    finally:
        lmp.close()
    order = np.argsort(ids)
    return {"id": ids[order], "type": typ[order], "x": x[order], "xy": box[2], "boxlo": np.array(box[0])}


def test_lammps_dump_out_keeps_the_input_lines_and_lammps_reads_it(runs, files, tmp_path, caplog):
    from taulc.data.lammps_dump import iter_dump

    out = tmp_path / "out"
    rc, text = _cli(runs, [str(files["full"]), "--out", str(out), "--out-format", "lammps-dump"], caplog)
    assert rc == 0, text
    got = out / "full.taulc.dump"
    src, back = files["full"].read_text().splitlines(), got.read_text().splitlines()
    assert back[:8] == src[:8]  # timestep 12000, count, box bounds as written
    assert back[8] == src[8] + " H slow_pred"
    assert [ln.rsplit(" ", 2)[0] for ln in back[9:]] == src[9:]  # every input column, byte for byte
    (p,) = _pred(runs, files["full"])
    (fr,) = iter_dump(got)
    np.testing.assert_allclose(fr.data["H"], p.values["H"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(fr.data["c_pe"], -5.0 - 0.01 * np.arange(len(p.species)), rtol=1e-12)
    # LAMMPS itself: ids, types and coordinates by id
    lmp = _lammps_read_dump(got, 12000, p.cell)
    order = np.argsort(fr.data["id"])
    np.testing.assert_array_equal(lmp["id"], fr.data["id"][order])
    np.testing.assert_array_equal(lmp["type"], fr.data["type"][order])
    d = lmp["x"] - fr.positions[order]
    frac = np.linalg.solve(fr.cell.T, d.T).T
    np.testing.assert_allclose(frac - np.round(frac), 0.0, atol=1e-9)  # same point up to a periodic image
    # fed back to taulc-predict: the same predictions (the appended columns do not disturb the reader)
    (again,) = _pred(runs, got)
    np.testing.assert_allclose(again.values["H"], p.values["H"], atol=1e-9)


def test_lammps_dump_out_from_gsd_has_types_and_element_names(runs, files, tmp_path, caplog):
    out = tmp_path / "out"
    rc, text = _cli(runs, [str(files["gsd"]), "--out", str(out), "--out-format", "same"], caplog)
    assert rc == 0 and (out / "hoomd.taulc.gsd").exists(), text
    rc, text = _cli(runs, [str(files["gsd"]), "--out", str(out / "d"), "--out-format", "lammps-dump"], caplog)
    assert rc == 0, text
    got = out / "d" / "hoomd.taulc.dump"
    lines = got.read_text().splitlines()
    assert lines[8] == "ITEM: ATOMS id type element x y z vx vy vz H slow_pred"
    (p,) = _pred(runs, files["gsd"])
    lmp = _lammps_read_dump(got, 0, p.cell)
    np.testing.assert_array_equal(lmp["type"], p.species + 1)
    table = np.loadtxt(lines[9:], dtype=str)
    assert set(table[:, 2]) == {"A", "B"} and np.all((table[:, 2] == "B") == (p.species == 1))
    (again,) = _pred(runs, got)  # positions written with 10 digits; float32 descriptors: H to ~1e-5
    np.testing.assert_allclose(again.values["H"], p.values["H"], atol=1e-4 * max(1.0, np.abs(p.values["H"]).max()))
    assert again.domain["temperature"] == pytest.approx(p.domain["temperature"], rel=1e-6)


def test_gsd_out_keeps_the_input_frame_and_gsd_hoomd_reads_it(runs, files, tmp_path, caplog):
    out = tmp_path / "out"
    rc, text = _cli(runs, [str(files["gsd"]), str(files["full"]), "--out", str(out), "--out-format", "gsd"], caplog)
    assert rc == 0, text
    with gsd_hoomd.open(str(files["gsd"]), "r") as t:
        src = t[0]
    with gsd_hoomd.open(str(out / "hoomd.taulc.gsd"), "r") as t:
        (fr,) = list(t)
    (p,) = _pred(runs, files["gsd"])
    assert fr.particles.types == ["A", "B"]
    np.testing.assert_array_equal(fr.particles.typeid, src.particles.typeid)
    np.testing.assert_array_equal(fr.particles.position, src.particles.position)
    np.testing.assert_array_equal(fr.particles.velocity, src.particles.velocity)
    np.testing.assert_array_equal(fr.configuration.box, src.configuration.box)
    np.testing.assert_allclose(fr.log["particles/taulc/H"], p.values["H"], rtol=1e-12)
    np.testing.assert_array_equal(fr.log["particles/taulc/species_id"], p.species)
    assert fr.log["taulc/in_domain"][0] == 1.0
    # a dump as gsd: types as the user wrote them, ids, timestep; positions wrapped into the centred box
    with gsd_hoomd.open(str(out / "full.taulc.gsd"), "r") as t:
        (g,) = list(t)
    (q,) = _pred(runs, files["full"])
    assert g.particles.types == ["1", "2"] and g.configuration.step == 12000
    np.testing.assert_array_equal(np.asarray(g.particles.types)[g.particles.typeid], (q.species + 1).astype(str))
    np.testing.assert_array_equal(g.log["particles/taulc/id"], q.frame_in.ids)
    cell = q.frame_in.input_cell
    unwrapped = g.particles.position + g.particles.image @ cell + 0.5 * cell.sum(axis=0)
    np.testing.assert_allclose(unwrapped, q.frame_in.input_positions - q.frame_in.origin, atol=2e-5)
    np.testing.assert_allclose(g.log["particles/taulc/H"], q.values["H"], rtol=1e-12)
    (again,) = _pred(runs, out / "hoomd.taulc.gsd")
    np.testing.assert_allclose(again.values["H"], p.values["H"], atol=1e-9)


def test_extxyz_out_keeps_the_users_arrays_info_and_types(runs, files, tmp_path, caplog):
    import ase.io
    from ase import Atoms

    (r,) = _pred(runs, files["dump"])
    pos, sp, cell = r.frame_in.input_positions, r.species, r.frame_in.input_cell
    n = len(sp)
    a = Atoms(symbols=np.where(sp == 0, "Ni", "P"), positions=pos - r.frame_in.origin, cell=cell, pbc=True)
    a.new_array("charge_like", np.linspace(-1, 1, n))
    a.new_array("tag_id", np.arange(n, dtype=np.int64) * 2)
    a.new_array("velo", np.random.default_rng(1).normal(0, np.sqrt(0.6), (n, 3)))
    a.info.update({"step": 400, "note": "from my code", "H": 3.5})  # 'H' collides with a prediction name
    src = tmp_path / "mine.extxyz"
    ase.io.write(src, a, format="extxyz")
    out = tmp_path / "out"
    rc, text = _cli(runs, [str(src), str(files["full"]), str(files["element"]), "--out", str(out)], caplog)
    assert rc == 0, text
    back = ase.io.read(out / "mine.taulc.extxyz", format="extxyz")
    mine = ase.io.read(src, format="extxyz")  # the user's file as ASE reads it (ASE writes 8 decimals)
    assert back.get_chemical_symbols() == a.get_chemical_symbols()
    for k in ("charge_like", "tag_id", "velo"):
        np.testing.assert_array_equal(back.arrays[k], mine.arrays[k])
    assert back.info["step"] == 400 and back.info["note"] == "from my code" and back.info["H"] == 3.5
    (p,) = _pred(runs, src)
    np.testing.assert_allclose(back.arrays["H"], p.values["H"], atol=1e-9)  # the per-atom H; the info key kept its name
    assert back.info["temperature"] == pytest.approx(0.6, rel=0.15)  # velo read by the domain check
    # LAMMPS types come back as 1/2 (not Ni/P), with every dump column and the timestep
    d = ase.io.read(out / "full.taulc.extxyz", format="extxyz")
    assert set(d.numbers) == {0} and set(d.arrays["type"]) == {1, 2}
    lines = files["full"].read_text().splitlines()
    table = np.loadtxt(lines[9:], ndmin=2)
    np.testing.assert_array_equal(d.arrays["id"], table[:, 0].astype(int))
    np.testing.assert_array_equal(d.arrays["type"], table[:, 1].astype(int))
    np.testing.assert_allclose(np.column_stack([d.arrays[c] for c in ("vx", "vy", "vz")]), table[:, 5:8])
    np.testing.assert_allclose(d.arrays["c_pe"], table[:, 8])
    assert d.info["timestep"] == 12000
    e = ase.io.read(out / "element.taulc.extxyz", format="extxyz")
    assert set(e.arrays["element"]) == {"A", "B"}


def test_unknown_out_format_is_refused_before_work(runs, files, tmp_path, capsys):
    from taulc.predict.cli import main

    with pytest.raises(SystemExit) as exc:
        main([str(runs["svm"] / "predictor.pt"), str(files["dump"]), "--out", str(tmp_path / "o"), "--out-format", "pdb"])
    assert exc.value.code == 2 and "--out-format: invalid choice: 'pdb'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


# ----------------------------------------------------------------------------- the domain check
def _fcc(n: int = 5, rho: float = 1.2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a = (4.0 / rho) ** (1.0 / 3.0)
    base = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    g = np.array([(i, j, k) for i in range(n) for j in range(n) for k in range(n)], dtype=float)
    pos = (g[:, None, :] + base[None]).reshape(-1, 3) * a
    sp = np.zeros(len(pos), dtype=np.int64)
    sp[np.random.default_rng(0).choice(len(pos), len(pos) // 5, replace=False)] = 1
    return pos, sp, np.eye(3) * n * a


@pytest.fixture(scope="module")
def hot_liquid(tiny_dataset: Path, tmp_path_factory) -> dict[str, Path]:
    """The tiny configuration melted at T = 5 (LAMMPS, 2 LJ times), written with and without velocities."""
    from omegaconf import OmegaConf

    from taulc.md.configuration import Configuration
    from taulc.md.engine import Segment
    from taulc.md.lammps_engine import LammpsEngine
    from taulc.md.system import SystemSpec
    from taulc.testing.data import TINY_OVERRIDES, compose

    q = shard(tiny_dataset, 0)
    cfg = OmegaConf.to_container(compose("build", [f"data_root={tiny_dataset.parent}", *TINY_OVERRIDES]), resolve=True)
    eng = LammpsEngine(SystemSpec.from_config(cfg["system"]), n_threads=1)
    try:
        eng.load(Configuration(positions=q["positions"], species=q["species"], cell=q["cell"], velocities=None, meta={}))
        eng.set_temperature(5.0)
        eng.thermalize(3, 5.0)
        eng.run([Segment(2.0, 0.0, record=False)])
        c = eng.snapshot()
    finally:
        eng.close()
    d = tmp_path_factory.mktemp("hot")
    return {
        "positions": write_lammps_dump(d / "hot_novel.dump", c.positions, c.species + 1, c.cell),
        "velocities": write_lammps_dump(d / "hot_vel.dump", c.positions, c.species + 1, c.cell, velocities=c.velocities),
    }


@pytest.mark.parametrize("model", ["gnn", "svm"])
def test_crystal_and_hot_liquid_are_out_of_domain_for_every_bundle_kind(runs, tiny_dataset, hot_liquid, tmp_path, model):
    """An FCC crystal at rho = 1.2 and a T = 5 liquid (positions only) fail the structure check, GNNs included;
    the training configurations pass it."""
    from taulc.predict import Predictor

    pred = Predictor.load(runs[model] / "predictor.pt")
    assert pred.domain.structure, "the bundle records no structure reference"
    pos, sp, cell = _fcc()
    p = pred.predict_arrays(pos, sp, cell, allow_small_cell=True)
    assert p.domain["in_domain"] == 0 and p.domain["structure_z"] > pred.domain.structure_limit, p.domain
    (h,) = pred.predict(hot_liquid["positions"], allow_small_cell=True)
    assert h.domain["in_domain"] == 0 and h.domain["structure_z"] > pred.domain.structure_limit, h.domain
    assert "temperature" not in h.domain  # caught by structure alone
    for k in range(3):
        z = shard(tiny_dataset, k)
        t = pred.predict_arrays(z["positions"], z["species"], z["cell"], allow_small_cell=True)
        assert t.domain["structure_z"] <= pred.domain.structure_limit, t.domain


def test_gnn_strict_refuses_the_crystal(runs, tmp_path, caplog):
    pos, sp, cell = _fcc()
    f = write_lammps_dump(tmp_path / "fcc.dump", pos, sp + 1, cell)
    out = tmp_path / "out"
    rc, text = _cli(runs, [str(f), "--out", str(out), "--strict"], caplog, model="gnn")
    assert rc == 1 and re.search(
        r"fcc\.dump \(frame 0\): outside the training domain \(--strict\): structure: the "
        r"radial structure g\(r\) is [\d.]+ training standard deviations",
        text,
    ), text
    assert not out.exists() or not any(out.iterdir())


def test_velocities_of_every_format_reach_the_temperature_check(runs, files, hot_liquid, tmp_path):
    """extxyz ``velo``, a rotated (xz) frame's velocities and a recorded temperature are all checked."""
    import ase.io
    from ase import Atoms

    from taulc.data.ingest import ROTATIONS

    (h,) = _pred(runs, hot_liquid["velocities"])
    assert h.domain["temperature"] > 3.0 and h.domain["in_domain"] == 0
    (r,) = _pred(runs, files["full"])
    t0 = r.domain["temperature"]
    assert abs(t0 - 0.6) < 0.1 and r.domain["in_domain"] == 1
    fin = r.frame_in
    # extxyz velo
    a = Atoms(
        numbers=np.where(r.species == 0, 28, 15), positions=fin.input_positions - fin.origin, cell=fin.input_cell, pbc=True
    )  # ASE writes no Origin: shift so the wrap (and the streaming profile) stays the same
    a.new_array("velo", fin.atoms.arrays["lj_velocities"] * np.sqrt(5.0 / 0.6))
    ase.io.write(tmp_path / "hot.extxyz", a, format="extxyz")
    (x,) = _pred(runs, tmp_path / "hot.extxyz")
    assert x.domain["temperature"] == pytest.approx(5.0 / 0.6 * t0, rel=1e-6) and x.domain["in_domain"] == 0
    # the same configuration sheared in xz (rotated into xy on reading): the same temperature
    rot = ROTATIONS["xz->xy"]
    c = fin.input_cell
    cxz = np.array([c[0], [0, c[2, 2], 0], [c[1, 0], 0, c[1, 1]]])
    f = write_lammps_dump(
        tmp_path / "xz.dump",
        (fin.input_positions - fin.origin) @ rot,
        r.species + 1,
        cxz,
        velocities=fin.atoms.arrays["lj_velocities"] @ rot,
    )
    (w,) = _pred(runs, f)
    assert w.frame_in.transform == ["xz->xy"]
    assert w.domain["temperature"] == pytest.approx(t0, rel=1e-9)
    # a temperature the file records (no velocities)
    g = files["atooms"].read_text().splitlines()
    g[1] += " T:5.0"
    (tmp_path / "rec.xyz").write_text("\n".join(g) + "\n")
    (y,) = _pred(runs, tmp_path / "rec.xyz")
    assert y.domain["temperature_recorded"] == 5.0 and y.domain["in_domain"] == 0


# ----------------------------------------------------------------------------- unclear inputs, decided (docs/inputs.md)
def _data_file(path: Path, style: str, pos: np.ndarray, types: np.ndarray, cell: np.ndarray) -> Path:
    """A LAMMPS data file with ``Atoms # <style>`` (atomic: id type x y z; charge: id type q x y z;
    full: id mol type q x y z)."""
    n = len(types)
    cols = {
        "atomic": lambda i: f"{i + 1} {types[i]}",
        "charge": lambda i: f"{i + 1} {types[i]} 0.0",
        "full": lambda i: f"{i + 1} 1 {types[i]} 0.0",
    }[style]
    rows = "\n".join(f"{cols(i)} {x:.12g} {y:.12g} {z:.12g}" for i, (x, y, z) in enumerate(pos.tolist()))
    path.write_text(
        f"written by a test\n\n{n} atoms\n2 atom types\n\n0 {cell[0, 0]:.12g} xlo xhi\n0 {cell[1, 1]:.12g} ylo yhi\n"
        f"0 {cell[2, 2]:.12g} zlo zhi\n{cell[1, 0]:.12g} {cell[2, 0]:.12g} {cell[2, 1]:.12g} xy xz yz\n\n"
        f"Masses\n\n1 1.0\n2 1.0\n\nAtoms # {style}\n\n{rows}\n"
    )
    return path


@pytest.mark.parametrize("style", ["full", "charge"])
def test_data_files_of_other_atom_styles_are_read(runs, files, tmp_path, style):
    (r,) = _pred(runs, files["dump"])
    fin = r.frame_in
    f = _data_file(tmp_path / f"{style}.data", style, fin.input_positions, r.species + 1, fin.input_cell)
    (p,) = _pred(runs, f)
    np.testing.assert_array_equal(p.species, r.species)
    np.testing.assert_allclose(p.values["H"], r.values["H"], atol=1e-6 * max(1.0, np.abs(r.values["H"]).max()))


def test_unsupported_data_style_names_the_style(runs, files, tmp_path):
    from taulc.data.ingest import InputError

    f = tmp_path / "sphere.data"
    f.write_text(
        "x\n\n1 atoms\n1 atom types\n\n0 10 xlo xhi\n0 10 ylo yhi\n0 10 zlo zhi\n\nAtoms # sphere\n\n1 1 1.0 1.0 0 0 0\n"
    )
    with pytest.raises(
        InputError,
        match=r"sphere\.data: LAMMPS data file with 'Atoms # sphere': atom style 'sphere' is not "
        r"read; taulc reads the styles atomic, charge, full",
    ):
        _pred(runs, f)


def test_duplicate_ids_are_refused(runs, files, tmp_path):
    from taulc.data.ingest import InputError

    lines = files["dump"].read_text().splitlines()
    f2 = lines[10].split()
    f2[0] = lines[9].split()[0]  # the second atom takes the first one's id
    lines[10] = " ".join(f2)
    (tmp_path / "dup.dump").write_text("\n".join(lines) + "\n")
    with pytest.raises(
        InputError,
        match=r"dup\.dump \(frame 0\): field 'id' has 1 duplicate\(s\) \(e\.g\. id 1 appears 2 "
        r"times\); particle ids must be unique",
    ):
        _pred(runs, tmp_path / "dup.dump")


def test_orthogonal_header_with_tilt_values_is_refused_unless_the_tilts_are_zero(runs, files, tmp_path):
    from taulc.data.ingest import InputError

    text = files["dump"].read_text()
    bad = tmp_path / "pp.dump"
    bad.write_text(text.replace("ITEM: BOX BOUNDS xy xz yz pp pp pp", "ITEM: BOX BOUNDS pp pp pp"))
    with pytest.raises(
        InputError,
        match=r"pp\.dump \(frame 0, line 5\): the header 'ITEM: BOX BOUNDS pp pp pp' declares an "
        r"orthogonal box but the box lines carry tilt values xy=1\.\d+ xz=0 yz=0; the box is "
        r"ambiguous.*'ITEM: BOX BOUNDS xy xz yz pp pp pp'",
    ):
        _pred(runs, bad)
    ortho = files["ortho"].read_text().splitlines()
    ortho[4] = "ITEM: BOX BOUNDS pp pp pp"  # zero tilts under an orthogonal header: the same box
    (tmp_path / "pp0.dump").write_text("\n".join(ortho) + "\n")
    (a,) = _pred(runs, tmp_path / "pp0.dump")
    (b,) = _pred(runs, files["ortho"])
    np.testing.assert_array_equal(a.values["H"], b.values["H"])


def test_cannot_read_messages_name_the_cause(runs, files, tmp_path):
    from taulc.data.ingest import InputError

    lines = files["dump"].read_text().splitlines()
    lines[12] = lines[12].replace(lines[12].split()[2], "nan?x", 1)
    (tmp_path / "text.dump").write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"text\.dump \(frame 0\): line 13: column 'x' holds 'nan\?x', expected a number"):
        _pred(runs, tmp_path / "text.dump")
    lines = files["dump"].read_text().splitlines()
    lines[8] = "ITEM: ATOMS id type vx vy vz"
    (tmp_path / "nopos.dump").write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"nopos\.dump \(frame 0\): no coordinates: 'ITEM: ATOMS id type vx vy vz' has none of"):
        _pred(runs, tmp_path / "nopos.dump")


# ----------------------------------------------------------------------------- provenance
def test_provenance_in_bundle_model_card_metrics_and_results(runs, tiny_dataset):
    """git commit (or 'not a git checkout'), dataset hash and dependency versions travel with every result."""
    import csv
    import json

    import torch

    from taulc.data.manifest import git_commit
    from taulc.data.storage import sha256_file

    run = runs["gnn"]
    man_sha = sha256_file(tiny_dataset / "manifest.json")
    commit = git_commit()
    assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?|not a git checkout", commit)
    prov = json.loads((run / "metrics.json").read_text())["provenance"]
    assert prov["git_commit"] == commit and prov["dataset"]["manifest_sha256"] == man_sha
    assert {"torch", "lammps", "openmm", "lightning", "python"} <= set(prov["versions"])
    b = torch.load(run / "predictor.pt", weights_only=True)
    assert b["training"]["provenance"] == prov
    card = (run / "model_card.md").read_text()
    assert f"git commit `{commit}`" in card and f"manifest sha256 `{man_sha}`" in card and "torch " in card
    rows = list(csv.DictReader((run.parent / "results.csv").open()))
    row = next(r for r in rows if r["run_dir"] == str(run))
    assert row["git_commit"] == commit and row["dataset_hash"] == man_sha[:16]
    assert re.search(r"torch=\S+ .*lammps=\S+ openmm=\S+", row["versions"]), row["versions"]
