"""``taulc-predict BUNDLE INPUT... --out DIR``: apply a trained predictor to configuration files.

Exit status: 0 every file done; 1 at least one input failed (the others are
still written); 2 the bundle, the command line or ``--out`` is unusable (nothing is written).
Frames outside the training domain (:mod:`taulc.predict.domain`) are predicted with a
warning, or fail their file with ``--strict``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from taulc.errors import TaulcError
from taulc.hydra_app import add_version_flag
from taulc.predict.config import OUT_FORMATS, PredictConfig
from taulc.predict.files import check_outputs, predict_files
from taulc.predict.predictor import Predictor
from taulc.runs.files import PREDICTOR
from taulc.utils import install_tqdm_logging

log = logging.getLogger("taulc.predict")


def _species_map(text: str) -> dict[object, int]:
    out: dict[object, int] = {}
    for item in filter(None, (s.strip() for s in text.split(","))):
        key, sep, val = item.partition("=")
        if not sep or not key.strip() or val.strip() not in ("0", "1"):
            raise argparse.ArgumentTypeError(f"--species-map entries look like TYPE=0 or SYMBOL=1, got {item!r}")
        k = key.strip()
        out[int(k) if k.isdigit() else k] = int(val)
    return out


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="taulc-predict",
        description="Predict per-particle hardness H / ln tau_LC / P(slow) with an exported taulc predictor. "
        "Inputs: LAMMPS text dumps, LAMMPS data files, extxyz / xyz with any species labels, HOOMD gsd (all frames); "
        "periodic cell sheared in one plane (xz / yz are rotated into xy). See docs/inputs.md.",
    )
    p.add_argument("bundle", help=f"predictor bundle (<run_dir>/{PREDICTOR}) or a training run directory")
    p.add_argument("inputs", nargs="+", help="configuration files")
    p.add_argument("--out", "-o", required=True, help="output directory (created if needed)")
    p.add_argument(
        "--format",
        dest="fmt",
        default=None,
        help="format of all inputs: lammps-dump-text | lammps-data | xyz | gsd | any ASE format "
        "(default: from the file name, else from its first bytes)",
    )
    p.add_argument(
        "--out-format",
        default="extxyz",
        choices=list(OUT_FORMATS),
        help="per-atom output: extxyz (default; the input's arrays and info keys kept), lammps-dump (the "
        "input dump's lines plus prediction columns), gsd (predictions in log/particles/taulc/*), same "
        "(the input's own format: dump -> lammps-dump, gsd -> gsd, else extxyz)",
    )
    p.add_argument(
        "--species-map",
        type=_species_map,
        default=None,
        help="type/label -> species entries, e.g. '1=1,2=0' or '0=0,1=1' (0 big, 1 small); added to the "
        "defaults 1/2, A/B, a/b, Ni/P = big/small and the bundle's own map",
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="refuse (fail the file) instead of warning when a frame is outside the training domain",
    )
    p.add_argument(
        "--allow-small-cell",
        action="store_true",
        help="accept cells narrower than twice the descriptor cut-off (particles see their own images)",
    )
    p.add_argument("--slice-z", type=float, default=None, help="centre of the x-y slab of the map (default: mid-box)")
    p.add_argument("--slice-thickness", type=float, default=1.5, help="thickness of the map slab (default 1.5)")
    p.add_argument("--vmin", type=float, default=None, help="colour range (default: the bundle's common range)")
    p.add_argument("--vmax", type=float, default=None, help="colour range (H/logit: symmetric if only --vmax is given)")
    p.add_argument("--no-png", action="store_true", help="skip the hardness map")
    p.add_argument("--device", default="cpu", help="torch device for GNN/MLP bundles (default cpu)")
    p.add_argument(
        "--temperature",
        type=float,
        default=None,
        help="temperature of the samples for predictors whose descriptors read the inherent state or the "
        "cage average (a short MD run; default: the file's temperature or velocities, else the training T)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars, warnings and errors only")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")

    add_version_flag(p, "taulc-predict")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    logging.basicConfig(level=level, format="taulc-predict: %(levelname)s: %(message)s", stream=sys.stderr)

    install_tqdm_logging()  # log lines above the progress bars, not through them
    if not args.verbose:
        logging.getLogger("gsd").setLevel(logging.WARNING)  # gsd logs every file it opens at INFO

    try:
        cfg = PredictConfig.from_args(args)  # parsed once: a bad option is named before any work
        check_outputs(cfg.inputs, Path(cfg.out), cfg.out_format, cfg.fmt)
        pred = Predictor.load(cfg.bundle, device=cfg.device)
    except TaulcError as exc:
        log.error("%s", exc)
        return 2
    return _run(cfg, pred)


def _run(cfg: PredictConfig, pred: Predictor) -> int:
    """Predict every input of ``cfg`` with ``pred``; the exit status (0 all done, 1 a file failed, 2 refused)."""
    if cfg.species_map:
        pred.species_map.update(cfg.species_map)
    pred.strict = cfg.strict
    if cfg.temperature is not None:
        pred.temperature = cfg.temperature
    tr = pred.training
    log.info(
        "predictor %s (%s, target %s, trained on %s)",
        pred.path,
        pred.model_name,
        pred.target,
        (tr.get("dataset") or {}).get("name", "?"),
    )
    try:
        rows, failed = predict_files(
            pred,
            cfg.inputs,
            cfg.out,
            fmt=cfg.fmt,
            allow_small_cell=cfg.allow_small_cell,
            maps=cfg.maps,
            progress=not cfg.quiet,
            out_format=cfg.out_format,
        )
    except TaulcError as exc:
        log.error("%s", exc)
        return 2
    for r in rows:
        vals = "  ".join(f"{k}={r[k]:.3f}" for k in r if k.startswith("p_") or k.endswith("_mean"))
        log.info("%s: %d frame(s)  %s", r["file"], r["n_frames"], vals)
        if r.get("n_out_of_domain"):
            log.warning(
                "%s: %d of %d frame(s) outside the training domain (column in_domain = 0 in %s; see docs/inputs.md)",
                r["file"],
                r["n_out_of_domain"],
                r["n_frames"],
                r.get("out_csv", "the CSV"),
            )
    if failed:
        log.error("%d of %d file(s) failed: %s", len(failed), len(cfg.inputs), ", ".join(failed))
        return 1
    log.info("%d file(s) written to %s", len(rows), cfg.out)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
