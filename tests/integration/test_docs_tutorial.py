"""docs/getting-started.md is an executable tutorial: its command blocks run here, in order.

The blocks run in a scratch directory holding links to the repository's ``train.py``,
``evaluate.py`` and ``datasets/`` (the shipped demo), so ``runs/``, ``reports/`` and ``pred/`` land
there. ``pip install`` steps are not run; they must be the README's quickstart commands. A block
preceded by ``<!-- tutorial: slow -->`` (the evaluation report, a few minutes on 2 cores) runs only
in the ``slow`` selection; one preceded by ``<!-- tutorial: readme -->`` (the test-suite command,
which CI runs anyway) is not run but must appear verbatim in the README. Console scripts are run
through their ``[project.scripts]`` targets.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import REPO, console_scripts

PAGE = REPO / "docs" / "getting-started.md"
SLOW_MARK = "<!-- tutorial: slow -->"
README_MARK = "<!-- tutorial: readme -->"
_BLOCK = re.compile(r"^```(bash|python)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def tutorial_blocks(text: str) -> list[tuple[str, str, str]]:
    """(language, code, mark) for every bash/python block of the page, in order; mark is the
    ``<!-- tutorial: ... -->`` comment right above the block, or ''."""
    out = []
    for m in _BLOCK.finditer(text):
        before = text[: m.start()].rstrip().splitlines()
        mark = before[-1].strip() if before and before[-1].strip() in (SLOW_MARK, README_MARK) else ""
        out.append((m.group(1), m.group(2), mark))
    return out


def argv_for(words: list[str]) -> list[str]:
    """A tutorial command as an argv for this interpreter (``python`` / console scripts)."""
    if words[0] == "python":
        return [sys.executable, *words[1:]]
    scripts = console_scripts()
    if words[0] in scripts:
        module, func = scripts[words[0]].split(":")
        return [sys.executable, "-c", f"import sys; from {module} import {func}; sys.exit({func}())", *words[1:]]
    raise AssertionError(f"tutorial command {words[0]!r} is neither python nor a taulc console script")


def env() -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), *filter(None, [e.get("PYTHONPATH")])])
    e.setdefault("OMP_NUM_THREADS", "1")
    return e


def run_tutorial(workdir: Path, include_slow: bool) -> dict[str, str]:
    """Run the page's commands in ``workdir``; returns {command: stdout} of each command run."""
    for name in ("train.py", "evaluate.py", "datasets"):
        (workdir / name).symlink_to(REPO / name)
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    outputs: dict[str, str] = {}
    for lang, code, mark in tutorial_blocks(PAGE.read_text(encoding="utf-8")):
        if mark == README_MARK:
            assert code.strip() in readme, f"tutorial block {code.strip()!r} is not the README's"
            continue
        if mark == SLOW_MARK and not include_slow:
            continue
        if lang == "python":
            commands = [[sys.executable, "-c", code]]
        else:
            commands = []
            for line in code.splitlines():
                for step in (s.strip() for s in line.split("#", 1)[0].split("&&")):
                    if not step:
                        continue
                    if step.startswith("pip install"):
                        assert step in readme, f"tutorial install step {step!r} differs from the README"
                        continue
                    commands.append(argv_for(shlex.split(step)))
        for argv in commands:
            proc = subprocess.run(argv, cwd=workdir, env=env(), capture_output=True, text=True, timeout=900)
            shown = " ".join(argv[1:])[:200]
            assert proc.returncode == 0, f"tutorial step `{shown}` failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            outputs[shown] = proc.stdout
    return outputs


def test_tutorial_parser() -> None:
    text = (
        "# t\n\n```bash\npip install x && python a.py k=v   # note\n```\n\n<!-- tutorial: slow -->\n"
        "```bash\npython b.py\n```\n<!-- tutorial: readme -->\n```bash\npython -m pytest\n```\n"
    )
    assert tutorial_blocks(text) == [
        ("bash", "pip install x && python a.py k=v   # note\n", ""),
        ("bash", "python b.py\n", SLOW_MARK),
        ("bash", "python -m pytest\n", README_MARK),
    ]
    assert {"taulc-train", "taulc-evaluate", "taulc-predict", "taulc-build", "taulc-simulate"} <= set(console_scripts())


