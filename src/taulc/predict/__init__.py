"""taulc.predict: exported predictor bundles and their application to new configurations.

Every training run writes one (:attr:`taulc.runs.Run.predictor_path`,
:func:`~taulc.predict.export.export_run_bundle`); apply it with
``taulc-predict BUNDLE INPUT... --out DIR`` or::

    from taulc.predict import Predictor
    pred = Predictor.load("runs/svm/2026-01-01_12-00-00")   # a run directory, or its bundle file
    frames = pred.predict("dump.lammpstrj")        # one Prediction per frame
    frames[0].values["H"], frames[0].summary()["p_H"]

See docs/guide/predict.md; accepted inputs, checks and warnings: docs/inputs.md.
"""

from __future__ import annotations

from taulc.predict.bundle import BUNDLE_FORMAT, BUNDLE_NAME, BUNDLE_VERSION, BundleError, read_bundle
from taulc.predict.domain import Domain
from taulc.predict.predictor import OVERLAP_RATIO, Prediction, Predictor

__all__ = [
    "BUNDLE_FORMAT",
    "BUNDLE_NAME",
    "BUNDLE_VERSION",
    "BundleError",
    "Domain",
    "OVERLAP_RATIO",
    "Prediction",
    "Predictor",
    "read_bundle",
]
