"""Run the workflow through a real (throwaway, single-node) SLURM cluster.

The cluster comes from ci/slurm/start.sh and is always stopped again by
ci/slurm/stop.sh. Opt-in: runs only as root and only when SIMLIB_SLURM_TEST=1
or CI=true, so that a developer's plain `pytest` stays fast:

    sudo SIMLIB_SLURM_TEST=1 python -m pytest -n 0 -m slurm tests/test_slurm.py -s

Two tests share the cluster:
  * test_toy_workflow_on_slurm: a tiny workflow written to tmp_path (with a
    `group:`), so the mechanism is proven even without the real pipeline;
  * test_pipeline_on_slurm: the repository's Snakefile with config/test.yaml
    (skipped while those files do not exist).
Both check that snakemake exited 0, the outputs exist, every SLURM job that
snakemake submitted ended COMPLETED according to squeue, and every rule that
was not a localrule really ran inside one of those SLURM jobs.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slurm

REPO = Path(__file__).resolve().parents[1]
SLURM_CI = REPO / "ci" / "slurm"
USER_PROFILE = REPO / "profiles" / "slurm"
CI_PROFILE = SLURM_CI / "profile"
SNAKEFILE = REPO / "Snakefile"
TEST_CONFIG = REPO / "config" / "test.yaml"

# wall-clock limits for one snakemake run (seconds)
TOY_TIMEOUT = int(os.environ.get("SIMLIB_SLURM_TOY_TIMEOUT", "300"))
PIPELINE_TIMEOUT = int(os.environ.get("SIMLIB_SLURM_PIPELINE_TIMEOUT", "2400"))

SUBMITTED_RE = re.compile(r"has been submitted with SLURM jobid (\d+)")
# "rule NAME:" in the main log = executed remotely; "localrule NAME:" = on
# the submit host (inside a SLURM job, the job's own snakemake prints every
# rule it runs as "localrule NAME:")
RULE_RE = re.compile(r"^\s*rule (\S+):\s*$", re.MULTILINE)
LOCALRULE_RE = re.compile(r"^\s*localrule (\S+):\s*$", re.MULTILINE)


# --------------------------------------------------------------------------
# helpers


def _say(config: pytest.Config, msg: str) -> None:
    """Print past pytest's output capture, so timings show in CI logs."""
    capman = config.pluginmanager.getplugin("capturemanager")
    line = f"[slurm] {msg}"
    if capman is not None:
        with capman.global_and_fixture_disabled():
            print(line, flush=True)
    else:
        print(line, flush=True)


