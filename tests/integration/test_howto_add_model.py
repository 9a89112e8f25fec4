"""docs/howto/add-model.md, followed literally: its two code blocks (the module and the config) are written
where the page says, the model is trained through train.py's code path (Hydra compose -> taulc.training.train),
bundled, predicted with the Predictor and drawn by the report's parity section -- nothing else is edited."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from taulc.dynamics.estimators import log_mean
from taulc.testing.data import train_cfg
from tests.helpers import REPO

HOWTO = REPO / "docs" / "howto" / "add-model.md"

pytestmark = pytest.mark.usefixtures("quiet_single_thread")  # tests/conftest.py


def howto_blocks() -> dict[str, tuple[str, str]]:
    """{language: (path named in the heading above the block, code)} for the first python and yaml blocks."""
    text = HOWTO.read_text()
    out: dict[str, tuple[str, str]] = {}
    for m in re.finditer(r"^## [^\n]*`([^`]+)`\s*\n+```(python|yaml)\n(.*?)^```", text, re.S | re.M):
        out.setdefault(m.group(2), (m.group(1), m.group(3)))
    return out


@pytest.fixture
def howto_model(tmp_path: Path, monkeypatch):
    """The how-to's module imported under the name its config's _target_ uses, its config on Hydra's search path;
    the registry is restored afterwards."""
    from taulc.models import registry

    blocks = howto_blocks()
    (src_path, code), (conf_path, conf) = blocks["python"], blocks["yaml"]
    assert src_path.startswith("src/taulc/models/") and conf_path.startswith("src/taulc/conf/model/")
    module_name = src_path.removeprefix("src/").removesuffix(".py").replace("/", ".")
    file = tmp_path / Path(src_path).name
    file.write_text(code)
    conf_dir = tmp_path / "conf"
    (conf_dir / "model").mkdir(parents=True)
    (conf_dir / "model" / Path(conf_path).name).write_text(conf)
    saved = (dict(registry.MODEL_CLASSES), dict(registry._ALIASES))
    spec = importlib.util.spec_from_file_location(module_name, file)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, module_name, module)
    spec.loader.exec_module(module)
    yield Path(conf_path).stem, conf_dir
    for live, old in zip((registry.MODEL_CLASSES, registry._ALIASES), saved):
        live.clear()
        live.update(old)


def test_the_howto_model_trains_bundles_predicts_and_reports(howto_model, tiny_dataset: Path, tmp_path: Path):
    from taulc.analysis.plotting import RatePalette
    from taulc.analysis.report import ReportWriter, _dataset_of, load_context, load_run, pick_run, section_parity
    from taulc.predict import Predictor
    from taulc.testing.data import shard
    from taulc.training import train

    name, conf_dir = howto_model
    run = tmp_path / "runs" / name
    cfg = train_cfg(
        tiny_dataset.parent,
        run,
        [f"hydra.searchpath=[file://{conf_dir}]", f"model={name}"],
        results_table=tmp_path / "results.csv",
    )
    assert np.isfinite(train(cfg))
    m = json.loads((run / "metrics.json").read_text())
    a, b = m["selected"]["a"], m["selected"]["b"]
    col = int(cfg.model.column)

    # planted-free reference: least squares of ln tau_LC on the column over the training configurations
    pred = Predictor.load(run)
    assert pred.model.short_name == name and pred.kind == "tabular" and pred.output_names == ("ln_tau_lc_pred",)
    xs, ys = [], []
    for cid in m["configs"]["train"]:
        z = shard(tiny_dataset, cid)
        y = log_mean(z["first_jump_lc"], float(z["t_max"]))  # the learning target (target.estimator=logmean)
        ok = np.isfinite(y)
        xs.append(pred._features(z["positions"], z["species"], z["cell"])[ok, col])
        ys.append(y[ok])
    b_ref, a_ref = np.polyfit(np.concatenate(xs), np.concatenate(ys), 1)
    np.testing.assert_allclose([a, b], [a_ref, b_ref], rtol=1e-6, atol=1e-9)

    # the bundle's predictions on a test configuration == the run's own test predictions == a + b x
    ref = np.load(run / "test_predictions.npz")
    cid = m["configs"]["test"][0]
    z = shard(tiny_dataset, cid)
    p = pred.predict_arrays(z["positions"], z["species"], z["cell"], allow_small_cell=True).values["ln_tau_lc_pred"]
    keep = np.isfinite(np.log(z["tau_lc"]))
    np.testing.assert_allclose(p[keep], ref["y_pred"][ref["config_id"] == cid], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        p, a + b * pred._features(z["positions"], z["species"], z["cell"])[:, col], rtol=1e-6
    )  # predict_step: float32

    # the report picks the run for its parity section from the model's declared role
    info = load_run(run)
    assert info.short == name and pick_run([info], "regression") is info and pick_run([info], "hardness") is None
    root, dcfg = _dataset_of(info.cfg)
    ctx = load_context(root, dcfg)
    rep = ReportWriter(tmp_path / "report")
    try:
        section_parity(rep, info, RatePalette(ctx.rates))
        assert (rep.tmp / "figures" / "parity.png").is_file()
    finally:
        rep.abort()
    parity = rep.summary["parity"]
    assert parity["model"] == name
    # an affine function of one column: |Pearson(prediction, ln tau)| pooled over all species == |Pearson(x, ln tau)|
    x_test = np.concatenate(
        [
            pred._features(*(shard(tiny_dataset, c)[k] for k in ("positions", "species", "cell")))[:, col][
                np.isfinite(np.log(shard(tiny_dataset, c)["tau_lc"]))
            ]
            for c in np.unique(ref["config_id"])
        ]
    )
    y_test = np.concatenate([ref["true_y"][ref["config_id"] == c] for c in np.unique(ref["config_id"])])
    assert parity["pooled_all_species"] == pytest.approx(np.sign(b) * np.corrcoef(x_test, y_test)[0, 1], abs=1e-6)
