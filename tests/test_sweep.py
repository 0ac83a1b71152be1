"""Sweeps are incremental: after a complete run of config/test.yaml, an edited config plans
exactly the jobs whose outputs the edit changes (`snakemake -n`, parsed job counts).

The test config has seeds [7], LJ temperatures [0.2, 1.0] x polydispersities [0.0, 0.15],
NVE dts [0.001, 0.002, 0.004], MC temperatures [0.2, 1.0], acceptance at T 0.2 over move
sizes [0.05, 0.15, 0.5], and free particles with both schemes.
"""

import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from conftest import REPO, SNAKEMAKE, run_workflow

SIMULATIONS = {
    "lj_quench", "lj_langevin", "soft_quench", "soft_equilibrate", "soft_nve", "mc_quench",
    "mc_production", "mc_acceptance", "free_particle",
}
AGGREGATES = {"summary": 1, "manifest": 1}


def planned(workdir, tmp_path, edit):
    """Job counts per rule of a dry run of the test config changed by ``edit``."""
    config = yaml.safe_load((REPO / "config" / "test.yaml").read_text())
    edit(config)
    path = tmp_path / "edited.yaml"
    path.write_text(yaml.safe_dump(config))  # sorted keys: key order must not matter
    out = subprocess.run(
        SNAKEMAKE + ["-n", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
                     "--configfile", str(path)],
        capture_output=True, text=True, timeout=600,
    )
    text = out.stdout + out.stderr
    assert out.returncode == 0, text[-3000:]
    if "Nothing to be done" in text:
        return {}
    table = re.search(r"Job stats:\n.*?\n-+\s+-+\n(.*?)\ntotal", text, re.S).group(1)
    jobs = dict((line.split()[0], int(line.split()[1])) for line in table.splitlines() if line.strip())
    jobs.pop("all", None)
    return jobs


def test_unchanged_config_plans_nothing(complete_run, tmp_path):
    assert planned(complete_run, tmp_path, lambda c: None) == {}


@pytest.mark.parametrize("edit, expected", [
    pytest.param(
        lambda c: c["lj_langevin"]["temperatures"].append(0.6),
        {"lj_langevin": 2, "analyse_lj": 2, "study_family": 1, "fig_phase_langevin": 2, "fig_msd": 1,
         "fig_structure": 1, "fig_diffusion": 1},
        id="lj_langevin.temperatures"),
    pytest.param(
        lambda c: c["lj_langevin"]["polydispersities"].append(0.3),
        {"lj_quench": 1, "lj_langevin": 2, "analyse_lj": 2, "study_family": 1, "fig_phase_langevin": 1,
         "fig_diffusion": 1},
        id="lj_langevin.polydispersities"),
    pytest.param(
        lambda c: c["soft_md"]["drift_dts"].append(0.008),
        {"soft_nve": 1, "analyse_nve": 1, "study_family": 1, "fig_drift": 1},
        id="soft_md.drift_dts"),
    pytest.param(
        lambda c: c["lj_mc"]["temperatures"].append(0.6),
        {"mc_production": 1, "analyse_mc": 1, "study_family": 1, "fig_phase_mc": 1},
        id="lj_mc.temperatures"),
    pytest.param(
        lambda c: c["lj_mc"]["acceptance"]["move_sizes"].append(0.3),
        {"mc_acceptance": 1, "analyse_acceptance": 1, "study_family": 1, "fig_acceptance": 1},
        id="lj_mc.acceptance.move_sizes"),
    pytest.param(
        lambda c: c["seeds"].append(8),
        {"lj_quench": 2, "lj_langevin": 4, "analyse_lj": 4, "soft_quench": 1, "soft_equilibrate": 1,
         "soft_nve": 3, "analyse_nve": 3, "mc_quench": 1, "mc_production": 2, "analyse_mc": 2,
         "mc_acceptance": 3, "analyse_acceptance": 3, "free_particle": 2, "analyse_free": 2,
         "study_family": 5, "fig_drift": 1, "fig_acceptance": 1, "fig_diffusion": 1},
        id="seeds"),
])
def test_adding_a_value_plans_only_its_runs(complete_run, tmp_path, edit, expected):
    assert planned(complete_run, tmp_path, edit) == {**expected, **AGGREGATES}


