"""Read a built dataset: verify the manifest and checksums, concatenate shards.

:func:`load_dataset` returns a :class:`ParticleTable`: one row per particle of
every shard, with the shard it came from, so splits and per-configuration /
per-rate metrics can be computed without reloading.

**Learning targets.**  ``ln τ_LC`` / ``ln τ_sh`` of the table are re-estimated from the
per-replica first-jump times the shards keep, with the target estimator (default
``logmean``: ``⟨ln min(τ_p, t')⟩_ICE`` at a horizon t' common to every shard,
:func:`taulc.dynamics.estimators.log_mean`).  The slow/fast classes keep the definition of Eq. 2
of Yu, Zeng & Wang 2025, ``⟨τ_LC⟩_ICE - ⟨τ_sh⟩_ICE >= τ_2`` on the isoconfigurational *means* (Kaplan-Meier
restricted means at the same horizon), whatever the regression estimator: τ_2 is a time on the scale of
those means, and the same threshold on geometric means (smaller where the replica times spread) would
leave almost no particle slow.  At the shards' own ``t_max`` this is the stored ``slow``.  The shards'
stored ``tau_lc``/``tau_sh``/``slow`` stay what the physics analyses read; ``estimator=None`` gives them
to the table too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from taulc.data.derived import shard_features
from taulc.data.manifest import check_compatible, read_manifest
from taulc.data.storage import DatasetError, load_npz, sha256_file
from taulc.dynamics.estimators import ice_estimate

log = logging.getLogger(__name__)

REQUIRED_SHARD_FIELDS = ("positions", "species", "cell", "rate", "tau_lc", "tau_sh", "slow")


@dataclass
class ParticleTable:
    """All particles of a dataset, concatenated over shards (row = particle)."""

    features: np.ndarray  # (P, F) float32
    feature_names: list[str]
    ln_tau_lc: np.ndarray  # (P,)
    ln_tau_sh: np.ndarray  # (P,)
    slow: np.ndarray  # (P,) int64
    mobility: np.ndarray  # (P,) first mobility time (NaN if absent)
    species: np.ndarray  # (P,)
    rate: np.ndarray  # (P,) float64
    config_id: np.ndarray  # (P,) int64, global index of the shard
    censored_lc: np.ndarray  # (P,)
    shard_ids: list[str]
    shard_offsets: np.ndarray  # (S+1,) row offsets of each shard
    manifest: dict[str, Any] = field(repr=False)
    root: Path = Path(".")
    descriptor: Mapping[str, Any] | None = None
    estimator: str | None = None  # ICE estimator of ln_tau_lc / ln_tau_sh (None: the shards' stored times)
    horizon: float | None = None  # its common horizon t' (logmean)
    shard_roles: list[str] = field(default_factory=list)  # train | val | test per shard (dataset.splits), else ""

    @property
    def n_shards(self) -> int:
        return len(self.shard_ids)

    def target(self, name: str) -> np.ndarray:
        """Regression target by name: ``ln_tau_lc`` | ``ln_tau_sh`` | ``mobility``."""
        try:
            return {"ln_tau_lc": self.ln_tau_lc, "ln_tau_sh": self.ln_tau_sh, "mobility": self.mobility}[name]
        except KeyError:
            raise ValueError(f"unknown target '{name}'; expected ln_tau_lc, ln_tau_sh or mobility") from None


def verify_shards(root: Path, manifest: Mapping[str, Any]) -> None:
    """Check every shard listed in the manifest exists and matches its checksum."""
    for sh in manifest["shards"]:
        path = root / sh["file"]
        if not path.exists():
            raise DatasetError(f"{path}: shard '{sh['id']}' listed in {root / 'manifest.json'} is missing")
        digest = sha256_file(path)
        if digest != sh["sha256"]:
            raise DatasetError(f"{path}: checksum mismatch (manifest {sh['sha256'][:12]}…, file {digest[:12]}…)")


def load_shard(root: Path, entry: Mapping[str, Any]) -> dict[str, np.ndarray]:
    return load_npz(root / entry["file"], REQUIRED_SHARD_FIELDS)


def target_labels(
    z: Mapping[str, np.ndarray], estimator: str | None, horizon: float | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(ln τ_LC, ln τ_sh, slow)`` of one shard: the times with ``estimator`` at ``horizon``, the classes by
    Eq. 2 on the Kaplan-Meier ICE means at ``horizon`` (module docstring).

    ``estimator=None`` (or a shard without per-replica times): the stored ``tau_lc``, ``tau_sh``, ``slow``.
    """

    if estimator is None or "first_jump_lc" not in z or "first_jump_sh" not in z:
        with np.errstate(divide="ignore"):
            return np.log(z["tau_lc"]), np.log(z["tau_sh"]), z["slow"].astype(np.int64)
    h = float(z["t_max"]) if horizon is None else float(horizon)
    first_lc = np.asarray(z["first_jump_lc"], dtype=np.float64)
    first_sh = np.asarray(z["first_jump_sh"], dtype=np.float64)
    t_lc = ice_estimate(first_lc, h, estimator)[0]
    t_sh = ice_estimate(first_sh, h, estimator)[0]
    if "tau_2" in z:  # Eq. 2 on the ICE means (module docstring), at the same horizon as the targets
        m_lc, m_sh = (t_lc, t_sh) if estimator == "km" else (ice_estimate(first_lc, h)[0], ice_estimate(first_sh, h)[0])
        slow = ((m_lc - m_sh) >= float(z["tau_2"])).astype(np.int64)
    else:
        slow = z["slow"].astype(np.int64)
    with np.errstate(divide="ignore"):
        return np.log(t_lc), np.log(t_sh), slow


