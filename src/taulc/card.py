"""The model card of a training run: what was trained on what, the selected hyperparameters, the test
results (the terminal summary's lines) and the provenance of code, data and environment."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from taulc.data.inputs import descriptor_positions
from taulc.data.manifest import MANIFEST
from taulc.evaluation.scores import summary_lines
from taulc.runs.files import METRICS, RESULTS
from taulc.utils import fmt as _fmt

__all__ = ["model_card", "provenance_lines"]


def _positions_card_lines(c: Mapping[str, Any]) -> list[str]:
    """The model-card note of a predictor whose descriptors read the positions of the cage (it runs MD on new samples)."""

    sets = descriptor_positions(c.get("descriptor"))
    if not sets:
        return ["- inputs: the configuration's positions only (no MD on new samples)"]
    what = {
        "inherent": "the inherent state (LAMMPS minimisation at fixed cell)",
        "cage": "the cage average (a short shear-off MD run from the sample, dataset.positions.window)",
    }
    return [
        f"- inputs: descriptors of {' and of '.join(what[s] for s in sets)}: the predictor runs LAMMPS on every "
        "new sample and needs its temperature (`taulc-predict --temperature`, else the file's temperature or "
        "velocities, else the training temperature)"
    ]


def model_card(c: Mapping[str, Any], metrics: Mapping[str, Any], root: Path) -> str:
    """The card's markdown, from the run's config ``c``, its metrics and the dataset directory ``root``."""
    man_path = root / MANIFEST
    h = (metrics.get("skill", {}).get("regression") or metrics.get("skill", {}).get("hardness") or {}).get("headline", {})
    lines = [
        f"# Model card: {metrics['model']} on `{root.name}`",
        "",
        f"- target: `{metrics['target']}` (ln τ in LJ time units); classes: slow = 1 if τ_LC − τ_sh ≥ τ_2 (Eq. 2)",
        f"- reference particles scored: {metrics.get('skill', {}).get('reference', '?')} (`target.reference_species`)",
        f"- split: `{metrics['split']['kind']}` (seed {metrics['split']['seed']}); model selection on validation `{metrics['monitor']}` = {_fmt(metrics['val_score'])}",
        f"- selected hyperparameters: {json.dumps(metrics['selected'])}",
        f"- descriptor: `{json.dumps(c.get('descriptor', {}).get('families', {}))}`",
        *_positions_card_lines(c),
        f"- labels: ln τ with the `{(c.get('target') or {}).get('estimator', 'km')}` ICE estimator "
        "(docs/label-quality.md); classes from the same estimator",
        f"- dataset manifest: `{man_path}`",
        f"- headline (test split, reference species, mean over shear rates of within-rate values): Pearson "
        f"{_fmt(h.get('pearson'))}, noise ceiling {_fmt(h.get('ceiling'))}, best baseline {h.get('best_baseline_name', '')} "
        f"{_fmt(h.get('best_baseline'))}, skill {_fmt(h.get('skill'))}, fraction of ceiling {_fmt(h.get('fraction_of_ceiling'))}",
        "",
        "## Test results",
        "",
        f"Scopes, baselines and columns: docs/honest-skill.md (the same names as `{METRICS}` `skill` and `runs/{RESULTS}`).",
        "",
        *[f"    {s}" for s in summary_lines(metrics)],
        "",
        "Caveat: the random particle split leaks through shared coarse-grained neighbourhoods;",
        "trust `split=config` (whole configurations held out) for generalisation.",
        "",
        *provenance_lines(metrics.get("provenance") or {}),
    ]
    return "\n".join(lines)


def provenance_lines(prov: Mapping[str, Any]) -> list[str]:
    """The model card's provenance section (code, data, environment)."""
    if not prov:
        return []
    ds = prov.get("dataset") or {}
    vers = prov.get("versions") or {}
    return [
        "## Provenance",
        "",
        f"- code: taulc {prov.get('taulc_version')}, git commit `{prov.get('git_commit')}`",
        f"- dataset: `{ds.get('name')}` (`{ds.get('dir')}`), manifest sha256 `{ds.get('manifest_sha256')}`, "
        f"config hash `{ds.get('config_hash')}`, shards digest `{ds.get('shards_digest')}`",
        "- environment: " + ", ".join(f"{k} {v}" for k, v in vers.items()),
        "",
    ]