def test_adding_a_free_particle_scheme_plans_only_its_run(complete_run, tmp_path):
    """The complete run has both schemes: a copy is completed with Euler alone, then BAOAB
    is added back."""
    copy = tmp_path / "copy"
    shutil.copytree(complete_run, copy, symlinks=True)
    shutil.rmtree(copy / "results" / "free" / "seed7" / "baoab")
    euler_only = yaml.safe_load((REPO / "config" / "test.yaml").read_text())
    euler_only["free_particle"]["schemes"] = ["euler"]
    (tmp_path / "euler.yaml").write_text(yaml.safe_dump(euler_only))
    run_workflow(copy, configfile=tmp_path / "euler.yaml", cores=2)
    jobs = planned(copy, tmp_path, lambda c: None)
    assert jobs == {"free_particle": 1, "analyse_free": 1, "study_family": 1, "fig_free_particle": 1,
                    **AGGREGATES}


@pytest.mark.parametrize("edit", [
    pytest.param(lambda c: c["lj_langevin"]["temperatures"].pop(), id="lj_langevin.temperatures"),
    pytest.param(lambda c: c["soft_md"]["drift_dts"].pop(), id="soft_md.drift_dts"),
    pytest.param(lambda c: c["lj_mc"]["acceptance"]["move_sizes"].pop(0), id="move_sizes"),
    pytest.param(lambda c: c["free_particle"]["schemes"].pop(), id="free_particle.schemes"),
])
def test_removing_a_value_simulates_nothing(complete_run, tmp_path, edit):
    jobs = planned(complete_run, tmp_path, edit)
    assert jobs, "the aggregates must be redone without the removed run"
    assert not set(jobs) & SIMULATIONS, jobs
    assert not any(rule.startswith("analyse") for rule in jobs), jobs


def test_an_analysis_setting_reruns_analyses_not_simulations(complete_run, tmp_path):
    jobs = planned(complete_run, tmp_path, lambda c: c["analysis"]["rdf"].update(bins=60))
    assert not set(jobs) & SIMULATIONS, jobs
    assert jobs["analyse_lj"] == 4 and jobs["analyse_mc"] == 2 and jobs["analyse_nve"] == 3
    assert jobs["summary"] == 1 and jobs["fig_structure"] == 1


def test_checkpoint_interval_reruns_nothing(complete_run, tmp_path):
    assert planned(complete_run, tmp_path, lambda c: c.update(checkpoint_seconds=5)) == {}


def test_a_stage_parameter_reruns_exactly_its_runs_and_what_follows(complete_run, tmp_path):
    jobs = planned(complete_run, tmp_path, lambda c: c["lj_langevin"]["production"].update(duration=6.0))
    assert jobs["lj_langevin"] == 4 and jobs["analyse_lj"] == 4
    assert not set(jobs) & (SIMULATIONS - {"lj_langevin"}), jobs
    assert not {"analyse_mc", "analyse_nve", "analyse_free", "analyse_acceptance"} & set(jobs), jobs
    assert {"fig_phase_langevin", "fig_msd", "fig_structure", "fig_diffusion", "fig_mc_vs_langevin",
            "summary", "manifest"} <= set(jobs)


def test_every_run_records_its_set_point(complete_run):
    """summary.csv's identifying columns come from the set-points the stages recorded."""
    summary = pd.read_csv(complete_run / "results" / "summary.csv")
    lj = summary[summary["system"] == "lj"].set_index("run")
    assert lj.loc["lj/p0.15/seed7/T1.0", ["kT", "polydispersity", "seed", "n", "box", "dt"]].tolist() == [
        1.0, 0.15, 7, 64, 12.0, 0.01]
    acc = summary[summary["system"] == "acceptance"].set_index("run")
    assert acc.loc["mc/seed7/acceptance/T0.2/dr0.5", "move_size"] == 0.5
    free = summary[summary["system"] == "free"]
    assert set(free["scheme"]) == {"euler", "baoab"} and set(free["box"]) == {100.0}
    assert set(free["D_exact"]) == {1.0}