def _opt_in_skip_reason() -> str | None:
    opted_in = os.environ.get("SIMLIB_SLURM_TEST") == "1"
    in_ci = os.environ.get("CI", "").lower() == "true"
    if not (opted_in or in_ci):
        return (
            "SLURM cluster test is opt-in: set SIMLIB_SLURM_TEST=1 "
            "(runs automatically when CI=true)"
        )
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "needs root to install and run slurmctld/slurmd/munged"
    if shutil.which("bash") is None:
        return "needs bash"
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        return (
            "snakemake-executor-plugin-slurm not installed (pip install -e '.[slurm]')"
        )
    have_slurm = all(
        shutil.which(c, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
        for c in ("slurmctld", "slurmd", "sinfo", "munged")
    )
    if not have_slurm and shutil.which("apt-get") is None:
        return "slurm/munge not installed and apt-get not available to install them"
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(text: str, n: int = 60) -> str:
    return "\n".join(text.splitlines()[-n:])


class Cluster:
    def __init__(self, state_dir: Path, env: dict[str, str]):
        self.state_dir = state_dir
        self.bin_dir = state_dir / "bin"
        self.script_env = env

    def env(self) -> dict[str, str]:
        """Environment for snakemake: wrapper bin dir first on PATH."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SLURM_", "SBATCH_", "SRUN_", "SQUEUE_"))
        }
        env["PATH"] = os.pathsep.join(
            [str(self.bin_dir), str(Path(sys.executable).parent), env.get("PATH", "")]
        )
        return env

    def job_states(self, job_ids: list[str]) -> dict[str, tuple[str, str]]:
        """{jobid: (state, comment)} for the given jobs, as squeue sees them."""
        out = subprocess.run(
            [
                str(self.bin_dir / "squeue"),
                "--states=all",
                "--noheader",
                "--jobs=" + ",".join(job_ids),
                "--format=%i|%T|%k",
            ],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
        states = {}
        for line in out.splitlines():
            parts = line.strip().split("|")
            if len(parts) >= 2:
                states[parts[0]] = (parts[1], parts[2] if len(parts) > 2 else "")
        return states


# --------------------------------------------------------------------------
# fixture: one throwaway cluster per module


@pytest.fixture(scope="module")
def slurm_cluster(request, tmp_path_factory):
    reason = _opt_in_skip_reason()
    if reason:
        pytest.skip(reason)

    config = request.config
    state_dir = tmp_path_factory.mktemp("slurm-state")
    # the munge socket path must stay well below the 108-byte sun_path limit
    if len(str(state_dir)) > 60:
        state_dir = Path(tempfile.mkdtemp(prefix="simlib-slurm-", dir="/tmp"))
    # own ports: do not collide with a cluster a developer started by hand
    ctld_port = _free_port()
    slurmd_port = _free_port()
    while slurmd_port == ctld_port:
        slurmd_port = _free_port()
    script_env = dict(os.environ)
    script_env.update(
        SLURM_STATE_DIR=str(state_dir),
        SLURM_CTLD_PORT=str(ctld_port),
        SLURMD_PORT=str(slurmd_port),
    )
    cluster = Cluster(state_dir, script_env)

    def stop():
        t0 = time.monotonic()
        res = subprocess.run(
            ["bash", str(SLURM_CI / "stop.sh")],
            env=script_env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        _say(
            config, f"cluster stop: {time.monotonic() - t0:.1f}s (rc={res.returncode})"
        )
        if res.returncode != 0:
            _say(config, "stop.sh output:\n" + res.stdout + res.stderr)

    request.addfinalizer(stop)

    t0 = time.monotonic()
    res = subprocess.run(
        ["bash", str(SLURM_CI / "start.sh")],
        env=script_env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=900,  # includes apt-get install on a fresh machine
    )
    took = time.monotonic() - t0
    if res.returncode == 3:
        pytest.skip(f"slurm/munge cannot be installed: {_tail(res.stderr, 5)}")
    if res.returncode != 0:
        pytest.fail(
            f"ci/slurm/start.sh failed (rc={res.returncode}) after {took:.1f}s:\n"
            + _tail(res.stdout + res.stderr, 150),
            pytrace=False,
        )
    _say(config, f"cluster start: {took:.1f}s (state dir {state_dir})")
    yield cluster


# --------------------------------------------------------------------------
# running snakemake and checking what SLURM did


def _run_snakemake(
    cluster: Cluster,
    config: pytest.Config,
    snakefile: Path,
    workdir: Path,
    extra: list[str],
    timeout: int,
    label: str,
) -> str:
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(snakefile),
        "--directory",
        str(workdir),
        *extra,
        "--executor",
        "slurm",
        "--profile",
        str(USER_PROFILE),
        "--workflow-profile",
        str(CI_PROFILE),
    ]
    log_path = workdir / "snakemake-slurm.log"
    _say(config, f"{label}: {' '.join(cmd)}")
    t0 = time.monotonic()
    with open(log_path, "w") as log:
        # own session: on timeout the whole snakemake process group is ended
        proc = subprocess.Popen(
            cmd,
            cwd=workdir,
            env=cluster.env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            # plugin 2.8.0 may ignore SIGTERM while it waits for job states
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            rc = None
    took = time.monotonic() - t0
    text = log_path.read_text(errors="replace")
    _say(config, f"{label}: snakemake run {took:.1f}s (rc={rc})")
    if rc != 0:
        slurm_logs = sorted((workdir / ".snakemake" / "slurm_logs").rglob("*.log"))
        extra_logs = "".join(
            f"\n----- {p} -----\n{_tail(p.read_text(errors='replace'), 30)}"
            for p in slurm_logs[-5:]
        )
        why = "timed out" if rc is None else f"exited {rc}"
        pytest.fail(
            f"snakemake {why} after {took:.1f}s; log {log_path}:\n"
            + _tail(text, 120)
            + extra_logs,
            pytrace=False,
        )
    return text


def _check_ran_on_slurm(cluster: Cluster, workdir: Path, log_text: str) -> dict:
    """Every submitted SLURM job COMPLETED; every non-local rule ran in one."""
    job_ids = sorted(set(SUBMITTED_RE.findall(log_text)), key=int)
    assert job_ids, "snakemake submitted no SLURM job:\n" + _tail(log_text)

    states = cluster.job_states(job_ids)
    missing = [j for j in job_ids if j not in states]
    assert not missing, f"squeue does not know SLURM jobs {missing} (MinJobAge?)"
    bad = {j: s for j, (s, _) in states.items() if s != "COMPLETED"}
    assert not bad, f"SLURM jobs not COMPLETED: {bad}"

    # rules snakemake sent to the cluster vs. rules run inside SLURM jobs
    remote_rules = set(RULE_RE.findall(log_text))
    slurm_logs = list((workdir / ".snakemake" / "slurm_logs").rglob("*.log"))
    assert slurm_logs, "no SLURM job logs under .snakemake/slurm_logs"
    ran_in_slurm: set[str] = set()
    for p in slurm_logs:
        ran_in_slurm |= set(LOCALRULE_RE.findall(p.read_text(errors="replace")))
    assert remote_rules, "no rule was executed remotely"
    not_in_slurm = remote_rules - ran_in_slurm
    assert not not_in_slurm, (
        f"rules submitted to SLURM but not seen running inside a SLURM job: "
        f"{sorted(not_in_slurm)} (seen: {sorted(ran_in_slurm)})"
    )
    return {"job_ids": job_ids, "states": states, "rules": remote_rules}


def _check_up_to_date(
    cluster: Cluster, snakefile: Path, workdir: Path, extra: list[str]
) -> None:
    """The workflow's own targets: a dry run afterwards has nothing to do."""
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "--snakefile",
            str(snakefile),
            "--directory",
            str(workdir),
            *extra,
            "--dry-run",
            "--cores",
            "1",
        ],
        cwd=workdir,
        env=cluster.env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    assert (
        "Nothing to be done" in out
    ), "dry run after the SLURM run still has work:\n" + _tail(out)