_OUTPUT = re.compile(r"^<!-- output: (.+?) -->\n```[a-z]*\n(.*?)^```", re.MULTILINE | re.DOTALL)


def documented_outputs() -> list[tuple[str, str, list[str]]]:
    """(page, command, lines) of every docs block marked ``<!-- output: COMMAND -->``: sample output
    that must be what the command prints (issue 24: no invented output lines in the docs)."""
    out = []
    for page in sorted((REPO / "docs").rglob("*.md")):
        for m in _OUTPUT.finditer(page.read_text(encoding="utf-8")):
            out.append((str(page.relative_to(REPO)), m.group(1).strip(), m.group(2).rstrip("\n").splitlines()))
    return out


def _check_documented_outputs(outputs: dict[str, str]) -> None:
    """Every marked sample output whose command the tutorial ran is, line for line, in its stdout."""
    checked = 0
    for page, command, lines in documented_outputs():
        words = shlex.split(command)
        key = " ".join(words[1:] if words[0] == "python" else words)
        ran = {k.removeprefix("-c import sys; "): v for k, v in outputs.items()}
        if key not in ran:
            continue
        printed = [ln.rstrip() for ln in ran[key].splitlines()]
        missing = [ln for ln in lines if ln.rstrip() not in printed]
        assert not missing, f"{page}: sample output of `{command}` that the command does not print: {missing}"
        checked += 1
    assert checked >= 1, "no documented sample output was checked against a run"


def test_every_documented_output_names_a_tutorial_command() -> None:
    """A marked sample output must be checkable: its command is one the tutorial runs."""
    tutorial = PAGE.read_text(encoding="utf-8")
    for page, command, lines in documented_outputs():
        assert lines and command in tutorial, f"{page}: `{command}` is not run by docs/getting-started.md"


def _check_train_and_predict(workdir: Path, outputs: dict[str, str]) -> None:
    train_out = next(v for k, v in outputs.items() if k.startswith("train.py"))
    m = re.search(r"=> within-rate species 0 \(big\) Pearson (-?[0-9.]+) \(ceiling ([0-9.]+)", train_out)
    assert m, train_out[-2000:]
    # The hardness ranks big particles by ln tau_LC within each shear rate on held-out configurations (the honest
    # score; measured 0.411 on the default dataset with the Eq. 2 classes on the ICE means, ceiling 0.885; issue 25's bar
    # is 0.3 at every sheared rate).
    assert 0.3 < float(m.group(1)) < float(m.group(2))
    run = (workdir / "runs" / "svm" / "latest").resolve()
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["model"] == "LinearSVM" and metrics["split"]["kind"] == "config"
    assert (run / "predictor.pt").is_file()
    # taulc-predict on the exported demo configuration: one 1500-particle frame with finite H.
    from ase.io import read

    atoms = read(workdir / "pred" / "demo_conf.taulc.extxyz")
    h = np.asarray(atoms.arrays["H"], dtype=float)
    assert len(atoms) == 1500 and np.isfinite(h).all()
    with open(workdir / "pred" / "demo_conf.taulc.csv", newline="") as fh:
        row = next(csv.DictReader(fh))
    assert np.isclose(float(row["p_H"]), np.mean(h > 0)) and np.isclose(float(row["H_mean"]), h.mean(), rtol=1e-4)


def test_getting_started_tutorial_runs(tmp_path: Path) -> None:
    """The default-selection part of the tutorial: train the SVM, write a file, predict it."""
    outputs = run_tutorial(tmp_path, include_slow=False)
    _check_train_and_predict(tmp_path, outputs)
    _check_documented_outputs(outputs)


@pytest.mark.slow
def test_getting_started_tutorial_runs_with_report(tmp_path: Path) -> None:
    """The whole tutorial, including `python evaluate.py` and its hardness maps."""
    outputs = run_tutorial(tmp_path, include_slow=True)
    _check_train_and_predict(tmp_path, outputs)
    reports = sorted((tmp_path / "reports").glob("*/report"))
    assert reports and (reports[-1] / "report.md").is_file()
    assert (reports[-1] / "figures" / "hardness_maps.png").stat().st_size > 10_000
