"""Entry points as a user starts them (issue 24): ``--version``/``--help`` per script, the ``logger``
group, quiet exact solvers, log lines that do not garble progress bars, the thread policy, and real
processes started in the same second or killed half way (simulate, train, build)."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from taulc.testing.data import TINY_OVERRIDES
from tests.helpers import REPO, console_scripts

SIM_TINY = [
    "system=demo",
    "system.n_atoms=300",
    "system.temperature=0.8",
    "system.equilibration_time=2",
    "system.melt_time=1",
    "progress=false",
    "engine.n_threads=1",
    "protocol=quiescent",
    "protocol.config_interval=1",
]


def _env(**extra: str) -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), *filter(None, [e.get("PYTHONPATH")])])
    e.update(extra)
    return e


def _script(name: str, *args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run console script ``name`` through its [project.scripts] target (the installed script may be another checkout's)."""
    module, func = console_scripts()[name].split(":")
    code = f"import sys; sys.argv = [{name!r}, *sys.argv[1:]]; from {module} import {func}; sys.exit({func}())"
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout
    )


# ------------------------------------------------------------------ --version, --help
def test_every_console_script_has_version(tmp_path: Path) -> None:
    from taulc import __version__

    for name in console_scripts():
        res = _script(name, "--version", cwd=tmp_path)
        assert res.returncode == 0, (name, res.stderr[-2000:])
        assert res.stdout.strip().startswith(f"{name} (taulc {__version__}"), (name, res.stdout)
    assert not list(tmp_path.iterdir())  # --version writes no run directory


def test_help_lists_only_the_scripts_own_groups(tmp_path: Path) -> None:
    sim = _script("taulc-simulate", "--help", cwd=tmp_path).stdout
    train = _script("taulc-train", "--help", cwd=tmp_path).stdout
    groups = {
        txt: {
            ln.split(":")[0]
            for ln in txt.split("== Config groups")[1].split("== Config (")[0].splitlines()
            if ln and not ln.startswith(("(", " ", "="))
        }
        for txt in (sim, train)
    }
    assert groups[sim] == {"system", "protocol"}
    assert {"model", "trainer", "logger", "split", "dataset"} <= groups[train] and "protocol" not in groups[train]
    assert "logger: csv, mlflow, tensorboard, wandb  (default: csv)" in train
    assert not list(tmp_path.iterdir())


# ------------------------------------------------------------------ logger group, quiet exact solvers
def test_logger_group(tmp_path: Path) -> None:
    import importlib.util

    from taulc.errors import ConfigError
    from taulc.models.trainer import build_logger, check_logger_config
    from taulc.testing.data import compose

    csv = compose("train", [])["logger"]
    assert csv["_target_"].endswith("CSVLogger")
    lg = build_logger(csv, tmp_path)
    assert Path(lg.log_dir).resolve().is_relative_to(tmp_path.resolve())
    assert build_logger(None, tmp_path) is False
    assert "logger" not in compose("train", ["~logger"])  # no logger
    for name, module in (("tensorboard", "tensorboard"), ("wandb", "wandb"), ("mlflow", "mlflow")):
        cfg = compose("train", [f"logger={name}"])["logger"]
        if importlib.util.find_spec(module) is None:
            with pytest.raises(ConfigError, match=f"pip install {module}"):
                check_logger_config(cfg)
        else:
            check_logger_config(cfg)


def test_exact_solvers_are_recognised() -> None:
    from taulc.models import DescriptorMLP, LinearSVM, RidgeRegressor
    from taulc.models.trainer import is_exact_solver

    assert is_exact_solver(RidgeRegressor(n_features=3)) and is_exact_solver(LinearSVM(n_features=3))
    assert not is_exact_solver(DescriptorMLP(n_features=3))


