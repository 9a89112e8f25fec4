"""Applicability of a predictor: how far an input frame is from the state the model was trained on.

A model learnt on one thermodynamic state (species fractions, density, temperature,
shear-rate range of its dataset) returns numbers for any configuration, including
ones it has never seen: a swapped LAMMPS type map (80 % "small" particles), a denser
or hotter liquid, a single atom.  Those numbers are meaningless, so every frame is
compared with the training domain the bundle records (``bundle["domain"]``,
written by :func:`training_domain`) and gets these columns (CSV and extxyz header):

``fraction_small``  fraction of species 1; warned when it differs from training by more than
                    :data:`COMPOSITION_TOL` (and called a *swapped type map* when it matches
                    1 - training fraction instead);
``density``         N/V, warned beyond a relative :data:`DENSITY_TOL`;
``temperature``     kinetic temperature m<|v - γ̇y x̂|²>/3 when the file has velocities (extxyz ``velo``,
                    dump ``vx vy vz``, gsd velocities; rotated with an xz / yz frame), warned beyond a
                    relative :data:`TEMPERATURE_TOL`; ``temperature_recorded``: a temperature the file
                    records (``temperature=``/``T=`` in an xyz comment, taulc's metadata, HOOMD's
                    logged ``kinetic_temperature``), checked the same way;
``rate``            shear rate when the frame records one, warned outside the training range;
``descriptor_z``    RMS over descriptor columns of the z-score (frame mean - training mean) /
                    training std (the feature scaler the model declares, ``feature_scaler()``), warned above
                    :data:`DESCRIPTOR_Z_FACTOR` times the largest value of the training
                    configurations (``descriptor_z_max``, recorded at export), at least 1;
``structure_z``     RMS z-score of the frame-mean radial structure (g_0^0(s, r) for r = 0.7 .. 2.5, per
                    centre species; :data:`STRUCTURE_DESCRIPTOR`) against every training configuration's
                    particles, for **every** bundle kind (GNNs included), warned above
                    :data:`STRUCTURE_Z_FACTOR` times the largest value of the training configurations
                    (``structure.z_max``), at least :data:`STRUCTURE_Z_MIN`: a crystal, a hot liquid, another
                    density are caught whatever features the model reads;
``score_outside``   fraction of particles whose score (the model's declared score output: H, a logit or the
                    predicted ln τ) lies outside
                    the central 99 % of the scores of every dataset configuration (descriptor
                    models; the test split for graph-only GNNs), widened by
                    :data:`SCORE_MARGIN` of its span on each side, warned above :data:`SCORE_OUTSIDE_MAX`;
``in_domain``       1 when nothing was warned.

The tolerances are deliberately loose: a frame of the training state itself never
triggers them (tested on the shipped demo dataset), while the failures listed above do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from taulc.structure.features import featurize

if TYPE_CHECKING:
    from taulc.models.outputs import Output

__all__ = [
    "Domain",
    "training_domain",
    "structure_features",
    "structure_reference",
    "COMPOSITION_TOL",
    "DENSITY_TOL",
    "TEMPERATURE_TOL",
    "DESCRIPTOR_Z_MAX",
    "DESCRIPTOR_Z_FACTOR",
    "SCORE_OUTSIDE_MAX",
    "SCORE_MARGIN",
    "STRUCTURE_DESCRIPTOR",
    "STRUCTURE_Z_FACTOR",
    "STRUCTURE_Z_MIN",
]

COMPOSITION_TOL = 0.05
"""Absolute tolerance on the fraction of small particles."""
DENSITY_TOL = 0.02
"""Relative tolerance on N/V (the descriptors shift by ~10 % of their spread per 1 % density change)."""
TEMPERATURE_TOL = 0.10
"""Relative tolerance on the kinetic temperature (one frame of N particles fluctuates by ~sqrt(2/3N))."""
DESCRIPTOR_Z_MAX = 2.0
"""Largest RMS z-score of the frame-mean descriptors when the bundle records no training value (demo frames:
0.33-0.69; a swapped type map: 87, ρ = 1.38 instead of 1.2: 12.5, one atom: 59; SVM bundle trained on the demo)."""
DESCRIPTOR_Z_FACTOR = 2.0
"""With the largest z of the training configurations recorded (``descriptor_z_max``), the limit is this many
times it, at least 1: every training frame passes, and the cases above are 18-130 times the demo's value."""
SCORE_OUTSIDE_MAX = 0.10
"""Largest fraction of particles with scores outside the training range (widened by :data:`SCORE_MARGIN`)."""
SCORE_MARGIN = 1.0
"""The accepted score range is the central 99 % of the training scores widened by this fraction of its span on
each side (per-rate means of H move by several units between γ̇ = 0 and 0.1; a GNN's range comes from its test
split only, which may not cover every rate)."""