def test_study_table_has_one_row_per_state_point(complete_run):
    study = pd.read_csv(complete_run / "results" / "study.csv")
    summary = pd.read_csv(complete_run / "results" / "summary.csv")
    assert len(study) == len(summary)  # one seed: each run is its own state point
    assert set(study["n_replicas"]) == {1}
    lj = study[study["system"] == "lj"]
    assert sorted(zip(lj["kT"], lj["polydispersity"])) == [(0.2, 0.0), (0.2, 0.15), (1.0, 0.0), (1.0, 0.15)]


def test_snakemake_summary_lists_what_is_done(complete_run):
    out = subprocess.run(
        SNAKEMAKE + ["--summary", "--snakefile", str(REPO / "Snakefile"), "--directory", str(complete_run),
                     "--configfile", str(REPO / "config" / "test.yaml")],
        capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    rows = [line.split("\t") for line in out.stdout.splitlines() if "\t" in line]
    header, rows = rows[0], rows[1:]
    status = header.index("status")
    states = [row for row in rows if row[0].endswith("/state.nc")]
    assert len(states) == 14 + 5  # the summarised runs and the quench/equilibration stages
    assert all(row[status] == "ok" for row in states), states


def test_every_job_names_its_memory_and_disk(tmp_path):
    """No job is left to Snakemake's default mem_mb and disk_mb: they are expressions of
    input.size_mb, a stat of every input of every job while the DAG is built (a fifth of
    `snakemake -n` on a 1000-run sweep, bench/dag.py). Without the local profile's defaults,
    such a job shows `<TBD>` in a dry run (its inputs do not exist yet)."""
    out = subprocess.run(
        SNAKEMAKE + ["-n", "--workflow-profile", "none", "--snakefile", str(REPO / "Snakefile"),
                     "--directory", str(tmp_path), "--configfile", str(REPO / "config" / "test.yaml")],
        capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    jobs = re.findall(r"^\s*(?:local)?rule (\w+):\n(.*?)(?=^\s*(?:local)?rule |^Job stats|\Z)",
                      out.stdout + out.stderr, re.S | re.M)
    assert len(jobs) > 30
    for rule, block in jobs:
        if rule == "all":
            continue
        resources = re.search(r"resources: (.*)", block)
        assert resources, f"rule {rule}: no resources line"
        assert re.search(r"\bmem_mb=\d+", resources.group(1)), (rule, resources.group(1))
        assert re.search(r"\bdisk_mb=\d+", resources.group(1)), (rule, resources.group(1))


def test_sweep_example_config_plans_its_runs(tmp_path):
    """config/sweep-example.yaml validates and plans every run of its grid."""
    config = yaml.safe_load((REPO / "config" / "sweep-example.yaml").read_text())
    n_lj = len(config["seeds"]) * len(config["lj_langevin"]["temperatures"]) * len(
        config["lj_langevin"]["polydispersities"])
    assert n_lj >= 200
    out = subprocess.run(
        SNAKEMAKE + ["-n", "--snakefile", str(REPO / "Snakefile"), "--directory", str(tmp_path),
                     "--configfile", str(REPO / "config" / "sweep-example.yaml")],
        capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    table = re.search(r"Job stats:\n.*?\n-+\s+-+\n(.*?)\ntotal", out.stdout + out.stderr, re.S).group(1)
    jobs = dict((line.split()[0], int(line.split()[1])) for line in table.splitlines() if line.strip())
    assert jobs["lj_langevin"] == n_lj and jobs["analyse_lj"] == n_lj
