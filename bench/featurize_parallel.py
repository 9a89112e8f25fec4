"""Descriptor cache of a whole dataset: one process vs one process per core (taulc.data.derived.shard_features).

    python bench/featurize_parallel.py [--dataset datasets/demo] [--descriptor gl] [--jobs 2]

Copies the dataset's manifest and shards into a temporary directory twice (no caches) and
computes the descriptor cache of every shard, first with ``TAULC_FEATURIZE_JOBS=1`` and then
with ``--jobs`` worker processes, in the same run.  Prints both wall times, their ratio, and
checks that the two caches hold identical arrays.  On a machine shared with other jobs the
ratio is a lower bound of what an idle machine gives.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np


def _copy(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True)
    shutil.copy2(src / "manifest.json", dst / "manifest.json")
    shutil.copytree(src / "shards", dst / "shards")
    return dst


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", type=Path, default=Path(__file__).resolve().parents[1] / "datasets" / "demo")
    p.add_argument("--descriptor", default="gl", help="a conf/descriptor name (default gl)")
    p.add_argument("--jobs", type=int, default=2)
    a = p.parse_args()
    from omegaconf import OmegaConf

    from taulc.data.derived import shard_features
    from taulc.data.manifest import read_manifest
    from taulc.paths import conf_dir

    desc = OmegaConf.to_container(OmegaConf.load(conf_dir() / "descriptor" / f"{a.descriptor}.yaml"), resolve=True)
    desc.pop("defaults", None)
    with tempfile.TemporaryDirectory() as tmp:
        times, feats = {}, {}
        for jobs in (1, a.jobs):
            root = _copy(a.dataset, Path(tmp) / f"jobs{jobs}")
            os.environ["TAULC_FEATURIZE_JOBS"] = str(jobs)
            t0 = time.perf_counter()
            feats[jobs], _, _ = shard_features(root, read_manifest(root), desc, progress=False)
            times[jobs] = time.perf_counter() - t0
        n = len(feats[1])
        same = all(np.array_equal(x, y) for x, y in zip(feats[1], feats[a.jobs]))
    print(f"{a.dataset.name}: {n} shards, descriptor {a.descriptor}")
    print(f"  1 process   : {times[1]:7.1f} s ({times[1] / n:.2f} s per shard)")
    print(f"  {a.jobs} processes : {times[a.jobs]:7.1f} s")
    print(f"  ratio       : {times[1] / times[a.jobs]:.2f}x; identical caches: {same}")


if __name__ == "__main__":
    main()
