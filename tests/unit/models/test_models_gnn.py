"""ParticleGNN / DescriptorMLP: overfitting, shear-frame orientation, symmetries, masks, resume."""

from __future__ import annotations

import lightning.pytorch as pl
import numpy as np
import pytest
import torch
from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint
from torch.utils.data import DataLoader as TorchLoader
from torch_geometric.data import Batch, Data
from torch_geometric.loader import DataLoader

from taulc.models import DescriptorMLP, ParticleGNN, load_model, save_model
from taulc.models.synthetic import TensorDictDataset, planted_graphs, planted_tabular, radius_edges
from taulc.testing import ModelContract
from tests.helpers.models import make_trainer

pytestmark = pytest.mark.usefixtures("quiet_single_thread")  # tests/conftest.py


def _trainer(**kw) -> pl.Trainer:
    return make_trainer(**{"max_epochs": 5, "num_sanity_val_steps": 0, **kw})


def _gnn(**kw) -> ParticleGNN:
    args = dict(hidden=32, n_layers=2, radius=1.6, avg_neighbors=8.0, lr=3e-3, scheduler="none")
    args.update(kw)
    return ParticleGNN(**args)


def _batch_loss(m, loader) -> float:
    m.eval()
    with torch.no_grad():
        tot = [float(m.losses(b, m(b))["total"]) for b in loader]
    m.train()
    return float(np.mean(tot))


def test_gnn_overfits_tiny_dataset():
    pl.seed_everything(0)
    graphs = planted_graphs(n_graphs=3, n_nodes=30, seed=1)
    loader = DataLoader(graphs, batch_size=3)
    m = _gnn(task_weights={"y": 1.0, "cls": 0.5, "mobility": 0.5})
    m.fit_statistics(loader)
    before = _batch_loss(m, loader)
    _trainer(max_epochs=150).fit(m, loader)
    after = _batch_loss(m, loader)
    assert after < before / 10, (before, after)


def test_gnn_learns_shear_orientation_invariant_ablation_cannot():
    """Target = sum_j ux uy over neighbours (g_2^-2 symmetry): needs orientation."""
    train = DataLoader(planted_graphs(16, 40, seed=0), batch_size=4, shuffle=True)
    val = DataLoader(planted_graphs(4, 40, seed=1), batch_size=4)
    score = {}
    for ang in ("l2", "none"):
        pl.seed_everything(0)
        m = _gnn(angular=ang, task_weights={"y": 1.0, "cls": 0.0})
        t = _trainer(max_epochs=40, check_val_every_n_epoch=40)
        t.fit(m, train, val)
        score[ang] = m.last_metrics["val"]["pearson"]
        assert "val/pearson" in t.callback_metrics and "val/pearson_config" in t.callback_metrics
    assert score["l2"] > 0.9, score
    assert score["none"] < score["l2"] - 0.3, score


def _graph(pos, species, radius=1.6):
    ei, ea = radius_edges(pos, radius)
    n = len(pos)
    return Data(
        species=torch.tensor(species), pos=torch.tensor(pos, dtype=torch.float32), edge_index=ei, edge_attr=ea, num_nodes=n
    )


def test_gnn_mirror_translation_permutation():
    pl.seed_everything(1)
    rng = np.random.default_rng(3)
    pos = rng.uniform(0, 4, (40, 3))
    species = (rng.random(40) < 0.3).astype(np.int64)
    m = _gnn(n_layers=3).eval()

    def out(p, s=species):
        with torch.no_grad():
            return m.encode(Batch.from_data_list([_graph(p, s)]))

    ref = out(pos)
    # translation invariance (only relative vectors enter)
    shifted = out(pos + np.array([7.3, -2.1, 0.4]))
    torch.testing.assert_close(shifted, ref, atol=1e-5, rtol=0)
    # x -> -x mirror changes the embeddings (not reflection invariant; g_2^-2 flips sign)
    mirrored = pos * np.array([-1.0, 1.0, 1.0])
    change = (out(mirrored) - ref).abs().max()
    assert change > 1e-5 and change > 100 * (shifted - ref).abs().max()
    # the symmetries of planar shear flow (C2h) leave every node output unchanged
    for op in ([-1.0, -1.0, 1.0], [1.0, 1.0, -1.0], [-1.0, -1.0, -1.0]):  # C2 about z, z mirror, inversion
        torch.testing.assert_close(out(pos * np.array(op)), ref, atol=1e-5, rtol=0)
    # a rotation-invariant ablation does not see the mirror
    inv = _gnn(n_layers=3, angular="none").eval()
    with torch.no_grad():
        a = inv.encode(Batch.from_data_list([_graph(pos, species)]))
        b = inv.encode(Batch.from_data_list([_graph(mirrored, species)]))
    torch.testing.assert_close(a, b, atol=1e-5, rtol=0)
    # permutation equivariance of node outputs
    perm = rng.permutation(40)
    torch.testing.assert_close(out(pos[perm], species[perm]), ref[perm], atol=1e-5, rtol=0)


