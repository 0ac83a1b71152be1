"""End-to-end: the whole workflow on config/test.yaml, as a user runs it.

The test config is tiny (N = 64, a few t0), so the physics checks here are loose
sanity checks; the tight physics tests live beside each module.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import REPO, SNAKEMAKE, run_workflow


@pytest.fixture(scope="module")
def first_run(complete_run):
    return complete_run


def test_every_figure_summary_and_manifest_exist(first_run):
    figures = first_run / "results" / "figures"
    names = [
        "energy_conservation", "energy_drift", "acceptance", "msd", "diffusion", "free_particle_msd",
        "phase_mc", "structure_langevin", "mc_vs_langevin", "phase_langevin_p0.0", "phase_langevin_p0.15",
    ]
    for name in names:
        for suffix in (".png", ".pdf"):
            path = figures / f"{name}{suffix}"
            assert path.stat().st_size > 5000, path
    manifest = json.loads((first_run / "results" / "manifest.json").read_text())
    assert "numba_version" in manifest["environment"]
    assert len(manifest["files"]) > 40


def test_manifest_hashes_every_run_file(first_run):
    """The run files are a param of the manifest rule, not inputs (workflow/rules/common.smk):
    it still hashes every run's analysis.json and the state, thermo, trajectory, GSD and
    VACF files of the Langevin, Monte Carlo and NVE runs."""
    files = set(json.loads((first_run / "results" / "manifest.json").read_text())["files"])
    summary = pd.read_csv(first_run / "results" / "summary.csv")
    assert len(summary) > 10
    for run, system in zip(summary["run"], summary["system"]):
        names = ["analysis.json"]
        if system in ("lj", "mc", "nve"):
            names += ["state.nc", "thermo.nc", "trajectory.nc", "trajectory.gsd"]
        if system in ("lj", "nve"):
            names += ["vacf.nc"]
        for name in names:
            assert f"results/{run}/{name}" in files, (run, name)
    assert {"results/summary.csv", "results/study.csv"} <= files


def test_summary_is_sane(first_run):
    summary = pd.read_csv(first_run / "results" / "summary.csv")
    # 4 LJ Langevin + 2 MC + 3 NVE + 2 free + 3 acceptance runs in config/test.yaml
    assert len(summary) == 14
    assert summary["run"].is_unique
    assert np.all(np.isfinite(summary["potential_per_particle"]))
    nve = summary[summary["method"] == "nve"].sort_values("dt")
    # velocity Verlet: E/N fluctuations grow with dt (about dt^2; loose on 2 t0 of 64 disks)
    assert np.all(np.diff(nve["total_rms"].to_numpy()) > 0)
    assert np.all(nve["total_rms"] < 1e-3)
    acc = summary[summary["system"] == "acceptance"].sort_values("move_size")
    assert np.all(np.diff(acc["acceptance"].to_numpy()) < 0)
    lj = summary[summary["system"] == "lj"]
    # the bath sets the kinetic temperature (64 disks over 2 t0: about 0.07 at T* = 1)
    hot = lj[lj["kT"] >= 1.0]
    assert np.allclose(hot["kinetic_temperature"], hot["kT"], atol=0.12)
    # 4 t0 after a quench from T = 5 the T* = 0.2 runs still shed condensation heat:
    # warmer than the bath (0.09 and 0.13 above it here), never colder
    excess = lj.loc[lj["kT"] < 1.0, "kinetic_temperature"] - lj.loc[lj["kT"] < 1.0, "kT"]
    assert np.all((excess > 0.0) & (excess < 0.15))
    performance = pd.read_csv(first_run / "results" / "performance.csv")
    assert set(performance["run"]) == set(summary["run"])
    assert np.all(performance["particle_steps_per_second"] > 0)


def test_second_run_does_nothing(first_run):
    out = run_workflow(first_run)
    assert "Nothing to be done" in out.stdout + out.stderr


def test_report_is_built(first_run):
    """The report builds with only what `pip install -e .` installs (tests/pipeline_only.py
    refuses every module that only the test extras bring), and it includes summary.csv."""
    guard = [sys.executable, str(REPO / "tests" / "pipeline_only.py"), "-m", "snakemake"]
    cmd = guard + ["--snakefile", str(REPO / "Snakefile"), "--directory", str(first_run),
                   "--configfile", str(REPO / "config" / "test.yaml"), "--report", "results/report.html"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    report = first_run / "results" / "report.html"
    assert report.stat().st_size > 100_000
    html = report.read_text()
    assert "summary.csv" in html
    # each polydispersity's snapshot figure has its own caption
    assert "p = 0.0 (diameters" in html and "p = 0.15 (diameters" in html


def test_every_output_has_the_umask_mode(first_run):
    umask = os.umask(0)
    os.umask(umask)
    expected = 0o666 & ~umask
    files = [p for p in (first_run / "results").rglob("*") if p.is_file()]
    wrong = [str(p.relative_to(first_run)) for p in files if (p.stat().st_mode & 0o777) != expected]
    assert not wrong, f"not {oct(expected)}: {wrong[:10]} ({len(wrong)} of {len(files)})"


def test_rerun_is_bit_identical(first_run, complete_run_cache, tmp_path):
    """Same config and seeds, another directory: same data. The first run compiled every
    kernel into an empty numba cache (jobs side by side); this one loads them from it, so
    freshly compiled and cached kernels give the same bits."""
    second = tmp_path / "run2"
    assert any(complete_run_cache.rglob("*.nbc"))
    run_workflow(second, cache=complete_run_cache)
    one = json.loads((first_run / "results" / "manifest.json").read_text())["files"]
    two = json.loads((second / "results" / "manifest.json").read_text())["files"]
    assert one == two
    assert (first_run / "results" / "summary.csv").read_bytes() == (second / "results" / "summary.csv").read_bytes()
    compare = subprocess.run(
        [sys.executable, "-m", "simlib.compare", "--bitwise",
         str(first_run / "results" / "summary.csv"), str(second / "results" / "summary.csv")],
        capture_output=True, text=True,
    )
    assert compare.returncode == 0, compare.stdout


def test_lint_and_format_are_clean():
    lint = subprocess.run(SNAKEMAKE + ["--lint", "--snakefile", str(REPO / "Snakefile")], cwd=REPO,
                          capture_output=True, text=True)
    assert lint.returncode == 0 and "Lints for" not in lint.stdout + lint.stderr, lint.stdout[-3000:]
    fmt = subprocess.run([sys.executable, "-m", "snakefmt", "--check", str(REPO)], capture_output=True, text=True)
    assert fmt.returncode == 0, fmt.stderr[-3000:]
