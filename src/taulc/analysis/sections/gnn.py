"""Section 4 (continued): input attribution of a ParticleGNN run (permutation and gradient profiles)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from taulc.analysis.attribution import gradient_profile, permutation_importance, plot_attribution
from taulc.analysis.context import AnalysisSpec, DatasetContext, analysis_spec
from taulc.analysis.runs_index import RunInfo, pick_run
from taulc.analysis.sections.base import ReportInputs
from taulc.analysis.writer import ReportWriter
from taulc.data.inputs import dataset_graph_radius

__all__ = ["section_gnn", "write"]


def section_gnn(
    rep: ReportWriter, run: RunInfo, ctx: DatasetContext, acfg: AnalysisSpec | Mapping[str, Any] | None = None
) -> None:
    from torch_geometric.data import Batch

    from taulc.data.datamodules import GraphDataModule  # noqa: PLC0415 - lazy: the datamodules load Lightning and torch
    from taulc.models.io import load_model  # noqa: PLC0415 - lazy: models.io loads Lightning and torch

    g = analysis_spec(acfg).gnn
    model = load_model(run.model_path)
    nfeat = int(model.n_node_features)  # taulc.models.roles.AttributionModel
    c = run.cfg
    dm = GraphDataModule(
        ctx.root,
        run.split,
        target=run.target.name,
        node_descriptors=nfeat > 0,
        dataset_config=ctx.dataset_cfg,
        table=ctx.table(c.get("descriptor"), run.target),
        radius=dataset_graph_radius(c),
        descriptor=c.get("descriptor"),
    )
    dm.setup("test")
    graphs = dm.graphs["test"][: g.max_graphs]
    batch = Batch.from_data_list(graphs)
    perm = permutation_importance(model, batch, n_repeats=g.n_repeats, seed=0)
    prof = gradient_profile(model, batch, n_bins=g.n_bins)
    rep.h("GNN input attribution", level=3)
    rep.p(f"Model `{run.path}` on {len(graphs)} test configuration(s) ({int(batch.mask.sum())} test nodes).")
    rep.figure(
        "gnn_attribution",
        plot_attribution(perm, prof),
        "(a) Score drop when an input group is scrambled (mean ± std over repeats); (b) |gradient × input| of the "
        "summed ln τ prediction per edge, vs neighbour distance and neighbour species; (c) mean |∂Σŷ/∂r| along "
        "the flow, gradient and vorticity axes.",
    )
    rep.table("gnn_permutation", perm, caption="Permutation importance")
    rep.table("gnn_gradient_profile", prof, show=False, caption="Gradient profile")
    rep.summary["gnn_permutation"] = perm.to_dict(orient="records")


def write(rep: ReportWriter, inp: ReportInputs) -> bool:
    run = pick_run(inp.runs, "attribution")
    if run is None:
        return False
    section_gnn(rep, run, inp.ctx, inp.acfg)
    return True
