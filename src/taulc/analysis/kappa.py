"""Local dipole stiffness κ_i against the dynamics labels (Kapteijns et al. 2021, Sec. III.C, Figs. 6-7).

For every shard of a dataset: κ_i in the inherent state (``src/taulc/conf/descriptor/kappa.yaml``,
cached by :func:`taulc.data.derived.shard_features`, inherent states under
``<root>/cache/inherent``), then per species and per configuration

* Spearman ρ(ln κ_i, ln τ_LC) over uncensored particles and ρ(ln κ_i, mobility)
  (mobility = isoconfigurational displacement at the last labelled time);
  Kapteijns et al. report ρ between 1/κ and mobility, i.e. −ρ(κ, mobility);
* mobile / immobile populations: the 10 % most / least mobile particles of the
  species in the configuration (a global version of their per-region extremes),
  with P(κ/⟨κ⟩) and the distribution of their per-species κ rank (Fig. 6).

Run: ``python -m taulc.analysis.kappa datasets/demo --out reports/kappa`` (writes
``kappa_spearman.csv``, ``kappa_distributions.png``, ``kappa_map.png``).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from omegaconf import OmegaConf
from scipy.stats import rankdata, spearmanr

from taulc.analysis.plotting import plt, save_figure
from taulc.data.derived import shard_features
from taulc.data.manifest import read_manifest
from taulc.data.storage import atomic_write_with, load_npz
from taulc.hydra_app import add_version_flag
from taulc.paths import conf_dir
from taulc.utils import install_tqdm_logging

log = logging.getLogger(__name__)

__all__ = ["kappa_descriptor_config", "kappa_fields", "kappa_tables", "plot_kappa_distributions", "plot_kappa_map"]


def kappa_descriptor_config(root: Path) -> dict[str, Any]:
    """``src/taulc/conf/descriptor/kappa.yaml`` (generation 0 only) with the IS cache under ``root/cache/inherent``."""

    cfg = OmegaConf.to_container(OmegaConf.load(conf_dir() / "descriptor" / "kappa.yaml"), resolve=True)
    assert isinstance(cfg, dict)
    fam = cfg["families"]["kappa"]
    fam.update(generations=0, log=False, cache_dir=str(Path(root).resolve() / "cache" / "inherent"))
    return cfg


def kappa_fields(root: Path, shards: list[str] | None = None, progress: bool = True) -> tuple[dict[str, Any], list[np.ndarray]]:
    """(manifest restricted to ``shards``, [κ_i (N,) per shard]) — minimisation + κ once per shard, then cached."""

    man = read_manifest(root)
    if shards:
        known = {s["id"] for s in man["shards"]}
        bad = sorted(set(shards) - known)
        if bad:
            raise ValueError(f"{root}/manifest.json: unknown shard id(s) {bad}; known: {sorted(known)}")
        man = {**man, "shards": [s for s in man["shards"] if s["id"] in set(shards)]}
    feats, _, _ = shard_features(Path(root), man, kappa_descriptor_config(root), progress=progress)
    return man, [f[:, 0].astype(np.float64) for f in feats]


def _mobile_immobile(mob: np.ndarray, frac: float) -> tuple[np.ndarray, np.ndarray]:
    k = max(1, int(round(frac * len(mob))))
    order = np.argsort(mob)
    return order[-k:], order[:k]


def kappa_tables(
    root: Path, kappas: list[np.ndarray], man: dict[str, Any], frac: float = 0.1
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Per shard and species: Spearman ρ with ln τ_LC and mobility; pooled κ/⟨κ⟩ and rank samples."""

    rows = []
    pools: dict[str, list[np.ndarray]] = {"all": [], "mobile": [], "immobile": [], "rank_mobile": [], "rank_immobile": []}
    for entry, kap in zip(man["shards"], kappas):
        z = load_npz(Path(root) / entry["file"], ("species", "tau_lc", "mobility"))
        sp, tau, mob = z["species"], z["tau_lc"].astype(np.float64), z["mobility"][-1].astype(np.float64)
        for s in (0, 1):
            m = sp == s
            k, t, mb = kap[m], tau[m], mob[m]
            ok = np.isfinite(t) & (t > 0)
            rows.append(
                {
                    "shard": entry["id"],
                    "rate": float(entry.get("rate", np.nan)),
                    "species": s,
                    "n": int(m.sum()),
                    "spearman_kappa_ln_tau_lc": float(spearmanr(np.log(k[ok]), np.log(t[ok])).statistic),
                    "spearman_inv_kappa_mobility": float(spearmanr(1.0 / k, mb).statistic),
                    "kappa_mean": float(k.mean()),
                }
            )
            if s == 0:
                mobile, immobile = _mobile_immobile(mb, frac)
                rank = (rankdata(k) - 1) / (len(k) - 1)
                pools["all"].append(k / k.mean())
                pools["mobile"].append(k[mobile] / k.mean())
                pools["immobile"].append(k[immobile] / k.mean())
                pools["rank_mobile"].append(rank[mobile])
                pools["rank_immobile"].append(rank[immobile])
    return pd.DataFrame(rows), {k: np.concatenate(v) for k, v in pools.items()}