def common_horizon(shards: list[Mapping[str, np.ndarray]]) -> float | None:
    """The shortest ``t_max`` of the shards: the horizon at which every shard's label is the same quantity."""
    t = [float(z["t_max"]) for z in shards if "t_max" in z]
    return min(t) if t else None


def load_dataset(
    root: str | Path,
    config: Mapping[str, Any] | None = None,
    descriptor: Mapping[str, Any] | None = None,
    verify: bool = True,
    progress: bool = True,
    estimator: str | None = "logmean",
    horizon: float | None = None,
) -> ParticleTable:
    """Load ``datasets/<name>`` into a :class:`ParticleTable`.

    ``config`` (the dataset-relevant part of the current Hydra config: system,
    dataset, labels) is compared with the manifest; a mismatch raises
    :class:`DatasetError`.  Features follow ``descriptor`` (``src/taulc/conf/descriptor/``)
    and are computed on first use, then cached (:mod:`taulc.data.derived`).
    ``estimator``/``horizon``: the target estimator (module docstring; ``horizon=None``
    is the shortest ``t_max`` of the dataset, ``estimator=None`` the stored times).
    """

    root = Path(root)
    man = read_manifest(root)
    check_compatible(man, root, config)
    if verify:
        verify_shards(root, man)
    feats, names, _ = shard_features(root, man, descriptor, progress=progress)
    cols: dict[str, list[np.ndarray]] = {
        k: [] for k in ("features", "tau_lc", "tau_sh", "slow", "mob", "species", "rate", "cid", "cens")
    }
    offsets = [0]
    shards = [load_shard(root, entry) for entry in man["shards"]]
    if estimator is not None and horizon is None:
        horizon = common_horizon(shards)
    for gid, (entry, z) in enumerate(zip(man["shards"], shards)):
        n = len(z["species"])
        if len(feats[gid]) != n:
            raise DatasetError(
                f"{root / entry['file']}: {n} particles but {len(feats[gid])} descriptor rows in the cache; delete {root / 'cache'}"
            )
        cols["features"].append(feats[gid].astype(np.float32, copy=False))
        ln_lc, ln_sh, slow = target_labels(z, estimator, horizon)
        cols["tau_lc"].append(ln_lc)
        cols["tau_sh"].append(ln_sh)
        cols["slow"].append(slow)
        mob = z.get("mobility")
        cols["mob"].append(mob[0].astype(np.float64) if mob is not None and mob.size else np.full(n, np.nan))
        cols["species"].append(z["species"].astype(np.int64))
        cols["rate"].append(np.full(n, float(z["rate"])))
        cols["cid"].append(np.full(n, gid, dtype=np.int64))
        cols["cens"].append(z.get("censored_lc", np.zeros(n)))
        offsets.append(offsets[-1] + n)
    if not man["shards"]:
        raise DatasetError(f"{root / 'manifest.json'}: the dataset has no shards")
    cat = {k: np.concatenate(v) for k, v in cols.items()}
    ln_lc, ln_sh = cat["tau_lc"], cat["tau_sh"]
    return ParticleTable(
        features=cat["features"],
        feature_names=list(names),
        ln_tau_lc=ln_lc,
        ln_tau_sh=ln_sh,
        slow=cat["slow"],
        mobility=cat["mob"],
        species=cat["species"],
        rate=cat["rate"],
        config_id=cat["cid"],
        censored_lc=cat["cens"],
        shard_ids=[s["id"] for s in man["shards"]],
        shard_offsets=np.asarray(offsets),
        manifest=man,
        root=root,
        descriptor=descriptor,
        estimator=estimator,
        horizon=horizon if estimator is not None else None,
        shard_roles=[str(s.get("split", "")) for s in man["shards"]] if "splits" in man else [],
    )