# ------------------------------------------------------------------ logging through tqdm
def _render(raw: str) -> list[str]:
    """What a terminal shows: '\\r' returns to column 0 and later characters overwrite earlier ones."""
    lines = []
    for chunk in raw.split("\n"):
        screen = ""
        for part in chunk.split("\r"):
            screen = part + screen[len(part) :]
        lines.append(screen.rstrip())
    return lines


@pytest.mark.parametrize("through_tqdm", [True, False])
def test_log_lines_do_not_garble_progress_bars(through_tqdm: bool) -> None:
    from tqdm import tqdm

    from taulc.utils import install_tqdm_logging

    stream = io.StringIO()
    lg = logging.getLogger(f"taulc.test.tqdm{through_tqdm}")
    lg.propagate, lg.handlers = False, [logging.StreamHandler(sys.stderr)]
    lg.setLevel(logging.INFO)
    assert install_tqdm_logging(lg) == 1 and install_tqdm_logging(lg) == 0  # idempotent
    if not through_tqdm:  # what a plain handler does: the line is written over the bar
        lg.handlers = [logging.StreamHandler(stream)]
    else:
        lg.handlers[0].setStream(stream)
    bar = tqdm(total=3, file=stream, desc="work", mininterval=0, ascii=True)
    bar.update(1)
    lg.info("a log line")
    bar.update(2)
    bar.close()
    shown = _render(stream.getvalue())
    assert ("a log line" in shown) is through_tqdm, shown


# ------------------------------------------------------------------ thread policy
def test_default_threads_share_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    from taulc.utils import available_cores, default_threads

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    n = available_cores()
    assert default_threads() == n and default_threads(n) == 1 and default_threads(10 * n) == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert default_threads() == 1


def test_lammps_engine_takes_its_share(monkeypatch: pytest.MonkeyPatch) -> None:
    from taulc.md import LammpsEngine
    from taulc.md.system import load_system

    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    eng = LammpsEngine(load_system("demo", n_atoms=300))
    assert eng.n_threads in (0, 1)  # 0: a LAMMPS build without OPENMP


# ------------------------------------------------------------------ same second, kill: real processes
def _start(module: str, *args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", module, *args], cwd=cwd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def test_same_second_simulate_runs_get_their_own_directories(tmp_path: Path) -> None:
    """Two runs given one run directory (what two starts in the same second get from
    ``..._%H-%M-%S``): each claims its own, with its own overrides, log and configurations."""
    same = "hydra.run.dir=${taulc_claim:" + str(tmp_path / "out" / "same") + "}"
    procs = [_start("taulc.simulate", *SIM_TINY, "n_configs=1", f"seed={s}", same, cwd=tmp_path) for s in (1, 2)]
    for p in procs:
        out, _ = p.communicate(timeout=300)
        assert p.returncode == 0, out[-3000:]
    dirs = sorted((tmp_path / "out").iterdir())
    assert [d.name for d in dirs] == ["same", "same-1"]
    seeds = set()
    for d in dirs:
        seed = json.loads((d / "summary.json").read_text())["seed"]
        seeds.add(seed)
        assert f"- seed={seed}" in (d / ".hydra" / "overrides.yaml").read_text()
        log = (d / "simulate.log").read_text()
        assert f"random start (seed {seed})" in log and str(d) in log
        assert f"random start (seed {3 - seed})" not in log  # no line of the other run
    assert seeds == {1, 2}


def test_claim_is_stable_within_a_process(tmp_path: Path) -> None:
    from taulc.runs import directory as runs

    base = tmp_path / "r"
    first = runs.claim_new_dir(base)
    assert runs.claim_new_dir(base) == first == base  # Hydra may resolve hydra.run.dir more than once
    runs._CLAIMED.clear()  # a second process
    assert runs.claim_new_dir(base) == tmp_path / "r-1"


def _wait_for(pred, proc: subprocess.Popen[str], timeout: float = 300) -> None:
    t0 = time.time()
    while not pred():
        assert proc.poll() is None, f"finished before it could be killed: {proc.stdout.read()[-2000:]}"
        assert time.time() - t0 < timeout, "timed out"
        time.sleep(0.05)


def test_killed_simulate_leaves_only_whole_files(tmp_path: Path) -> None:
    from taulc.md import read_configuration

    out = tmp_path / "sim"
    p = _start("taulc.simulate", *SIM_TINY, "n_configs=200", f"hydra.run.dir={out}", cwd=tmp_path)
    _wait_for(lambda: len(list((out / "configs").glob("conf_*.extxyz"))) >= 2, p)
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=30)
    confs = sorted((out / "configs").glob("conf_*.extxyz"))
    assert confs and not (out / "summary.json").exists()  # no summary of a run that did not finish
    for c in confs:
        assert read_configuration(c).n_atoms == 300  # every file that exists is whole (atomic writes)