# --------------------------------------------------------------------------
# tests

TOY_SNAKEFILE = textwrap.dedent("""\
    SAMPLES = ["a", "b"]

    localrules: all

    rule all:
        input:
            "results/summary.csv",
            expand("results/figures/{s}.png", s=SAMPLES),

    # simulate + plot of one sample form one SLURM job (group "sim")
    rule simulate:
        output: "results/raw/{s}.txt"
        group: "sim"
        resources: mem_mb=100, runtime=5
        shell: "echo {wildcards.s} ${{SLURM_JOB_ID:-none}} > {output}"

    rule plot:
        input: "results/raw/{s}.txt"
        output: "results/figures/{s}.png"
        group: "sim"
        shell: "cat {input} > {output}; echo plot ${{SLURM_JOB_ID:-none}} >> {output}"

    rule summarize:
        input: expand("results/raw/{s}.txt", s=SAMPLES)
        output: "results/summary.csv"
        shell: "cat {input} > {output}; echo summary ${{SLURM_JOB_ID:-none}} >> {output}"
    """)


def test_toy_workflow_on_slurm(slurm_cluster, tmp_path, request):
    """The mechanism itself, independent of the real pipeline."""
    snakefile = tmp_path / "toy" / "Snakefile"
    snakefile.parent.mkdir()
    snakefile.write_text(TOY_SNAKEFILE)
    workdir = tmp_path / "run"
    workdir.mkdir()

    log_text = _run_snakemake(
        slurm_cluster, request.config, snakefile, workdir, [], TOY_TIMEOUT, "toy"
    )
    info = _check_ran_on_slurm(slurm_cluster, workdir, log_text)

    assert info["rules"] == {"simulate", "plot", "summarize"}
    # 2 group jobs (simulate+plot per sample) + 1 summarize job
    assert len(info["job_ids"]) == 3, info
    comments = sorted(c for _, c in info["states"].values())
    assert comments == ["rule_sim_plot_simulate"] * 2 + ["rule_summarize"], comments

    # each output was written inside one of the submitted SLURM jobs
    for s in ("a", "b"):
        name, job_id = (workdir / f"results/raw/{s}.txt").read_text().split()
        assert name == s and job_id in info["job_ids"], (s, job_id)
        fig = (workdir / f"results/figures/{s}.png").read_text().split()
        assert fig[-1] == job_id, "plot did not run in the same group job as simulate"
    summary_job = (workdir / "results/summary.csv").read_text().split()[-1]
    assert summary_job in info["job_ids"]

    _check_up_to_date(slurm_cluster, snakefile, workdir, [])


