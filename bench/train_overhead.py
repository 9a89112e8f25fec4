"""Overhead of ``train.py model=ridge`` over a bare scikit-learn fit of the same problem.

Both sides, in this one process and excluding interpreter start-up:

* taulc: :func:`taulc.training.train` with ``model=ridge`` (data loading from
  the dataset's caches, Lightning Trainer, exact ridge over the alpha grid,
  validation selection, test predictions, metrics, model, card, results row);
* baseline: scikit-learn ``StandardScaler`` + ``Ridge`` fitted on the same
  training arrays for every alpha of the same grid, alpha picked by validation
  Pearson, then one prediction of the test split.

Usage: ``python bench/train_overhead.py [--dataset demo] [--data-root DIR] [--repeat 3]``.
Prints both wall times (best of ``--repeat``) and their ratio (target <= 1.5).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))


def compose(overrides: list[str]):
    from hydra import compose as hcompose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from taulc.paths import conf_dir

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(conf_dir()), version_base="1.3"):
        return hcompose(config_name="train", overrides=overrides)


def sklearn_baseline(dm, alphas: list[float]) -> tuple[float, float]:
    from sklearn.linear_model import Ridge
    from sklearn.preprocessing import StandardScaler

    tr, va, te = dm.arrays("train"), dm.arrays("val"), dm.arrays("test")
    t0 = time.perf_counter()
    sc = StandardScaler().fit(tr["x"].astype(np.float64))
    ztr, zva = sc.transform(tr["x"]), sc.transform(va["x"])
    best, best_alpha = -np.inf, alphas[0]
    for a in alphas:
        r = Ridge(alpha=a).fit(ztr, tr["y"])
        p = np.corrcoef(r.predict(zva), va["y"])[0, 1]
        if p > best:
            best, best_alpha = p, a
    model = Ridge(alpha=best_alpha).fit(ztr, tr["y"])
    model.predict(sc.transform(te["x"]))
    return time.perf_counter() - t0, best_alpha


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="demo")
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("overrides", nargs="*", help="extra Hydra overrides (must match the dataset's build config)")
    args = ap.parse_args()

    import logging

    from omegaconf import open_dict

    from taulc.training import train

    logging.disable(logging.INFO)
    base = [
        f"dataset.name={args.dataset}",
        "model=ridge",
        "trainer.enable_progress_bar=false",
        "trainer.enable_model_summary=false",
    ]
    if args.data_root:
        base.append(f"data_root={args.data_root}")
    base += args.overrides
    t_taulc = []
    dm = None
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.repeat):
            cfg = compose([*base, f"results_table={tmp}/results.csv"])
            with open_dict(cfg):
                cfg.run_dir = f"{tmp}/run{k}"
            t0 = time.perf_counter()
            train(cfg)
            t_taulc.append(time.perf_counter() - t0)
        from taulc.data.datamodules import TabularDataModule
        from taulc.data.manifest import dataset_identity
        from taulc.paths import dataset_dir
        from taulc.utils import to_plain

        c = to_plain(cfg)
        dm = TabularDataModule(dataset_dir(c), c["split"], dataset_config=dataset_identity(c), descriptor=c.get("descriptor"))
        dm.setup()
        alphas = [float(a) for a in c["model"]["alpha"]]
        t_sk = [sklearn_baseline(dm, alphas)[0] for _ in range(args.repeat)]
    n, f = len(dm.rows["train"]), dm.n_features
    print(f"dataset {args.dataset}: {n} training particles x {f} features, {len(alphas)} alphas")
    print(
        f"taulc train.py model=ridge : {min(t_taulc):7.2f} s (best of {args.repeat}; includes loading, Lightning, metrics, saving)"
    )
    print(f"scikit-learn baseline      : {min(t_sk):7.2f} s (StandardScaler + Ridge per alpha + test prediction)")
    print(f"ratio taulc / sklearn      : {min(t_taulc) / min(t_sk):7.2f}  (target <= 1.5)")


if __name__ == "__main__":
    main()
