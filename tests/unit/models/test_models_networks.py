"""The networks as plain modules (taulc.models.networks) inside the one training module.

``tests/data/net_split_reference.npz`` was written at the commit before the network split (1ab8bbd's
parent): for each configuration below, ``torch.manual_seed(0); Model(**kwargs).eval()``, its
``state_dict`` (keys of that layout: ``encoder.0.0.weight``, ``blocks.0...``) and its outputs on the
stored inputs (``planted_graphs(n_graphs=2, n_nodes=24, seed=3)`` batched, random ``x``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from taulc.models import DescriptorMLP, ParticleGNN, load_model
from taulc.models.io import _guess_class
from taulc.models.multitask import MultiTaskModule
from taulc.models.networks import DescriptorEncoder, GraphEncoder

pytestmark = pytest.mark.usefixtures("quiet_single_thread")  # tests/conftest.py

REF = Path(__file__).parents[2] / "data" / "net_split_reference.npz"
CONFIGS = {
    "mlp": (DescriptorMLP, {"n_features": 8, "hidden": 8, "n_layers": 3}),
    "gnn": (ParticleGNN, {"hidden": 8, "n_layers": 2, "radius": 1.3, "avg_neighbors": 8.0}),
    "gnn_x": (ParticleGNN, {"hidden": 8, "n_layers": 2, "radius": 1.3, "avg_neighbors": 8.0, "n_features": 5, "angular": "none"}),
}
OUTS = ("y_pred", "logit", "mobility_pred")


@pytest.fixture(scope="module")
def ref() -> dict[str, np.ndarray]:
    with np.load(REF) as z:
        return {k: z[k] for k in z.files}  # np.load keeps the written key order


def _batch(ref: dict[str, np.ndarray], name: str) -> dict[str, torch.Tensor]:
    if name == "mlp":
        return {"x": torch.from_numpy(ref["tab/x"])}
    keys = (
        ("species", "edge_index", "edge_attr", "x")
        if "n_features" in CONFIGS[name][1]
        else ("species", "edge_index", "edge_attr")
    )
    return {k: torch.from_numpy(ref[f"graph/{k}"]) for k in keys}


def _old_state_dict(ref: dict[str, np.ndarray], name: str) -> dict[str, torch.Tensor]:
    """The state_dict written before the split (old key names), in its order."""
    p = f"{name}/sd/"
    return {k.removeprefix(p): torch.from_numpy(v) for k, v in ref.items() if k.startswith(p)}


def _old_key(name: str, key: str) -> str:
    """The key mapping, written out: MLP ``net.mlp.`` <- ``encoder.0.``, ``net.norm.`` <- ``encoder.2.``
    (encoder was Sequential(mlp, SiLU, LayerNorm)); GNN ``net.<part>`` <- ``<part>``."""
    if name == "mlp":
        return key.replace("net.mlp.", "encoder.0.").replace("net.norm.", "encoder.2.")
    return key.removeprefix("net.")


def _seeded(name: str, seed: int = 0) -> MultiTaskModule:
    cls, kw = CONFIGS[name]
    torch.manual_seed(seed)
    return cls(**kw).eval()


def _predict(model: MultiTaskModule, batch: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    with torch.no_grad():
        out = model(batch)
    return {k: out[k].numpy() for k in OUTS}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_same_seed_same_weights_and_predictions_as_before_the_split(ref, name: str):
    """Parameters are created in the order of before: the same seed gives bit-identical weights (in the same
    order, under the mapped names), hence the same predictions."""
    model = _seeded(name)
    new, old = model.state_dict(), _old_state_dict(ref, name)
    assert [_old_key(name, k) for k in new] == list(old)
    for k, v in new.items():
        assert torch.equal(v, old[_old_key(name, k)]), k
    pred = _predict(model, _batch(ref, name))
    for k in OUTS:  # bit-identical where written (same kernels); a tight tolerance elsewhere
        np.testing.assert_allclose(pred[k], ref[f"{name}/out/{k}"], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_old_state_dict_loads_strictly_and_predicts_identically(ref, name: str):
    """The load-state-dict pre-hook renames the old keys; strict loading leaves nothing missing or unexpected."""
    batch = _batch(ref, name)
    model = _seeded(name, seed=1)  # other weights until loaded
    model.load_state_dict(_old_state_dict(ref, name), strict=True)
    pred, fresh = _predict(model, batch), _predict(_seeded(name), batch)
    for k in OUTS:
        np.testing.assert_array_equal(pred[k], fresh[k])


@pytest.mark.parametrize("name", list(CONFIGS))
def test_load_model_recognises_both_layouts(ref, name: str, tmp_path: Path):
    """A bare Lightning-style checkpoint (no class name) of either layout is told apart by ``owns_state_dict``."""
    cls, _ = CONFIGS[name]
    fresh = _seeded(name)
    batch = _batch(ref, name)
    for layout, sd in (("old", _old_state_dict(ref, name)), ("new", fresh.state_dict())):
        assert _guess_class(sd) == cls.__name__, layout
        path = tmp_path / f"{layout}.ckpt"
        torch.save({"state_dict": sd, "hyper_parameters": dict(fresh.hparams)}, path)
        loaded = load_model(path)
        assert type(loaded) is cls
        for k, v in _predict(loaded, batch).items():
            np.testing.assert_array_equal(v, _predict(fresh, batch)[k])


def test_networks_are_plain_modules(ref):
    """The networks know nothing of Lightning: plain nn.Modules called with tensors."""
    import lightning.pytorch as pl

    gnn, mlp = _seeded("gnn_x"), _seeded("mlp")
    assert isinstance(gnn.net, GraphEncoder) and isinstance(mlp.net, DescriptorEncoder)
    for net in (gnn.net, mlp.net):
        assert not isinstance(net, pl.LightningModule) and isinstance(net, nn.Module)
    g = _batch(ref, "gnn_x")
    with torch.no_grad():
        h = gnn.net(g["species"], g["edge_index"], g["edge_attr"], g["x"])
        assert h.shape == (len(g["species"]), 8)
        assert torch.equal(h, gnn.encode(g))  # x_mean = 0, x_scale = 1: standardising is the identity
        assert mlp.net(_batch(ref, "mlp")["x"]).shape == (20, 8)
    assert gnn.cutoff == gnn.net.basis.cutoff == 1.3


def test_graph_encoder_checks_fields_and_cuts_long_edges(ref):
    """Missing graph fields and malformed edge_attr are refused; edges at or beyond the radius change nothing."""
    net = _seeded("gnn").net
    g = _batch(ref, "gnn")
    with pytest.raises(KeyError, match="needs graph fields"):
        net(g["species"], None, g["edge_attr"])
    with pytest.raises(ValueError, match=r"edge_attr must be \(E, 4\)"):
        net(g["species"], g["edge_index"], g["edge_attr"][:, :3])
    far = torch.tensor([[3.0, 0.0, 0.0, 3.0]])
    with torch.no_grad():
        base = net(g["species"], g["edge_index"], g["edge_attr"])
        more = net(g["species"], torch.cat([g["edge_index"], torch.tensor([[0], [1]])], 1), torch.cat([g["edge_attr"], far]))
    assert torch.equal(base, more)
