"""One input path: training (derived caches + datamodules) and serving (Predictor) feed a model the same arrays.

For each model kind (ridge, SVM, MLP: descriptor rows; GNN: PyG graph) a tiny run is trained on the
tiny LAMMPS dataset, its bundle loaded, and one sheared (tilted-cell) configuration of the dataset
written to extxyz, read back and assembled by the Predictor.  The datamodule's tensors for that
configuration must equal the Predictor's: integer arrays exactly, float32 arrays within 1e-6
(the extxyz round trip and re-wrapping move coordinates by float64 rounding only).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from taulc.testing.data import TRAIN_OVERRIDES, compose
from tests.helpers.predict import trained_runs, write_xyz

MODELS = ["ridge", "svm", "mlp", "gnn", "gnn_x"]  # gnn_x: GNN with per-node descriptors x
EXTRA = {  # runs not already trained by tests.helpers.predict.trained_runs
    "mlp": ["model=mlp", "model.hidden=16", "model.n_layers=1", "trainer.max_epochs=1"],
    "gnn_x": ["model=gnn", "model.hidden=8", "model.n_layers=1", "model.n_features=1", "trainer.max_epochs=1"],
}


@pytest.fixture(scope="session")
def input_runs(tiny_dataset: Path, tmp_path_factory) -> dict[str, Path]:
    """svm/ridge/gnn runs shared with tests/test_predict_*.py, plus a tiny MLP and a GNN on node descriptors."""
    from omegaconf import open_dict

    from taulc.training import train

    runs = dict(trained_runs(str(tiny_dataset), str(tmp_path_factory.getbasetemp() / "predict_runs")))
    out = tmp_path_factory.mktemp("input_runs")
    for name, extra in EXTRA.items():
        cfg = compose(
            "train",
            [
                f"data_root={tiny_dataset.parent}",
                *TRAIN_OVERRIDES,
                f"results_table={out / 'results.csv'}",
                "trainer.enable_progress_bar=false",
                "trainer.enable_model_summary=false",
                *extra,
            ],
        )
        with open_dict(cfg):
            cfg.run_dir = str(out / name)
        train(cfg)
        runs[name] = out / name
    return runs


def _tilted_config_id(root: Path) -> int:
    from taulc.data.dataset import load_shard
    from taulc.data.manifest import read_manifest

    for k, s in enumerate(read_manifest(root)["shards"]):
        if abs(load_shard(root, s)["cell"][1, 0]) > 1e-6:
            return k
    raise AssertionError("no tilted configuration in the tiny dataset")


def _serving_inputs(pred, root: Path, cid: int, tmp_path: Path) -> tuple[dict, np.ndarray]:
    """The Predictor's inputs for configuration ``cid`` after an extxyz write/read round trip (and its cell)."""
    from taulc.data.dataset import load_shard
    from taulc.data.manifest import read_manifest

    z = load_shard(root, read_manifest(root)["shards"][cid])
    path = write_xyz(tmp_path / f"config_{cid}.extxyz", z["positions"], z["species"], z["cell"])
    (atoms,) = list(pred.iter_atoms(path))
    pos, sp, cell = pred.arrays_from_atoms(atoms, str(path))
    np.testing.assert_array_equal(sp, z["species"])  # same particles in the same order
    return pred.model_inputs(pos, sp, cell), cell


@pytest.mark.parametrize("model", MODELS)
def test_training_and_serving_build_identical_inputs(input_runs, tiny_dataset: Path, tmp_path: Path, model: str):
    from taulc.data.datamodules import GraphDataModule, TabularDataModule
    from taulc.data.inputs import dataset_graph_radius
    from taulc.predict import Predictor
    from taulc.structure.neighbors import wrap_positions

    pred = Predictor.load(input_runs[model] / "predictor.pt")
    c = pred.training["config"]
    cid = _tilted_config_id(tiny_dataset)
    served, cell = _serving_inputs(pred, tiny_dataset, cid, tmp_path)

    if not model.startswith("gnn"):
        assert pred.kind == "tabular"
        dm = TabularDataModule(tiny_dataset, c["split"], descriptor=c.get("descriptor"))
        dm.setup("fit")
        x_train = dm.cols["x"][dm.cols["config_id"] == cid].numpy()
        x_serve = served["x"]
        assert x_serve.dtype == np.float32 and x_train.dtype == np.float32
        assert x_serve.shape == x_train.shape and x_train.shape[1] == len(pred.feature_names or [])
        assert np.abs(x_train).max() > 0.1  # real descriptors, not an empty/zero matrix
        np.testing.assert_allclose(x_serve, x_train, rtol=1e-6, atol=1e-6 * np.abs(x_train).max())
        return

    assert pred.kind == "graph"
    radius = dataset_graph_radius(c)
    assert pred.graph_radius == radius
    dm = GraphDataModule(
        tiny_dataset,
        c["split"],
        descriptor=c.get("descriptor"),
        radius=radius,
        node_descriptors=int(c["model"].get("n_features") or 0) > 0,
    )
    dm.setup("fit")
    g_train = next(g for gs in dm.graphs.values() for g in gs if int(g.config_id[0]) == cid)
    g_serve = served["graph"]
    assert g_train.num_nodes == g_serve.num_nodes
    assert g_serve.edge_index.shape[1] > 10 * g_serve.num_nodes  # ~ 4/3 pi 2^3 rho ~ 40 neighbours each
    assert torch.equal(g_train.species, g_serve.species)
    assert torch.equal(g_train.edge_index, g_serve.edge_index)
    assert g_serve.edge_attr.dtype == torch.float32 and g_train.edge_attr.dtype == torch.float32
    torch.testing.assert_close(g_serve.edge_attr, g_train.edge_attr, rtol=1e-6, atol=1e-6)
    # edge vectors are r_target - r_source in the shear frame, shorter than the radius
    assert float(g_serve.edge_attr[:, 3].max()) < radius
    torch.testing.assert_close(g_serve.edge_attr[:, :3].norm(dim=1), g_serve.edge_attr[:, 3], rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(g_serve.cell, g_train.cell, rtol=1e-6, atol=1e-6)
    # positions agree up to the wrapping convention (training shards vs. wrapped serving input)
    p_train = wrap_positions(g_train.pos.double().numpy(), cell)
    p_serve = wrap_positions(g_serve.pos.double().numpy(), cell)
    d = (p_train - p_serve) @ np.linalg.inv(cell)
    np.testing.assert_allclose(d - np.round(d), 0.0, atol=1e-5)
    assert (g_serve.x is not None) == (model == "gnn_x") == (g_train.x is not None)
    if model == "gnn_x":
        assert g_serve.x.dtype == torch.float32 and g_serve.x.shape == (g_serve.num_nodes, len(pred.feature_names))
        torch.testing.assert_close(g_serve.x, g_train.x, rtol=1e-6, atol=1e-6 * float(g_train.x.abs().max()))