STRUCTURE_DESCRIPTOR: dict[str, Any] = {
    "families": {"gl": {"lm": [[0, 0]], "r_min": 0.7, "r_max": 2.5, "dr": 0.1, "delta": 0.1, "generations": 0}},
    "dtype": "float64",
}
"""The model-independent structure fingerprint: per-particle radial densities g_0^0(s, r), r = 0.7 .. 2.5 (first and
second neighbour shells), both neighbour species; reach 2.8 (no coarse-graining)."""
STRUCTURE_Z_FACTOR = 2.0
"""The structure limit is this many times the largest ``structure_z`` of the training configurations ..."""
STRUCTURE_Z_MIN = 0.5
"""... and at least this (a frame mean one training standard deviation of the particles away, RMS over columns)."""
_SCALE_FLOOR = 0.05
"""Per-column standard deviations below this fraction of the median are raised to it (columns nobody reaches)."""


def structure_features(positions: np.ndarray, species: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Per-particle structure fingerprint (N, F) of :data:`STRUCTURE_DESCRIPTOR` (vectorised, chunked pairs)."""

    x, _ = featurize(positions, species, cell, STRUCTURE_DESCRIPTOR)
    return np.asarray(x, dtype=np.float64)


def _structure_z(mean: np.ndarray, scale: np.ndarray, x: np.ndarray, species: np.ndarray) -> float | None:
    """RMS over (centre species, column) of (frame mean - training mean) / training std of the particles."""
    zs = []
    for s in (0, 1):
        sel = species == s
        if sel.any() and np.all(np.isfinite(mean[s])):
            zs.append((x[sel].mean(axis=0) - mean[s]) / scale[s])
    if not zs:
        return None
    z = np.concatenate(zs)
    return float(np.sqrt(np.mean(z * z)))


def structure_reference(frames: Any) -> dict[str, Any]:
    """``domain["structure"]`` of a bundle from training configurations ``[(positions, species, cell), ...]``:
    per-centre-species mean and std of the fingerprint over all their particles, and the largest frame z."""
    xs, sps = [], []
    for pos, sp, cell in frames:
        xs.append(structure_features(pos, sp, cell))
        sps.append(np.asarray(sp))
    if not xs:
        return {}
    x, sp = np.concatenate(xs), np.concatenate(sps)
    f = x.shape[1]
    mean = np.full((2, f), np.nan)
    scale = np.ones((2, f))
    for s in (0, 1):
        if (sp == s).sum() > 1:
            mean[s] = x[sp == s].mean(axis=0)
            sd = x[sp == s].std(axis=0)
            scale[s] = np.maximum(sd, _SCALE_FLOOR * float(np.median(sd[sd > 0])) if np.any(sd > 0) else 1.0)
    zmax = max(_structure_z(mean, scale, xi, si) or 0.0 for xi, si in zip(xs, sps))
    return {
        "descriptor": STRUCTURE_DESCRIPTOR,
        "mean": mean.tolist(),
        "scale": scale.tolist(),
        "z_max": zmax,
        "n_configurations": len(xs),
    }


def training_domain(
    c: Mapping[str, Any], manifest: Mapping[str, Any] | None, pred: Mapping[str, np.ndarray], score: Output
) -> dict[str, Any]:
    """The ``domain`` field of a bundle: system state, rate range, training score range (of the declared ``score``
    output in the test predictions ``pred``), particles used."""
    system = c.get("system") or {}
    out: dict[str, Any] = {
        "fraction_small": system.get("fraction_small"),
        "density": system.get("density"),
        "temperature": system.get("temperature"),
        "n_atoms": system.get("n_atoms"),
        "species": (c.get("data") or {}).get("species", "all"),
    }
    if manifest and manifest.get("shards"):
        rates = [float(s["rate"]) for s in manifest["shards"]]
        out["rates"] = [min(rates), max(rates)]
    v = np.asarray(pred.get(score.key, []), dtype=float)
    v = v[np.isfinite(v)]
    if v.size >= 10:
        lo, hi = np.percentile(v, [0.5, 99.5])
        out["score"] = {"name": score.name, "lo": float(lo), "hi": float(hi)}
    return out


@dataclass
class Domain:
    """The training domain of a bundle and the per-frame assessment (see the module docstring)."""

    fraction_small: float | None = None
    density: float | None = None
    temperature: float | None = None
    rates: tuple[float, float] | None = None
    score: dict[str, Any] | None = None
    species: str = "all"
    feature_mean: np.ndarray | None = None
    feature_scale: np.ndarray | None = None
    recorded: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    structure: dict[str, Any] | None = None

    @classmethod
    def from_bundle(cls, bundle: Mapping[str, Any], scaler: Mapping[str, np.ndarray] | None = None) -> Domain:
        """The bundle's recorded domain; ``scaler``: the model's feature scaler (``mean``, ``scale``; None: no
        descriptor check), :meth:`taulc.predict.Predictor.scaler`."""
        d = dict(bundle.get("domain") or {})
        mean = scale = None
        if scaler:
            mean, scale = np.asarray(scaler["mean"], dtype=float), np.asarray(scaler["scale"], dtype=float)
        r = d.get("rates")
        return cls(
            d.get("fraction_small"),
            d.get("density"),
            d.get("temperature"),
            (float(r[0]), float(r[1])) if r else None,
            d.get("score"),
            str(d.get("species", "all")),
            mean,
            scale,
            bool(d),
            {k: d[k] for k in ("descriptor_z_max",) if d.get(k) is not None},
            d.get("structure") or None,
        )

    @property
    def structure_limit(self) -> float:
        z = float((self.structure or {}).get("z_max") or 0.0)
        return max(STRUCTURE_Z_MIN, STRUCTURE_Z_FACTOR * z)

    def structure_z(self, positions: np.ndarray | None, species: np.ndarray, cell: np.ndarray) -> float | None:
        """Distance of the frame's radial structure from the training configurations' (None without a reference)."""
        st = self.structure
        if not st or positions is None or st.get("descriptor") != STRUCTURE_DESCRIPTOR:
            return None
        x = structure_features(positions, species, cell)
        return _structure_z(np.asarray(st["mean"], dtype=float), np.asarray(st["scale"], dtype=float), x, species)

    @property
    def descriptor_limit(self) -> float:
        zmax = self.extra.get("descriptor_z_max")
        return DESCRIPTOR_Z_MAX if zmax is None else max(1.0, DESCRIPTOR_Z_FACTOR * float(zmax))

    def descriptor_z(self, x: np.ndarray | None, species: np.ndarray) -> float | None:
        """RMS over columns of (frame-mean descriptor - training mean) / training std, over the trained species."""
        if x is None or self.feature_mean is None or x.shape[1] != self.feature_mean.shape[0]:
            return None
        sel = {"big": species == 0, "small": species == 1}.get(self.species, np.ones(len(species), dtype=bool))
        if not sel.any():
            return None
        z = (np.asarray(x, dtype=float)[sel].mean(axis=0) - self.feature_mean) / np.where(
            self.feature_scale > 0, self.feature_scale, 1.0
        )
        return float(np.sqrt(np.mean(z * z)))

    def assess(
        self,
        species: np.ndarray,
        cell: np.ndarray,
        x: np.ndarray | None,
        values: Mapping[str, np.ndarray],
        *,
        temperature: float | None = None,
        rate: float | None = None,
        recorded_temperature: tuple[float, str] | None = None,
        positions: np.ndarray | None = None,
    ) -> tuple[dict[str, Any], list[str]]:
        """Per-frame distances from the domain (CSV columns) and the warnings, each saying what to do."""
        n = len(species)
        frac = float(np.mean(species == 1)) if n else float("nan")
        rho = n / abs(float(np.linalg.det(cell)))
        row: dict[str, Any] = {"fraction_small": frac, "density": rho}
        warn: list[str] = []
        if not self.recorded:
            return row, ["the bundle records no training domain (written by an older taulc); re-export it to get checks"]
        if self.fraction_small is not None:
            f0 = float(self.fraction_small)
            if abs(frac - f0) > COMPOSITION_TOL:
                if abs(frac - (1.0 - f0)) <= COMPOSITION_TOL:
                    warn.append(
                        f"composition: {frac:.1%} small particles where training had {f0:.1%}: the type map "
                        "looks swapped (type 1 = small here); pass --species-map 1=1,2=0 (or LABEL=0/1)"
                    )
                else:
                    warn.append(
                        f"composition: {frac:.1%} small particles, training had {f0:.1%}; check --species-map "
                        "(0 = big, 1 = small) or use a model trained on this mixture"
                    )
        if self.density is not None and abs(rho / float(self.density) - 1.0) > DENSITY_TOL:
            warn.append(
                f"density: N/V = {rho:.4g}, training density {float(self.density):g} (tolerance "
                f"{DENSITY_TOL:.0%}); the input is in other units or another state point - rescale lengths to "
                "LJ units of sigma_bb or use a model trained at this density"
            )
        if temperature is not None:
            row["temperature"] = temperature
            if self.temperature is not None and abs(temperature / float(self.temperature) - 1.0) > TEMPERATURE_TOL:
                warn.append(
                    f"temperature: kinetic T = {temperature:.3g} from the velocities, training T = "
                    f"{float(self.temperature):g} (tolerance {TEMPERATURE_TOL:.0%}); use a model trained at this T"
                )
        if recorded_temperature is not None:
            t_rec, key = recorded_temperature
            row["temperature_recorded"] = t_rec
            if self.temperature is not None and abs(t_rec / float(self.temperature) - 1.0) > TEMPERATURE_TOL:
                warn.append(
                    f"temperature: the file records {key} = {t_rec:g}, training T = {float(self.temperature):g} "
                    f"(tolerance {TEMPERATURE_TOL:.0%}); use a model trained at this T"
                )
        if rate is not None:
            row["rate"] = float(rate)
            if self.rates is not None:
                lo, hi = self.rates
                if not (lo * (1 - 1e-6) - 1e-12 <= rate <= hi * (1 + 1e-6) + 1e-12):
                    warn.append(
                        f"shear rate {rate:g} is outside the training range [{lo:g}, {hi:g}]; the prediction is an extrapolation"
                    )
        dz = self.descriptor_z(x, species)
        if dz is not None:
            row["descriptor_z"] = dz
            limit = self.descriptor_limit
            if dz > limit:
                warn.append(
                    f"structure: descriptors are {dz:.2f} training standard deviations (RMS) from the "
                    f"training mean (limit {limit:.3g}); this is not the liquid the model learnt"
                )
        sz = self.structure_z(positions, species, cell)
        if sz is not None:
            row["structure_z"] = sz
            if sz > self.structure_limit:
                warn.append(
                    f"structure: the radial structure g(r) is {sz:.2f} training standard deviations (RMS) from "
                    f"the training configurations' (limit {self.structure_limit:.3g}); not the liquid the model "
                    "learnt (a crystal, another temperature or density?)"
                )
        if self.score and self.score.get("name") in values:
            v = np.asarray(values[self.score["name"]], dtype=float)
            lo, hi = float(self.score["lo"]), float(self.score["hi"])
            lo, hi = lo - SCORE_MARGIN * (hi - lo), hi + SCORE_MARGIN * (hi - lo)
            out = float(np.mean((v < lo) | (v > hi)))
            row["score_outside"] = out
            if out > SCORE_OUTSIDE_MAX:
                warn.append(
                    f"scores: {out:.0%} of the particles have {self.score['name']} outside the training range "
                    f"[{lo:.3g}, {hi:.3g}] (mean {float(np.mean(v)):.3g}); the prediction is an extrapolation"
                )
        row["in_domain"] = int(not warn)
        return row, warn