def plot_kappa_distributions(pools: dict[str, np.ndarray], table: pd.DataFrame, path: Path) -> Path:
    """Fig. 6 analogue (big particles): P(κ/⟨κ⟩) and κ-rank distributions of mobile / immobile particles."""
    fig, ax = plt.subplots(1, 3, figsize=(12, 3.6))
    bins = np.linspace(0, np.quantile(pools["all"], 0.995), 50)
    for key, c in (("all", "0.5"), ("mobile", "tab:red"), ("immobile", "tab:blue")):
        ax[0].hist(pools[key], bins=bins, density=True, histtype="step", color=c, lw=1.5, label=key)
    ax[0].set_xlabel(r"$\kappa_i/\langle\kappa\rangle$ (big)")
    ax[0].set_ylabel("P")
    ax[0].legend(frameon=False)
    rb = np.linspace(0, 1, 11)
    ax[1].hist(pools["rank_mobile"], bins=rb, density=True, histtype="step", color="tab:red", lw=1.5, label="mobile")
    ax[1].hist(pools["rank_immobile"], bins=rb, density=True, histtype="step", color="tab:blue", lw=1.5, label="immobile")
    ax[1].set_xlabel(r"per-species rank of $\kappa_i$")
    ax[1].legend(frameon=False)
    big = table[table.species == 0]
    rates = sorted(big.rate.unique())
    xs = np.arange(len(rates))
    for col, c, lab in (
        ("spearman_kappa_ln_tau_lc", "k", r"$\rho(\kappa, \ln\tau_{LC})$"),
        ("spearman_inv_kappa_mobility", "tab:red", r"$\rho(1/\kappa, \mathrm{mobility})$"),
    ):
        for x, r in zip(xs, rates):
            v = big[big.rate == r][col].to_numpy()
            ax[2].plot(np.full(len(v), x), v, "o", color=c, alpha=0.6, label=lab if x == 0 else None)
    ax[2].axhline(0, color="0.7", lw=0.8)
    ax[2].set_xticks(xs, [f"{r:g}" for r in rates])
    ax[2].set_xlabel(r"$\dot\gamma$")
    ax[2].set_ylabel("Spearman (big, per configuration)")
    ax[2].legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def plot_kappa_map(root: Path, entry: dict[str, Any], kappa: np.ndarray, path: Path, slab: float = 2.0) -> Path:
    """κ_i rank map beside the ln τ_LC rank map (big particles in a z-slab), as Fig. 7."""

    z = load_npz(Path(root) / entry["file"], ("positions", "species", "tau_lc", "cell"))
    pos, sp, tau = z["positions"], z["species"], z["tau_lc"]
    zc = 0.5 * z["cell"][2, 2]
    m = (sp == 0) & (np.abs(pos[:, 2] - zc) < slab / 2) & np.isfinite(tau)
    fig, ax = plt.subplots(1, 2, figsize=(9, 4.4))
    big = sp == 0
    rk = rankdata(kappa[big]) / big.sum()
    ok = np.isfinite(tau[big])
    rt = np.full(big.sum(), np.nan)
    rt[ok] = rankdata(np.log(tau[big][ok])) / ok.sum()
    rank_k = np.full(len(sp), np.nan)
    rank_t = np.full(len(sp), np.nan)
    rank_k[big], rank_t[big] = rk, rt
    for a, v, title in ((ax[0], rank_k, r"rank of $\kappa_i$ (inherent state)"), (ax[1], rank_t, r"rank of $\ln\tau_{LC}$")):
        sc = a.scatter(pos[m, 0], pos[m, 1], c=v[m], cmap="coolwarm", s=60, vmin=0, vmax=1, edgecolors="none")
        a.set_aspect("equal")
        a.set_title(title, fontsize=10)
        a.set_xlabel("x (flow)")
    ax[0].set_ylabel("y (gradient)")
    fig.colorbar(sc, ax=ax, shrink=0.8, label="per-species rank (big)")
    rho = spearmanr(kappa[m], np.log(tau[m])).statistic
    fig.suptitle(f"{entry['id']}: big particles with |z - Lz/2| < {slab / 2:g}; Spearman in slab {rho:.2f}", fontsize=10)
    return save_figure(fig, path)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("root", type=Path, help="dataset directory (with manifest.json)")
    p.add_argument("--out", type=Path, default=Path("reports/kappa"))
    p.add_argument("--map-shard", default=None, help="shard id for the map (default: first shard)")
    p.add_argument("--shards", nargs="+", default=None, help="restrict to these shard ids (default: all)")

    add_version_flag(p, "python -m taulc.analysis.kappa")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    install_tqdm_logging()  # log lines above the progress bars
    man, kappas = kappa_fields(args.root, args.shards)
    table, pools = kappa_tables(args.root, kappas, man)
    args.out.mkdir(parents=True, exist_ok=True)

    atomic_write_with(args.out / "kappa_spearman.csv", lambda tmp: table.to_csv(tmp, index=False))
    plot_kappa_distributions(pools, table, args.out / "kappa_distributions.png")
    ids = [s["id"] for s in man["shards"]]
    k = ids.index(args.map_shard) if args.map_shard else 0
    plot_kappa_map(args.root, man["shards"][k], kappas[k], args.out / "kappa_map.png")
    summary = table.groupby(["species", "rate"])[["spearman_kappa_ln_tau_lc", "spearman_inv_kappa_mobility"]].agg(
        ["mean", "std", "count"]
    )
    print(summary.to_string())
    print(
        f"mobile/immobile (big, 10 % extremes): mean kappa/<kappa> = {pools['mobile'].mean():.3f} / "
        f"{pools['immobile'].mean():.3f}; mean kappa rank = {pools['rank_mobile'].mean():.3f} / {pools['rank_immobile'].mean():.3f}"
    )


if __name__ == "__main__":
    main()
