"""Time an SVM predictor on one N = 10976 configuration against the descriptor computation alone.

The configuration is a jittered FCC lattice at rho = 1.38 (14^3 x 4 sites, Gaussian noise sigma = 0.05
per coordinate, random 80:20 species, xy tilt 3/14 Ly: a whole number of lattice cells, so the
lattice is periodic in the tilted cell and no pair comes closer than 0.5 sigma): random but without overlaps, and no MD is needed
for timing.  Without ``--bundle`` the SVM is synthetic (random hyperplane on the default 576 g_l^m
columns); a trained ``predictor.pt`` of the default descriptor gives the same timings.

Printed, best and median of ``--repeats`` interleaved runs (wall; CPU summed over threads in brackets):

* baseline: ``featurize`` alone on the arrays (the descriptor computation);
* ``Predictor.predict_arrays``: checks (cell width, overlaps) + descriptors + SVM;
* end to end: ``predict_file`` on an extxyz file - read, check, predict, write extxyz + CSV + PNG;
* the ratios of the last two to the baseline (targets: end to end <= 10 s, ratio <= 1.3).

    python bench/predict.py [--bundle runs/svm/.../predictor.pt] [--repeats 5] [--n-cells 14]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def jittered_fcc(n_cells: int, rho: float = 1.38, tilt: float = 0.2, noise: float = 0.05, seed: int = 0):
    rng = np.random.default_rng(seed)
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    grid = np.stack(np.meshgrid(*[np.arange(n_cells)] * 3, indexing="ij"), -1).reshape(-1, 1, 3)
    frac = ((grid + basis[None]) / n_cells).reshape(-1, 3)
    n = len(frac)
    length = (n / rho) ** (1 / 3)
    pos = frac * length + rng.normal(0.0, noise, (n, 3))  # plain FCC (nearest neighbours 1.01 apart) ...
    cell = np.diag([length] * 3)
    cell[1, 0] = round(tilt * n_cells) / n_cells * length  # ... in a cell tilted by whole lattice cells: no seam
    species = np.zeros(n, dtype=np.int64)
    species[rng.choice(n, n // 5, replace=False)] = 1
    return pos, species, cell


def synthetic_svm_bundle(path: Path) -> Path:
    """A LinearSVM with a random hyperplane on the default descriptors, exported as a bundle."""
    import torch
    import yaml

    from taulc.models.svm import LinearSVM
    from taulc.predict.bundle import make_bundle, save_bundle
    from taulc.structure import featurize

    descriptor = yaml.safe_load((REPO / "src" / "taulc" / "conf" / "descriptor" / "gl.yaml").read_text())
    pos, sp, cell = jittered_fcc(6)
    x, names = featurize(pos, sp, cell, descriptor)
    model = LinearSVM(n_features=x.shape[1])
    sd = model.state_dict()
    g = torch.Generator().manual_seed(0)
    sd.update(
        mean_=torch.from_numpy(x.mean(0).astype(np.float64)),
        scale_=torch.from_numpy(x.std(0).astype(np.float64) + 1e-6),
        coef_std=torch.randn(x.shape[1], generator=g, dtype=torch.float64),
        intercept_std=torch.tensor(0.1, dtype=torch.float64),
        fitted=torch.tensor(True),
    )
    model.load_state_dict(sd)
    bundle = make_bundle(
        model,
        descriptor=descriptor,
        feature_names=[str(n) for n in names],
        graph_radius=None,
        target="ln_tau_lc",
        species_map=[[1, 0], [2, 1], ["Ni", 0], ["P", 1]],
        display={"score": "H", "vmin": -3.0, "vmax": 3.0},
        training={"model": "synthetic LinearSVM"},
    )
    return save_bundle(bundle, path)


def timed(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, tuple[float, float, float]]:
    """Interleaved repeats (A B C A B C ...: shared-machine load hits all alike) -> name: (best wall, median wall, CPU of best)."""
    walls: dict[str, list[float]] = {k: [] for k in fns}
    cpus: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for k, fn in fns.items():
            w0, c0 = time.perf_counter(), time.process_time()
            fn()
            walls[k].append(time.perf_counter() - w0)
            cpus[k].append(time.process_time() - c0)
    out = {}
    for k in fns:
        i = int(np.argmin(walls[k]))
        out[k] = (walls[k][i], statistics.median(walls[k]), cpus[k][i])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bundle", type=Path, default=None, help="an SVM predictor.pt (default: synthetic)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--n-cells", type=int, default=14, help="FCC cells per side (14 -> N = 10976)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    log = logging.getLogger("bench.predict")
    log.setLevel(logging.INFO)

    from taulc.md.configuration import Configuration, write_configuration
    from taulc.predict import Predictor
    from taulc.predict.files import MapOptions, predict_file
    from taulc.structure import featurize

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        bundle = args.bundle or synthetic_svm_bundle(d / "svm.pt")
        pred = Predictor.load(bundle)
        if "hardness" not in pred.model.report_roles:
            raise SystemExit(f"{bundle}: expected an SVM bundle, got {pred.model_name}")
        pos, sp, cell = jittered_fcc(args.n_cells)
        xyz = write_configuration(d / "conf.xyz", Configuration(positions=pos, species=sp, cell=cell, velocities=None, meta={}))
        fns = {
            "base": lambda: featurize(pos, sp, cell, pred.descriptor),
            "arrays": lambda: pred.predict_arrays(pos, sp, cell),
            "e2e": lambda: predict_file(pred, xyz, d / "out", maps=MapOptions(), progress=False),
        }
        fns["e2e"]()  # warm-up: imports (matplotlib, ASE readers), first-call checks
        res = timed(fns, args.repeats)
        base, arrays, e2e = res["base"], res["arrays"], res["e2e"]
        row = "{:<48s} {:7.2f} s best  {:7.2f} s median  [{:6.2f} s CPU]"
        print(
            f"N = {len(sp)}, rho = {len(sp) / abs(np.linalg.det(cell)):.3f}, {len(pred.feature_names or [])} descriptor columns, "
            f"bundle {'synthetic' if args.bundle is None else bundle}"
        )
        print(row.format("baseline: featurize alone", *base))
        print(row.format("Predictor.predict_arrays (checks + SVM)", *arrays))
        print(row.format("end to end: extxyz -> extxyz + CSV + PNG", *e2e))
        print(
            f"ratio to the descriptor computation: predict_arrays {arrays[0] / base[0]:.2f}, end to end {e2e[0] / base[0]:.2f} "
            f"(targets: end to end <= 10 s, ratio <= 1.3)"
        )


if __name__ == "__main__":
    main()