@pytest.mark.slow
def test_same_second_train_runs_and_a_killed_run(tiny_dataset: Path, tmp_path: Path) -> None:
    """Two ``train.py`` processes given one run directory train into two (each train.log only its own
    lines); a third, killed during training, leaves an incomplete run that ``latest`` skips."""
    from taulc.runs import Run, latest_complete

    common = [
        "model=ridge",
        "dataset=demo",
        "descriptor=gl",
        f"data_root={tiny_dataset.parent}",
        "dataset.name=tiny",
        *[o for o in TINY_OVERRIDES if o.startswith(("system.", "dataset.", "labels."))],
        f"results_table={tmp_path / 'results.csv'}",
        "trainer.enable_progress_bar=false",
    ]
    same = "hydra.run.dir=${taulc_claim:" + str(tmp_path / "runs" / "ridge" / "same") + "}"
    procs = [_start("taulc.train", *common, f"seed={s}", same, cwd=tmp_path) for s in (1, 2)]
    for p in procs:
        out, _ = p.communicate(timeout=600)
        assert p.returncode == 0, out[-3000:]
    dirs = sorted((tmp_path / "runs" / "ridge").glob("same*"))
    assert [d.name for d in dirs] == ["same", "same-1"] and all(Run(d).is_complete for d in dirs)
    for d in dirs:
        seed = int([ln for ln in (d / ".hydra" / "overrides.yaml").read_text().splitlines() if "seed=" in ln][0].split("=")[1])
        log = (d / "train.log").read_text()
        assert f"Seed set to {seed}" in log and f"Seed set to {3 - seed}" not in log
        assert "configure_optimizers" not in log and "Total params" not in log  # quiet exact solver
    done = latest_complete(tmp_path / "runs")
    killed = tmp_path / "runs" / "ridge" / "killed"
    p = _start("taulc.train", *common, f"hydra.run.dir={killed}", cwd=tmp_path)
    _wait_for(lambda: "split config" in ((killed / "train.log").read_text() if (killed / "train.log").exists() else ""), p)
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=30)
    assert not Run(killed).is_complete and latest_complete(tmp_path / "runs") == done


@pytest.mark.slow
def test_killed_build_resumes(tmp_path: Path) -> None:
    """``taulc-build`` killed after its first shard, run again: it reuses the cached shard and finishes."""
    args = [
        f"data_root={tmp_path / 'data'}",
        *TINY_OVERRIDES,
        "dataset.rates=[0.0]",
        "dataset.n_configs=2",
        f"hydra.run.dir={tmp_path / 'b1'}",
    ]
    p = _start("taulc.build", *args, cwd=tmp_path)
    cache = tmp_path / "data" / "tiny" / "cache"
    _wait_for(lambda: any(cache.glob("**/*.npz")), p)
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=30)
    assert not (tmp_path / "data" / "tiny" / "manifest.json").exists()
    res = subprocess.run(
        [sys.executable, "-m", "taulc.build", *args[:-1], f"hydra.run.dir={tmp_path / 'b2'}"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    man = json.loads((tmp_path / "data" / "tiny" / "manifest.json").read_text())
    assert len(man["shards"]) == 2
