"""Start-up MD of a dataset's equilibrium configurations (per-particle stress, C_i(t), first jumps)."""

from __future__ import annotations

import shutil

import numpy as np

from taulc.data.manifest import read_manifest
from taulc.data.startup_runs import StartupSettings, load_startup_runs, run_startup_stage, startup_dir
from taulc.md.atomic_stress import region_stress


def test_startup_stage_records_consistent_data_and_caches(tiny_dataset, tmp_path):
    root = tmp_path / "tiny"
    root.mkdir()
    shutil.copy(tiny_dataset / "manifest.json", root)
    shutil.copytree(tiny_dataset / "shards", root / "shards")
    settings = StartupSettings(strain=0.1, max_time=1.0, n_replicas=2, seed=7)
    out = run_startup_stage(root, [0.1], settings, threads=1, progress=False)
    files = sorted(out.glob("*.npz"))
    assert len(files) == 3  # one per equilibrium configuration
    stamp = [f.stat().st_mtime_ns for f in files]
    run_startup_stage(root, [0.1], settings, threads=1, progress=False)  # cached: nothing rerun
    assert [f.stat().st_mtime_ns for f in files] == stamp
    runs = load_startup_runs(root, settings)
    assert list(runs) == [0.1] and len(runs[0.1]) == 3
    a = runs[0.1][0]
    n = a["omega"].size
    # Eq. 4 over all particles reproduces the replica-mean system stress (float32 storage)
    whole = region_stress(a["atom_stress"].astype(np.float64), a["omega"], np.ones(n, bool))
    np.testing.assert_allclose(whole, a["stress"].mean(axis=0), atol=1e-4 * np.abs(a["stress"]).max())
    c = a["neighbor_keeping"]
    assert np.allclose(c[0], 1.0) and np.all((c >= 0) & (c <= 1))
    assert np.nanmean(c[-1]) < 1.0  # some bonds break under shear at T = 0.6 (demo system)
    assert a["first_jump"].shape == (2, n)
    fj = a["first_jump"][np.isfinite(a["first_jump"])]
    assert np.all((fj > 0) & (fj <= a["frame_times"][-1] + 1e-6))


def test_build_startup_stage_runs_through_taulc_build_and_is_cached(tiny_dataset, tmp_path):
    """``python -m taulc.build build.stages=[startup]``: the same cached runs as the direct call."""
    from taulc.build import run
    from taulc.testing.data import tiny_build_cfg

    data_root = tmp_path / "data"
    shutil.copytree(tiny_dataset, data_root / "tiny", ignore=shutil.ignore_patterns("cache", "startup"))
    overrides = [
        "build.stages=[startup]",
        "build.startup.rates=[0.1]",
        "build.startup.strain=0.1",
        "build.startup.max_time=0.5",
        "build.startup.seed=7",
    ]
    run(tiny_build_cfg(data_root, overrides))
    out = StartupSettings(strain=0.1, max_time=0.5, n_replicas=2, seed=7)
    files = sorted((data_root / "tiny" / "startup").glob("*/*.npz"))
    assert len(files) == 3  # one per equilibrium configuration
    assert files[0].parent == startup_dir(data_root / "tiny", read_manifest(data_root / "tiny"), out)
    stamp = [f.stat().st_mtime_ns for f in files]
    run(tiny_build_cfg(data_root, overrides))  # second build: served from the cache
    assert [f.stat().st_mtime_ns for f in files] == stamp
    assert list(load_startup_runs(data_root / "tiny", out)) == [0.1]