def test_pipeline_on_slurm(slurm_cluster, tmp_path, request):
    """The repository's workflow with its test configuration, with fewer set-points (every
    rule still runs; each SLURM job starts a Snakemake of its own, seconds each, and the
    local runs of tests/test_workflow.py cover every set-point)."""
    import yaml

    missing = [
        str(p.relative_to(REPO)) for p in (SNAKEFILE, TEST_CONFIG) if not p.exists()
    ]
    if missing:
        pytest.skip(f"pipeline not there yet: missing {', '.join(missing)}")
    workdir = tmp_path / "run"
    workdir.mkdir()
    config = yaml.safe_load(TEST_CONFIG.read_text())
    config["lj_langevin"]["temperatures"] = config["lj_langevin"]["temperatures"][:1]
    config["lj_mc"]["temperatures"] = config["lj_mc"]["temperatures"][:1]
    config["soft_md"]["drift_dts"] = config["soft_md"]["drift_dts"][:2]
    config["lj_mc"]["acceptance"]["move_sizes"] = config["lj_mc"]["acceptance"]["move_sizes"][:2]
    thinned = tmp_path / "slurm-test.yaml"
    thinned.write_text(yaml.safe_dump(config))
    extra = ["--configfile", str(thinned)]

    log_text = _run_snakemake(
        slurm_cluster,
        request.config,
        SNAKEFILE,
        workdir,
        extra,
        PIPELINE_TIMEOUT,
        "pipeline",
    )
    info = _check_ran_on_slurm(slurm_cluster, workdir, log_text)
    _say(
        request.config,
        f"pipeline: {len(info['job_ids'])} SLURM jobs COMPLETED, rules {sorted(info['rules'])}",
    )

    # the seconds-long figure and table rules run on the submit host, every simulation
    # and analysis in a SLURM job
    local = set(LOCALRULE_RE.findall(log_text))
    assert {"fig_energy", "fig_phase_langevin", "study_family", "summary"} <= local, sorted(local)
    assert not any(r.startswith("fig_") or r in ("study_family", "summary") for r in info["rules"])
    assert {"lj_langevin", "soft_nve", "mc_production", "analyse_lj", "manifest"} <= info["rules"]

    summary = workdir / "results" / "summary.csv"
    assert summary.is_file() and summary.stat().st_size > 0, f"missing/empty {summary}"
    figures = sorted((workdir / "results" / "figures").glob("*.png"))
    assert figures, "no results/figures/*.png"
    empty = [str(f) for f in figures if f.stat().st_size == 0]
    assert not empty, f"empty figures: {empty}"

    _check_up_to_date(slurm_cluster, SNAKEFILE, workdir, extra)
