"""Convective-cluster report section: the evaluate hook skips cleanly; end to end on tiny LAMMPS runs (slow)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from taulc.analysis.cluster_analysis import ClusterAnalysisSettings
from taulc.analysis.clusters_report import main
from taulc.analysis.report import ReportWriter
from taulc.analysis.sections.clusters import section_clusters


def test_section_skips_without_trajectories(tmp_path):
    rep = ReportWriter(tmp_path / "rep")
    section_clusters(rep, {"clusters": {"trajectories": None}})
    assert any("convective clusters" in s for s in rep.skipped)
    rep.abort()
    with pytest.raises(ValueError, match=r"'analysis\.clusters\.bogus' is unknown"):
        ClusterAnalysisSettings.from_config({"bogus": 1})


@pytest.mark.slow
def test_report_end_to_end_on_tiny_sheared_runs(tmp_path):
    from taulc.data.storage import save_npz
    from taulc.md import LammpsEngine, Segment, SystemSpec

    system = SystemSpec(name="tiny", n_atoms=500, density=1.2, temperature=0.6, equilibration_time=5.0, melt_time=2.0)
    folder = tmp_path / "runs"
    with LammpsEngine(system, n_threads=1) as eng:
        conf = eng.equilibrate(seed=3)
        for rate in (0.05, 0.1):
            eng.load(conf)
            eng.thermalize(4)
            tr = eng.run([Segment(5.0, rate, record=False), Segment(20.0, rate)])
            save_npz(
                folder / f"steady_r{rate:.3e}.npz",
                {
                    "times": tr.times,
                    "unwrapped": tr.unwrapped,
                    "nonaffine": tr.nonaffine,
                    "stress_xy": tr.stress_xy,
                    "strain": tr.strain,
                    "tilt": tr.tilt,
                    "cell": tr.final.cell,
                    "species": tr.final.species,
                    "rate": np.float64(rate),
                },
            )
    import taulc.analysis.clusters_report as cr

    orig = cr.load_system
    cr.load_system = lambda name: system
    try:
        main(
            [
                str(folder),
                "--out",
                str(tmp_path / "rep"),
                "--manifest",
                str(tmp_path / "none.json"),
                "--set",
                "max_life_cycles=3",
                "d=1.4",
                "lc2=0.05",
            ]
        )
    finally:
        cr.load_system = orig
    summ = json.loads((tmp_path / "rep" / "summary.json").read_text())["clusters"]
    rows = summ["per_rate"]
    assert [r["rate"] for r in rows] == [0.05, 0.1]
    assert all(r["eta"] > 0 and r["t_chi"] > 0 and r["n_clusters"] >= 1 for r in rows)
    assert rows[0]["eta"] > rows[1]["eta"]  # shear thinning
    assert np.isfinite(summ["scaling"]["nu_c"]) and np.isfinite(summ["scaling"]["lam"])
    assert (tmp_path / "rep" / "figures" / "cluster_scaling.png").is_file()