def test_gnn_loss_uses_only_masked_finite_targets():
    g = planted_graphs(2, 30, seed=4, mask_fraction=0.5)
    b = Batch.from_data_list(g)
    m = _gnn(task_weights={"y": 1.0, "cls": 1.0, "mobility": 1.0})
    m.fit_statistics([b])
    base = m.losses(b, m(b))
    b2 = b.clone()
    off = ~b2.mask
    b2.y[off] = 1e6
    b2.cls[off] = 1 - b2.cls[off]
    b2.mobility[off] = float("nan")
    b2.y[torch.nonzero(b2.mask)[0]] = float("nan")  # a NaN target on a masked node is skipped
    b2.cls[torch.nonzero(b2.mask)[1]] = -1  # unlabelled
    new = m.losses(b2, m(b2))
    assert torch.isfinite(new["total"])
    torch.testing.assert_close(new["mobility"], base["mobility"])
    assert abs(float(new["y"]) - float(base["y"])) < 0.5 * float(base["y"])


def test_gnn_checkpoint_resume_and_save_load(tmp_path):
    pl.seed_everything(2)
    train = DataLoader(planted_graphs(4, 30, seed=5), batch_size=2)
    val = DataLoader(planted_graphs(2, 30, seed=6), batch_size=2)
    m = _gnn(scheduler="cosine")
    ckpt = ModelCheckpoint(dirpath=tmp_path, monitor=m.monitor, mode=m.monitor_mode, save_last=True)
    t = _trainer(max_epochs=2, callbacks=[ckpt], enable_checkpointing=True)
    t.fit(m, train, val)
    assert t.current_epoch == 2 and t.global_step == 4
    assert ckpt.best_model_path and (tmp_path / "last.ckpt").is_file()

    m2 = _gnn(scheduler="cosine")
    ckpt2 = ModelCheckpoint(dirpath=tmp_path / "resumed", save_last=True)
    t2 = _trainer(max_epochs=4, callbacks=[ckpt2], enable_checkpointing=True)
    t2.fit(m2, train, val, ckpt_path=tmp_path / "last.ckpt")
    assert t2.current_epoch == 4 and t2.global_step == 8
    torch.testing.assert_close(m2.y_mean, m.y_mean)  # statistics restored, not recomputed

    # prediction, Lightning checkpoint and Hydra-free bundle agree
    b = next(iter(val))
    m2.eval()
    p = t2.predict(m2, val)[0]
    assert set(p) >= {"y_pred", "logit", "p_slow", "mobility_pred", "mask", "batch", "config_id"}
    assert ((p["p_slow"] >= 0) & (p["p_slow"] <= 1)).all()
    for other in (ParticleGNN.load_from_checkpoint(ckpt2.last_model_path), load_model(save_model(m2, tmp_path / "gnn.pt"))):
        other.eval()
        with torch.no_grad():
            torch.testing.assert_close(other(b)["y_pred"], m2(b)["y_pred"])


def test_gnn_with_descriptors_and_early_stopping():
    graphs = planted_graphs(4, 30, seed=7)
    for g in graphs:
        g.x = torch.randn(g.num_nodes, 5) * 3 + 1
    loader = DataLoader(graphs, batch_size=2)
    m = _gnn(n_features=5)
    es = EarlyStopping(monitor=m.monitor, mode=m.monitor_mode, patience=1)
    t = _trainer(max_epochs=30, callbacks=[es])
    t.fit(m, loader, loader)
    assert m.x_mean.shape == (5,) and float(m.x_scale.mean()) > 1.5
    assert m.monitor == "val/pearson_within_rate" and "val/loss" in t.callback_metrics


def test_mlp_planted_signal():
    pl.seed_everything(0)
    d = planted_tabular(n=1200, n_features=12, noise=0.3, seed=10)
    tr = {k: v[:1000] for k, v in d.items()}
    va = {k: v[1000:] for k, v in d.items()}
    m = DescriptorMLP(n_features=12, hidden=32, n_layers=2, dropout=0.0, lr=3e-3)
    t = _trainer(max_epochs=15)
    t.fit(m, TorchLoader(TensorDictDataset(tr), batch_size=128, shuffle=True), TorchLoader(TensorDictDataset(va), batch_size=256))
    met = m.last_metrics["val"]
    assert met["pearson"] > 0.85 and met["accuracy"] > 0.8
    preds = t.predict(m, TorchLoader(TensorDictDataset(va), batch_size=256))
    assert preds[0]["y_pred"].shape == (200,)


# ------------------------------------------------------------------ model contract (taulc.testing.ModelContract)


class TestGNNContract(ModelContract):
    config = "gnn"
    overrides = ("model.hidden=16", "model.n_layers=2", "trainer.max_epochs=2")
