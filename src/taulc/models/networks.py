"""The neural networks of the multi-task models: plain ``torch.nn.Module`` encoders.

A network maps one batch's fields to per-particle embeddings ``(M, hidden)``; it knows nothing of
Lightning, targets, losses or metrics. :class:`~taulc.models.multitask.MultiTaskModule` holds one as
``self.net`` and feeds it the batch fields named in the network's ``inputs`` (``x`` standardised
first), then applies its task heads.

* :class:`DescriptorEncoder` (``DescriptorMLP``): an MLP on descriptor rows ``x``;
* :class:`GraphEncoder` (``ParticleGNN``): message passing on the particle graph in the shear frame.

Shear breaks rotational symmetry: the paper's second most informative descriptor family is
g_2^{-2} ~ xy / r^2 (Sec. IV.A, Fig. 16), so :class:`GraphEncoder` is deliberately *not* rotation
invariant. Each edge j -> i carries the relative vector ``r = (dx, dy, dz)`` (``edge_attr[:, :3]``,
flow x, gradient y, vorticity z) and is embedded as

    radial basis of |r|  (x)  angular features of u = r / |r|,

with the angular features the real l <= 2 polynomials that respect the symmetries of planar shear
flow (C2h: 180 deg about z, z mirror, inversion) ``[1, ux uy, ux^2 - uy^2, 3 uz^2 - 1]`` (``ux uy``
is the g_2^{-2} symmetry; it flips under x -> -x, so flow orientation is learnt; ``"none"`` gives a
rotation-invariant ablation). Because only relative vectors enter, outputs are translation
invariant; sum aggregation makes node outputs permutation equivariant; no dense N x N tensor is
ever formed.

Layers are pre-LayerNorm residual edge-conditioned MPNN blocks::

    m_ij = MLP([LN(h_i), LN(h_j), e_ij]) * env(|r_ij|)
    h_i <- h_i + MLP([LN(h_i), sum_j m_ij / avg_neighbors])

with a smooth cosine envelope ``env`` so neighbours enter the cutoff continuously. Node inputs:
species embedding (+ standardised descriptors x).
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import Tensor, nn
from torch_geometric.utils import scatter

__all__ = ["mlp", "DescriptorEncoder", "EdgeBasis", "InteractionBlock", "GraphEncoder"]

_N_ANGULAR = {"l2": 4, "none": 1}


def mlp(
    d_in: int, d_hidden: int, d_out: int, n_layers: int = 2, dropout: float = 0.0, act: type[nn.Module] = nn.SiLU
) -> nn.Sequential:
    """Plain MLP: (Linear, act, dropout) x (n_layers - 1), Linear."""
    layers: list[nn.Module] = []
    d = d_in
    for _ in range(n_layers - 1):
        layers += [nn.Linear(d, d_hidden), act()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        d = d_hidden
    layers.append(nn.Linear(d, d_out))
    return nn.Sequential(*layers)


class DescriptorEncoder(nn.Module):
    """MLP on standardised descriptor rows: ``LN(SiLU(MLP(x)))``, ``(M, F) -> (M, hidden)``.

    Args:
        n_features: descriptor columns F (e.g. 576 for Eq. 13).
        hidden: width; n_layers: layers of the MLP; dropout: inside the MLP.
    """

    inputs: ClassVar[tuple[str, ...]] = ("x",)

    def __init__(self, n_features: int, hidden: int, n_layers: int = 3, dropout: float = 0.0) -> None:
        super().__init__()
        self.mlp = mlp(n_features, hidden, hidden, n_layers, dropout)
        self.act = nn.SiLU()
        self.norm = nn.LayerNorm(hidden)

    def forward(self, x: Tensor) -> Tensor:
        """Embeddings ``(M, hidden)`` of descriptor rows ``x (M, F)``."""
        return self.norm(self.act(self.mlp(x)))


class EdgeBasis(nn.Module):
    """Radial (Gaussian) x angular edge features of the shear frame.

    The angular part keeps the real l <= 2 polynomials of the unit vector that
    are invariant under the point group of planar shear flow v_x = γ̇ y
    (C2h: 180° rotation about z, the z mirror and inversion all map the flow
    onto itself): 1, u_x u_y (the g_2^-2 direction), u_x² - u_y² and
    3u_z² - 1.  The odd terms (u_x, u_y, u_z, u_x u_z, u_y u_z) are excluded,
    so predictions are unchanged by those symmetries, while u_x u_y still
    flips under the x -> -x mirror: orientation relative to the shear is learnt.
    """

    def __init__(self, cutoff: float, n_rbf: int = 16, angular: str = "l2") -> None:
        super().__init__()
        if angular not in _N_ANGULAR:
            raise ValueError(f"angular must be one of {sorted(_N_ANGULAR)}, got {angular!r}")
        self.cutoff = float(cutoff)
        self.angular = angular
        self.register_buffer("centers", torch.linspace(0.0, cutoff, n_rbf))
        self.width = cutoff / n_rbf
        self.dim = n_rbf * _N_ANGULAR[angular]

    def envelope(self, r: Tensor) -> Tensor:
        """Cosine cutoff: 1 at r = 0, 0 (with zero slope) at r = cutoff."""
        return torch.where(r < self.cutoff, 0.5 * (torch.cos(math.pi * r / self.cutoff) + 1.0), torch.zeros_like(r))

    def angular_features(self, u: Tensor) -> Tensor:
        ux, uy, uz = u.unbind(-1)
        one = torch.ones_like(ux)
        if self.angular == "none":
            return one[:, None]
        return torch.stack([one, ux * uy, ux * ux - uy * uy, 3 * uz * uz - 1], -1)

    def forward(self, vec: Tensor, r: Tensor) -> Tensor:
        rbf = torch.exp(-0.5 * ((r[:, None] - self.centers) / self.width) ** 2)
        u = vec / r.clamp_min(1e-9)[:, None]
        ang = self.angular_features(u)
        return (rbf[:, :, None] * ang[:, None, :]).flatten(1)


class InteractionBlock(nn.Module):
    """Pre-LN residual edge-conditioned message passing block (sum aggregation)."""

    def __init__(self, hidden: int, edge_dim: int, dropout: float = 0.0, avg_neighbors: float = 40.0) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(hidden)
        self.message = mlp(2 * hidden + edge_dim, hidden, hidden, 2, dropout)
        self.update = mlp(2 * hidden, hidden, hidden, 2, dropout)
        self.avg_neighbors = float(avg_neighbors)

    def forward(self, h: Tensor, edge_index: Tensor, e: Tensor, env: Tensor) -> Tensor:
        src, dst = edge_index
        hn = self.norm(h)
        m = self.message(torch.cat([hn[dst], hn[src], e], -1)) * env[:, None]
        agg = scatter(m, dst, dim=0, dim_size=h.shape[0], reduce="sum") / self.avg_neighbors
        return h + self.update(torch.cat([hn, agg], -1))


class GraphEncoder(nn.Module):
    """Species (+ descriptor) node embedding, :class:`EdgeBasis` edges, :class:`InteractionBlock` layers.

    Args:
        hidden: node/edge embedding width.
        n_layers: message-passing blocks (receptive field ~ n_layers * radius).
        radius: cutoff; edges longer than this are dropped, so graphs may be built with a larger radius.
        n_rbf: radial basis functions.
        angular: ``"l2"`` (C2h-invariant l <= 2 terms) or ``"none"`` (rotation-invariant ablation).
        avg_neighbors: normalisation of the summed messages (~ neighbours within radius).
        n_species: size of the species embedding table (0 = big, 1 = small).
        n_features: per-node descriptors ``x`` added to the node embedding (0/None = species only).
        dropout: inside the message and update MLPs.
    """

    inputs: ClassVar[tuple[str, ...]] = ("species", "edge_index", "edge_attr", "x")

    def __init__(
        self,
        hidden: int,
        n_layers: int,
        radius: float,
        n_rbf: int = 16,
        angular: str = "l2",
        avg_neighbors: float = 40.0,
        n_species: int = 2,
        n_features: int | None = None,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.basis = EdgeBasis(radius, n_rbf, angular)
        self.edge_embed = mlp(self.basis.dim, hidden, hidden, 2)
        self.species_embed = nn.Embedding(n_species, hidden)
        self.x_embed = mlp(int(n_features), hidden, hidden, 2) if n_features else None
        self.blocks = nn.ModuleList(InteractionBlock(hidden, hidden, dropout, avg_neighbors) for _ in range(n_layers))
        self.out_norm = nn.LayerNorm(hidden)

    def forward(self, species: Tensor, edge_index: Tensor, edge_attr: Tensor, x: Tensor | None = None) -> Tensor:
        """Node embeddings ``(M, hidden)``.

        Args:
            species: ``(M,)`` species index; edge_index: ``(2, E)`` source, target;
            edge_attr: ``(E, 4) = (dx, dy, dz, |r|)``, r = pos[target] - pos[source];
            x: ``(M, n_features)`` standardised descriptors (ignored when built without them).
        """
        if species is None or edge_index is None or edge_attr is None:
            raise KeyError("GraphEncoder (ParticleGNN) needs graph fields 'species', 'edge_index' and 'edge_attr'")
        if edge_attr.ndim != 2 or edge_attr.shape[1] < 4:
            raise ValueError(f"edge_attr must be (E, 4) = (dx, dy, dz, |r|), got {tuple(edge_attr.shape)}")
        h = self.species_embed(species.long())
        if x is not None and self.x_embed is not None:
            h = h + self.x_embed(x)
        ea = edge_attr.to(h.dtype)
        r = ea[:, 3]
        keep = (r < self.basis.cutoff) & (r > 0)
        if not bool(keep.all()):
            edge_index, ea, r = edge_index[:, keep], ea[keep], r[keep]
        e = self.edge_embed(self.basis(ea[:, :3], r))
        env = self.basis.envelope(r)
        for block in self.blocks:
            h = block(h, edge_index, e, env)
        return self.out_norm(h)
