"""GPU checks of the batched OpenMM engine (skipped without OpenMM's CUDA platform).

Run by ``bench/device_check.sh`` on a GPU machine; they need neither LAMMPS nor
Hydra: the CUDA platform (mixed precision) is compared with OpenMM's float64
Reference platform, which ``test_md_openmm.py`` ties to LAMMPS on the CPU.
"""

from __future__ import annotations

import numpy as np
import pytest

mm = pytest.importorskip("openmm")
torch = pytest.importorskip("torch")

_PLATFORMS = {mm.Platform.getPlatform(i).getName() for i in range(mm.Platform.getNumPlatforms())}
pytestmark = pytest.mark.skipif(
    "CUDA" not in _PLATFORMS or not torch.cuda.is_available(), reason="needs OpenMM's CUDA platform and a GPU"
)

from taulc.dynamics.cage_jumps import first_jump_frames  # noqa: E402
from taulc.dynamics.cage_jumps_torch import first_jump_frames_torch  # noqa: E402
from taulc.md.configuration import Configuration  # noqa: E402
from taulc.md.engine import replica_seeds  # noqa: E402
from taulc.md.openmm_engine import OpenMMEngine  # noqa: E402
from taulc.md.system import SystemSpec  # noqa: E402
from taulc.paths import REPO_ROOT  # noqa: E402

DEMO = dict(name="demo", n_atoms=1500, density=1.2, temperature=0.6)


def _conf(shard: str) -> Configuration:
    z = np.load(REPO_ROOT / "datasets" / "demo" / "shards" / f"{shard}.npz")
    return Configuration(z["positions"].astype(float), z["species"].astype(np.int64), z["cell"].astype(float), None, {})


@pytest.mark.parametrize("mode", ["global", "per_pair"])
def test_cuda_energy_forces_equal_reference(mode):
    conf = _conf("r1.000e-01_c000")  # tilted cell
    system = SystemSpec(**DEMO, cutoff_mode=mode)
    pe_r, f_r = OpenMMEngine(system, platform="Reference").energy_forces(conf)
    pe_c, f_c = OpenMMEngine(system, device="cuda", precision="double").energy_forces(conf)
    assert abs(pe_c - pe_r) <= 1e-6 * abs(pe_r)
    assert np.abs(f_c - f_r).max() <= 1e-6 * np.abs(f_r).max()
    pe_m, f_m = OpenMMEngine(system, device="cuda", precision="mixed").energy_forces(conf)
    assert abs(pe_m - pe_r) <= 1e-5 * abs(pe_r)
    assert np.abs(f_m - f_r).max() <= 1e-4 * np.abs(f_r).max()


@pytest.mark.parametrize("rate", [0.0, 0.1])
def test_cuda_batch_follows_reference_and_holds_temperature(rate):
    """Short run: CUDA (double) trajectories equal the Reference platform's; a 10 τ run holds T."""
    conf = _conf("r1.000e-01_c000")
    system = SystemSpec(**DEMO)
    seeds = replica_seeds(3, 4)
    ref = OpenMMEngine(system, platform="Reference").ice_batch(conf, seeds[:1], rate, 0.05, sample_every=5)
    gpu = OpenMMEngine(system, device="cuda", precision="double")
    got = gpu.ice_batch(conf, seeds[:1], rate, 0.05, sample_every=5)
    np.testing.assert_allclose(got.nonaffine.cpu().numpy(), ref.nonaffine.numpy(), atol=1e-7)
    long = OpenMMEngine(system, device="cuda").ice_batch(conf, seeds, rate, 10.0, sample_every=20)
    assert long.nonaffine.device.type == "cuda"
    late = long.temperature[:, long.times > 2.0]
    assert late.mean() == pytest.approx(system.temperature, rel=0.02)


def test_cuda_first_jumps_match_numpy():
    rng = np.random.default_rng(0)
    x = np.cumsum(rng.normal(0.0, 0.04, (4, 600, 500, 3)), axis=1)
    ref = np.stack([first_jump_frames(x[b], 0.057) for b in range(4)])
    got = first_jump_frames_torch(torch.as_tensor(x, device="cuda"), 0.057).cpu().numpy()
    # parallel prefix sums round differently: allow a cut on a near-tie to move
    assert (got == ref).mean() >= 0.999
