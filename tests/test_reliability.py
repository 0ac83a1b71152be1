"""Reliability: kill-and-resume of long stages, through Snakemake too, and the compare command.

Kill-and-resume (issue: "a stage killed with SIGKILL at any moment, then rerun, resumes
from its last checkpoint, and its final outputs are bit-identical to those of an
uninterrupted run"):

* ``simlib.pipeline.stages.run_stage`` runs in a subprocess with ``checkpoint_seconds=0`` (a
  checkpoint after every thermo chunk). It is SIGKILLed once after three checkpoints
  have appeared, then three more times at a random moment after each resume began
  (seeded, so a failure can be replayed), each time leaving no final output; the fifth
  run completes. Every variable of its state, thermo and trajectory files must then
  equal (dtype, shape and bytes) those of an uninterrupted run without checkpoints in
  another directory. Langevin, NVE and Metropolis (with move-size tuning), each with a
  trajectory.
* A SIGKILL at exact moments (inside a checkpoint write before its rename; after the
  final thermo file; after the final state file; after the trajectory rename) is
  emulated by a patched run_stage that kills itself there.
* Through Snakemake: config/test.yaml with a longer Langevin production and
  ``checkpoint_seconds: 0.001``. Either the job's python process alone or the whole
  Snakemake process group is SIGKILLed after three checkpoints; ``--rerun-incomplete``
  (after ``--unlock`` when Snakemake itself was killed) finishes the job, whose data
  hashes (``simlib.pipeline.manifest.data_hash``) equal those of a straight run.

The compare command (``python -m simlib.compare``) is run on a synthetic summary.csv
with the columns of the real one.

Tolerances: kill-and-resume results must be bitwise identical (no tolerance). Time
limits: a subprocess gets ``STARTUP_TIMEOUT`` to write its first checkpoint (covers
a numba recompilation when the numba cache is cold) and ``RUN_TIMEOUT`` to finish.
"""

import json
import math
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import netCDF4
import numpy as np
import pandas as pd
import psutil
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
STARTUP_TIMEOUT = 240.0  # s until the first checkpoint (includes numba compilation on a cold cache)
RUN_TIMEOUT = 600  # s for a subprocess to run to completion
OUTPUTS = ("state.nc", "thermo.nc", "trajectory.nc")
# global attributes that legitimately differ between two runs of the same thing
VOLATILE_ATTRS = {"created", "git_commit"}


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + [p for p in [env.get("PYTHONPATH")] if p])
    env.pop("SIMLIB_DEBUG", None)
    return env


# --------------------------------------------------------------------------------------
# helpers: run a stage in a subprocess, kill it, compare files bitwise
# --------------------------------------------------------------------------------------
# The runner calls simlib.pipeline.stages.run_stage exactly as workflow/scripts/run_stage.py does.
# ``die_after`` emulates a SIGKILL at one exact moment (inside a checkpoint write, or
# during the final write-out) by wrapping a function run_stage calls so that the
# process kills itself there.
RUNNER = r"""
import json, os, signal, sys
import simlib.pipeline.stages as stages

args = json.loads(sys.argv[1])
die_after = args.pop("die_after", None)


def kill_after(original, when):
    def wrapper(*a, **k):
        result = original(*a, **k)
        if when(*a):
            os.kill(os.getpid(), signal.SIGKILL)
        return result
    return wrapper


if die_after == "checkpoint_write":  # the third checkpoint written to its temporary file, not renamed
    real_replace, count = os.replace, [0]

    def replace(src, dst):
        if str(dst).endswith(".ckpt.nc"):
            count[0] += 1
            if count[0] == 3:
                os.kill(os.getpid(), signal.SIGKILL)
        return real_replace(src, dst)

    os.replace = replace
elif die_after == "thermo":  # thermo.nc written, state.nc not yet
    stages.save_thermo = kill_after(stages.save_thermo, lambda *a: True)
elif die_after == "state":  # thermo.nc and state.nc written, trajectory still partial
    stages.save_state = kill_after(stages.save_state, lambda path, *a: str(path) == args["state_out"])
elif die_after == "trajectory":  # every output in place, checkpoint not yet removed
    stages.TrajectoryWriter.close = kill_after(stages.TrajectoryWriter.close, lambda *a: True)


def log(message):
    print(message, flush=True)


stages.run_stage(log=log, **args)
"""


def stage_args(spec, workdir, checkpoint_seconds, die_after=None):
    workdir = Path(workdir)
    args = {
        "stage": spec["stage"],
        "potential": spec["potential"],
        "state_in": spec["state_in"],
        "state_out": str(workdir / "state.nc"),
        "thermo_out": str(workdir / "thermo.nc"),
        "trajectory_out": str(workdir / "trajectory.nc"),
        "checkpoint_seconds": checkpoint_seconds,
        "config": {"test": "reliability"},
    }
    if die_after:
        args["die_after"] = die_after
    return args


def start_stage(args, log_path):
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    handle = open(log_path, "w")
    try:
        proc = subprocess.Popen(
            [PY, "-c", RUNNER, json.dumps(args)], stdout=handle, stderr=subprocess.STDOUT,
            env=_env(), cwd=REPO,
        )
    finally:
        handle.close()
    return proc


def run_stage_to_end(args, log_path):
    proc = start_stage(args, log_path)
    try:
        proc.wait(timeout=RUN_TIMEOUT)
    finally:
        _kill_tree(proc)
    text = Path(log_path).read_text()
    assert proc.returncode == 0, f"stage failed ({proc.returncode}):\n{text[-3000:]}"
    return text


def _kill_tree(proc):
    """SIGKILL ``proc`` (started by this test) and its descendants if still alive."""
    if proc.poll() is not None:
        return
    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.Error:
        children = []
    for p in [proc] + children:
        try:
            os.kill(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    proc.wait(timeout=60)


def wait_for_checkpoints(proc, checkpoint, count, timeout=STARTUP_TIMEOUT):
    """Poll until ``count`` distinct checkpoint files were seen (each atomic write is a new inode)."""
    seen = set()
    deadline = time.monotonic() + timeout
    while len(seen) < count:
        if proc.poll() is not None:
            raise AssertionError(f"process ended ({proc.returncode}) after {len(seen)} checkpoint(s)")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {count} checkpoints within {timeout} s (saw {len(seen)})")
        try:
            st = checkpoint.stat()
            seen.add((st.st_mtime_ns, st.st_ino))
        except FileNotFoundError:
            pass
        time.sleep(0.002)


def wait_for_text(proc, log_path, text, timeout=STARTUP_TIMEOUT):
    deadline = time.monotonic() + timeout
    while text not in Path(log_path).read_text():
        if proc.poll() is not None:
            raise AssertionError(f"process ended ({proc.returncode}) before logging {text!r}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {text!r} within {timeout} s")
        time.sleep(0.005)


def _variables(path):
    with netCDF4.Dataset(path) as nc:
        nc.set_auto_mask(False)
        nc.set_auto_scale(False)
        data = {name: np.array(var[...]) for name, var in nc.variables.items()}
        dims = {name: len(dim) for name, dim in nc.dimensions.items()}
        attrs = {k: nc.getncattr(k) for k in nc.ncattrs() if k not in VOLATILE_ATTRS}
    return data, dims, attrs


def assert_bitwise_equal(reference, other):
    """Every variable of two netCDF files has the same dtype, shape and bytes."""
    (a, adims, aattrs), (b, bdims, battrs) = _variables(reference), _variables(other)
    assert sorted(a) == sorted(b), f"{other.name}: variables {sorted(b)} != {sorted(a)}"
    assert adims == bdims, f"{other.name}: dimensions {bdims} != {adims}"
    for name in a:
        x, y = a[name], b[name]
        where = f"{other.name}:{name}"
        assert x.dtype == y.dtype and x.shape == y.shape, f"{where}: {y.dtype}{y.shape} != {x.dtype}{x.shape}"
        if x.tobytes() != y.tobytes():
            diff = np.flatnonzero(x.reshape(-1) != y.reshape(-1)) if x.dtype.kind != "S" else []
            raise AssertionError(f"{where}: not bitwise equal ({len(diff)} element(s) differ, first {diff[:5]})")
    assert aattrs == battrs, f"{other.name}: global attributes differ"


def assert_no_outputs(workdir):
    present = [name for name in OUTPUTS if (Path(workdir) / name).exists()]
    assert not present, f"a killed stage left complete-looking output(s) {present} in {workdir}"


# --------------------------------------------------------------------------------------
# kill-and-resume at the simlib.pipeline.stages level
# --------------------------------------------------------------------------------------
# Each stage takes a few seconds with a checkpoint after every thermo chunk (~100 chunks).
STAGES = {
    "langevin": {
        "stage": {"method": "langevin", "kT": 0.45, "dt": 0.01, "friction": 1.0, "duration": 40.0,
                  "thermo_every": 0.4, "trajectory_every": 0.8},
        "potential": {"kind": "lj", "r_cut": 2.5},
        "state_in": {"n": 512, "box": 34.0, "dim": 2, "seed": 11},
    },
    "nve": {
        "stage": {"method": "nve", "dt": 0.005, "duration": 20.0, "thermo_every": 0.2, "trajectory_every": 0.4},
        "potential": {"kind": "soft12", "r_cut": 3.0},
        "state_in": None,  # a hot state file made by the `nve_start` fixture
    },
    "metropolis": {
        "stage": {"method": "metropolis", "kT": 0.6, "move_size": 0.15, "tune_acceptance": 0.4, "sweeps": 600,
                  "thermo_every": 10, "trajectory_every": 20},
        "potential": {"kind": "lj", "r_cut": 2.5},
        "state_in": {"n": 256, "box": 24.0, "dim": 2, "seed": 13},
    },
    "checkerboard": {
        "stage": {"method": "metropolis", "kT": 0.6, "move_size": 0.15, "tune_acceptance": 0.4, "sweeps": 600,
                  "thermo_every": 10, "trajectory_every": 20, "checkerboard": True},
        "potential": {"kind": "lj", "r_cut": 2.5},
        "state_in": {"n": 256, "box": 24.0, "dim": 2, "seed": 13},
    },
}


@pytest.fixture(scope="module")
def nve_start(tmp_path_factory):
    """A 2D soft-disk state at the lattice with Maxwell-Boltzmann velocities at kT = 1."""
    path = tmp_path_factory.mktemp("inputs") / "hot.nc"
    code = (
        "import sys, simlib\n"
        "from simlib.io import save_state\n"
        "s = simlib.initial_state(512, simlib.Box.cube(34.0, 2), seed=17, kT=1.0)\n"
        "save_state(sys.argv[1], s, simlib.Potential('soft12', r_cut=3.0))\n"
    )
    out = subprocess.run([PY, "-c", code, str(path)], capture_output=True, text=True, env=_env(), cwd=REPO,
                         timeout=RUN_TIMEOUT)
    assert out.returncode == 0, out.stderr[-3000:]
    return str(path)


def _spec(method, nve_start):
    spec = dict(STAGES[method])
    if spec["state_in"] is None:
        spec["state_in"] = nve_start
    return spec


@pytest.mark.parametrize("method", ["langevin", "nve", "metropolis", "checkerboard"])
def test_kill_and_resume_is_bitwise(method, tmp_path, nve_start):
    spec = _spec(method, nve_start)
    straight, work = tmp_path / "straight", tmp_path / "killed"
    # uninterrupted, never checkpointing (also warms the numba cache for the timed runs)
    run_stage_to_end(stage_args(spec, straight, checkpoint_seconds=3600.0), straight / "run.log")

    args = stage_args(spec, work, checkpoint_seconds=0.0)
    checkpoint, partial = work / "state.nc.ckpt.nc", work / ".trajectory.nc.part"
    rng = random.Random(f"simlib-kill-{method}")
    delays = []
    for attempt in range(4):
        proc = start_stage(args, work / f"attempt{attempt}.log")
        try:
            if attempt == 0:
                # the first checkpoint and a couple more chunks
                wait_for_checkpoints(proc, checkpoint, count=3)
            else:
                # a random moment after the resume began: in a chunk, a trajectory
                # append or a checkpoint write
                wait_for_text(proc, work / f"attempt{attempt}.log", "resuming from checkpoint")
                delays.append(rng.uniform(0.0, 0.6))
                time.sleep(delays[-1])
            assert proc.poll() is None, (
                f"the stage finished before kill {attempt + 1} (delays {delays}); make it longer"
            )
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
        finally:
            _kill_tree(proc)
        assert proc.returncode == -signal.SIGKILL
        assert_no_outputs(work)
    assert checkpoint.exists() and partial.exists()

    log = run_stage_to_end(args, work / "final.log")
    assert "resuming from checkpoint" in log, log[-2000:]
    for name in OUTPUTS:
        assert_bitwise_equal(straight / name, work / name)
    assert not checkpoint.exists(), "checkpoint left behind after a completed stage"
    assert not partial.exists(), "partial trajectory left behind after a completed stage"


# A SIGKILL at each exact moment of the final write-out. After the kill, the rerun
# starts as Snakemake's --rerun-incomplete does: the incomplete job's declared outputs
# are removed, undeclared files (checkpoint, partial trajectory) stay.
SHORT = {
    "stage": {"method": "langevin", "kT": 0.45, "dt": 0.01, "duration": 6.0, "thermo_every": 0.3,
              "trajectory_every": 0.6},
    "potential": {"kind": "lj", "r_cut": 2.5},
    "state_in": {"n": 256, "box": 24.0, "dim": 2, "seed": 23},
}


@pytest.fixture(scope="module")
def short_straight(tmp_path_factory):
    straight = tmp_path_factory.mktemp("short_straight")
    run_stage_to_end(stage_args(SHORT, straight, checkpoint_seconds=3600.0), straight / "run.log")
    return straight


def _die_then_rerun(work, die_after):
    proc = start_stage(stage_args(SHORT, work, 0.0, die_after=die_after), work / "die.log")
    try:
        proc.wait(timeout=RUN_TIMEOUT)
    finally:
        _kill_tree(proc)
    assert proc.returncode == -signal.SIGKILL, (work / "die.log").read_text()[-2000:]
    # the checkpoint is removed just before the trajectory is renamed into place
    assert (work / "state.nc.ckpt.nc").exists() == (die_after != "trajectory")
    if die_after == "checkpoint_write":
        assert_no_outputs(work)
    for name in OUTPUTS:  # what snakemake --rerun-incomplete removes first
        (work / name).unlink(missing_ok=True)
    log = run_stage_to_end(stage_args(SHORT, work, 0.0), work / "rerun.log")
    # with no checkpoint left (killed after its removal) the stage starts again from scratch
    assert ("resuming from checkpoint" in log) == (die_after != "trajectory")


@pytest.mark.parametrize(
    "die_after",
    [
        "checkpoint_write",
        "thermo",
        "state",
        pytest.param(
            "trajectory",
        ),
    ],
)
def test_kill_at_an_exact_moment_then_rerun_is_bitwise(die_after, tmp_path, short_straight):
    work = tmp_path / "killed"
    _die_then_rerun(work, die_after)
    for name in OUTPUTS:
        assert_bitwise_equal(short_straight / name, work / name)


def test_no_stray_temporary_file_after_a_kill_in_a_checkpoint_write(tmp_path):
    work = tmp_path / "killed"
    _die_then_rerun(work, "checkpoint_write")
    stray = sorted(p.name for p in work.iterdir() if p.name.startswith("."))
    assert not stray, f"stray temporary files {stray}"


# --------------------------------------------------------------------------------------
# kill-and-resume through Snakemake
# --------------------------------------------------------------------------------------
TARGET = "results/lj/p0.0/seed7/T0.2"
QUENCH = "results/lj/p0.0/seed7/quench"


def _snakemake(workdir, configfile, *extra):
    return [
        PY, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir),
        "--configfile", str(configfile), "--cores", "2", *extra,
    ]


def _run_snakemake(workdir, configfile, *extra):
    return subprocess.run(_snakemake(workdir, configfile, *extra), capture_output=True, text=True, env=_env(),
                          timeout=RUN_TIMEOUT)


@pytest.fixture(scope="module")
def long_config(tmp_path_factory):
    """config/test.yaml with a Langevin production of 60 chunks, a checkpoint after each,
    and the uninterrupted run of the target."""
    root = tmp_path_factory.mktemp("snakemake_kill")
    config = yaml.safe_load((REPO / "config" / "test.yaml").read_text())
    config["checkpoint_seconds"] = 0.001
    # the VACF window reaches the MSD fit's last lag (0.5 of the analysed 6 t0)
    config["lj_langevin"]["production"].update(duration=12.0, thermo_every=0.2, trajectory_every=0.4, vacf_window=3.0)
    configfile = root / "long.yaml"
    configfile.write_text(yaml.safe_dump(config))
    straight = root / "straight"
    out = _run_snakemake(straight, configfile, f"{TARGET}/state.nc")
    assert out.returncode == 0, out.stderr[-3000:]
    return configfile, straight


def _job_process(proc):
    """The python process running workflow/scripts/run_stage.py under snakemake ``proc``."""
    for p in psutil.Process(proc.pid).children(recursive=True):
        try:
            cmd = p.cmdline()
        except psutil.Error:
            continue
        if any(part.endswith("run_stage.py") for part in cmd) and "python" in os.path.basename(cmd[0]):
            return p
    return None


def _start_and_kill(workdir, configfile, what):
    """Start snakemake on the target, wait for three checkpoints of the production
    stage, then SIGKILL either the whole process group ("group": snakemake and its job,
    a pulled plug) or only the job's python process ("job")."""
    checkpoint = workdir / TARGET / "state.nc.ckpt.nc"
    workdir.mkdir(parents=True, exist_ok=True)
    with open(workdir.parent / f"{workdir.name}.out", "w") as handle:
        proc = subprocess.Popen(_snakemake(workdir, configfile, f"{TARGET}/state.nc"), stdout=handle,
                                stderr=subprocess.STDOUT, env=_env(), start_new_session=True)
    try:
        wait_for_checkpoints(proc, checkpoint, count=3)
        job = _job_process(proc)
        assert job is not None, "no run_stage.py process found under snakemake"
        if what == "group":
            tree = psutil.Process(proc.pid).children(recursive=True)
            os.killpg(proc.pid, signal.SIGKILL)
            for p in tree:  # in case snakemake put its job in another process group
                try:
                    os.kill(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            psutil.wait_procs(tree, timeout=30)
            proc.wait(timeout=60)
            assert proc.returncode == -signal.SIGKILL
        else:
            os.kill(job.pid, signal.SIGKILL)
            proc.wait(timeout=120)  # snakemake notices the failed job and stops
            assert proc.returncode not in (0, None)
    finally:
        _kill_tree(proc)
    assert_no_outputs(workdir / TARGET)
    assert checkpoint.exists()


def _assert_resumed_and_bitwise(workdir, straight):
    from simlib.pipeline.manifest import data_hash

    log = (workdir / "logs/lj/p0.0/seed7/T0.2/stage.log").read_text()
    assert "resuming from checkpoint" in log, log[-2000:]
    for run, names in ((TARGET, OUTPUTS), (QUENCH, OUTPUTS[:2])):
        for name in names:
            assert data_hash(workdir / run / name) == data_hash(straight / run / name), f"{run}/{name}"
    assert not (workdir / TARGET / "state.nc.ckpt.nc").exists()
    assert not (workdir / TARGET / ".trajectory.nc.part").exists()


def test_snakemake_job_sigkilled_then_rerun_incomplete_is_bitwise(tmp_path, long_config):
    configfile, straight = long_config
    work = tmp_path / "killed"
    _start_and_kill(work, configfile, "job")
    out = _run_snakemake(work, configfile, "--rerun-incomplete", f"{TARGET}/state.nc")
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    _assert_resumed_and_bitwise(work, straight)


@pytest.fixture(scope="module")
def pulled_plug(tmp_path_factory, long_config):
    """Snakemake and its job SIGKILLed together; then the rerun exactly as the issue
    states it, then (whatever that gave) --unlock and the rerun again."""
    configfile, straight = long_config
    work = tmp_path_factory.mktemp("pulled_plug") / "killed"
    _start_and_kill(work, configfile, "group")
    plain = _run_snakemake(work, configfile, "--rerun-incomplete", f"{TARGET}/state.nc")
    if plain.returncode != 0:
        unlock = _run_snakemake(work, configfile, "--unlock")
        assert unlock.returncode == 0, unlock.stderr[-3000:]
        again = _run_snakemake(work, configfile, "--rerun-incomplete", f"{TARGET}/state.nc")
        assert again.returncode == 0, (again.stdout + again.stderr)[-3000:]
    return work, straight, plain


def test_snakemake_sigkilled_with_its_job_then_rerun_is_bitwise(pulled_plug):
    work, straight, _ = pulled_plug
    _assert_resumed_and_bitwise(work, straight)


def test_stale_lock_after_sigkill_is_named_and_the_readme_says_how_to_clear_it(pulled_plug):
    """Snakemake keeps its lock when it is SIGKILLed; its own message says to --unlock,
    and the README's restart section gives that command."""
    _, _, plain = pulled_plug
    if plain.returncode != 0:
        assert "unlock" in (plain.stdout + plain.stderr)
    readme = (REPO / "README.md").read_text()
    assert "snakemake --unlock" in readme and "--rerun-incomplete" in readme


# --------------------------------------------------------------------------------------
# python -m simlib.compare
# --------------------------------------------------------------------------------------
def _summary():
    """A summary.csv as the pipeline writes it: identifying columns, numbers with and
    without error bars, NaN where a quantity does not apply."""
    nan = math.nan
    rows = [
        {"run": "lj/p0.0/seed7/T0.2", "system": "lj", "method": "langevin", "kT": 0.2, "seed": 7, "n": 64,
         "steps": 400, "potential_per_particle": -1.9234567890123457, "potential_per_particle_err": 0.0123,
         "pressure": 0.0412, "pressure_err": 0.0035, "acceptance": nan, "acceptance_err": nan,
         "D": 0.0132, "D_err": 0.0021},
        {"run": "mc/seed7/T0.2", "system": "mc", "method": "metropolis", "kT": 0.2, "seed": 7, "n": 64,
         "steps": 400, "potential_per_particle": -2.0112, "potential_per_particle_err": 0.02,
         "pressure": 0.031, "pressure_err": 0.004, "acceptance": 0.4321, "acceptance_err": 0.01,
         "D": nan, "D_err": nan},
        {"run": "soft/seed7/nve/dt0.001", "system": "nve", "method": "nve", "kT": 0.9, "seed": 7, "n": 64,
         "steps": 2000, "potential_per_particle": 0.8123, "potential_per_particle_err": 0.0051,
         "pressure": 2.3456, "pressure_err": 0.0311, "acceptance": nan, "acceptance_err": nan,
         "D": 0.251, "D_err": 0.033},
    ]
    return pd.DataFrame(rows)


def _compare(tmp_path, reference, rerun, *options):
    paths = []
    for name, frame in (("reference.csv", reference), ("rerun.csv", rerun)):
        path = tmp_path / name
        if isinstance(frame, pd.DataFrame):
            frame.to_csv(path, index=False)
        elif isinstance(frame, bytes):
            path.write_bytes(frame)
        else:
            path = Path(frame)
        paths.append(str(path))
    return subprocess.run([PY, "-m", "simlib.compare", *paths, *options], capture_output=True, text=True,
                          env=_env(), cwd=tmp_path, timeout=120)


def _perturb(frame, run, column, n_sigma):
    """Shift ``column`` of ``run`` by ``n_sigma`` combined standard errors."""
    out = frame.copy()
    i = out.index[out["run"] == run][0]
    err = out.at[i, f"{column}_err"]
    out.at[i, column] += n_sigma * math.hypot(err, err)
    return out


@pytest.mark.parametrize("options", [(), ("--bitwise",)])
def test_compare_identical_summaries_agree(tmp_path, options):
    ref = _summary()
    out = _compare(tmp_path, ref, ref.copy(), *options)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "3 rows agree, 0 differ" in out.stdout


def test_compare_flags_a_number_10_sigma_off(tmp_path):
    ref = _summary()
    out = _compare(tmp_path, ref, _perturb(ref, "mc/seed7/T0.2", "pressure", 10.0))
    assert out.returncode == 1, out.stdout + out.stderr
    bad = [line for line in out.stdout.splitlines() if line.startswith("FAIL")]
    assert len(bad) == 1 and "mc/seed7/T0.2" in bad[0] and "pressure" in bad[0], out.stdout
    assert "10.0 sigma" in bad[0]
    assert "2 rows agree, 1 differ" in out.stdout


def test_compare_within_tolerance_passes_unless_bitwise(tmp_path):
    ref = _summary()
    new = _perturb(ref, "lj/p0.0/seed7/T0.2", "potential_per_particle", 0.5)
    assert _compare(tmp_path, ref, new).returncode == 0
    assert _compare(tmp_path, ref, new, "--sigmas", "0.4").returncode == 1
    out = _compare(tmp_path, ref, new, "--bitwise")
    assert out.returncode == 1
    assert "lj/p0.0/seed7/T0.2" in out.stdout and "potential_per_particle" in out.stdout


def test_compare_bitwise_sees_one_ulp(tmp_path):
    ref = _summary()
    new = ref.copy()
    new.at[2, "pressure"] = np.nextafter(new.at[2, "pressure"], np.inf)
    assert _compare(tmp_path, ref, new).returncode == 0
    out = _compare(tmp_path, ref, new, "--bitwise")
    assert out.returncode == 1 and "soft/seed7/nve/dt0.001" in out.stdout and "pressure" in out.stdout


def test_compare_bitwise_checks_error_bars_too(tmp_path):
    ref = _summary()
    new = ref.copy()
    new.at[0, "potential_per_particle_err"] = 0.0124
    out = _compare(tmp_path, ref, new, "--bitwise")
    assert out.returncode == 1, out.stdout


def test_compare_number_without_error_bar_must_be_equal(tmp_path):
    ref = _summary()
    new = ref.copy()
    new.at[1, "steps"] = 401
    out = _compare(tmp_path, ref, new)
    assert out.returncode == 1 and "mc/seed7/T0.2" in out.stdout and "steps" in out.stdout


def test_compare_nan_against_a_number_differs(tmp_path):
    ref = _summary()
    new = ref.copy()
    new.at[1, "D"], new.at[1, "D_err"] = 0.01, 0.001  # NaN in the reference
    assert _compare(tmp_path, ref, new).returncode == 1


@pytest.mark.parametrize("side", ["missing in rerun", "not in reference"])
def test_compare_missing_row_differs(tmp_path, side):
    ref = _summary()
    short = ref[ref["run"] != "soft/seed7/nve/dt0.001"]
    out = _compare(tmp_path, ref, short) if side == "missing in rerun" else _compare(tmp_path, short, ref)
    assert out.returncode == 1, out.stdout
    line = [line for line in out.stdout.splitlines() if "soft/seed7/nve/dt0.001" in line]
    assert line and line[0].startswith("FAIL") and side in line[0]


def test_compare_missing_column_has_its_own_exit_code(tmp_path):
    ref = _summary()
    out = _compare(tmp_path, ref, ref.drop(columns=["pressure"]))
    assert out.returncode == 3 and "column pressure not in rerun" in out.stdout, out.stdout
    out = _compare(tmp_path, ref.drop(columns=["pressure"]), ref)
    assert out.returncode == 3 and "column pressure not in reference" in out.stdout, out.stdout


def _with_unbarred(frame):
    """Columns of the real summary that have no error bar, and an error bar of zero
    (``_mean_err`` of fewer than 4 samples)."""
    out = frame.copy()
    out["total_rms"] = [math.nan, math.nan, 0.0012345678901234]
    out["rms_ratio"] = [math.nan, math.nan, 0.0345678901234567]
    out["density_dispersion"] = [3.4567890123456789, 1.2345678901234567, math.nan]
    out["largest_cluster_fraction"] = [0.87654321, 0.12345678, math.nan]
    out.loc[2, "pressure_err"] = 0.0
    return out


def test_compare_one_ulp_in_columns_without_error_bar_agrees(tmp_path):
    ref = _with_unbarred(_summary())
    new = ref.copy()
    for column, row in (("total_rms", 2), ("rms_ratio", 2), ("density_dispersion", 0),
                        ("largest_cluster_fraction", 1), ("pressure", 2)):  # pressure: zero error bar
        new.at[row, column] = np.nextafter(new.at[row, column], np.inf)
    out = _compare(tmp_path, ref, new)
    assert out.returncode == 0, out.stdout
    assert _compare(tmp_path, ref, new, "--bitwise").returncode == 1


def test_compare_columns_without_error_bar_use_the_relative_tolerance(tmp_path):
    ref = _with_unbarred(_summary())
    new = ref.copy()
    new.at[0, "density_dispersion"] *= 1.05
    assert _compare(tmp_path, ref, new).returncode == 0
    new.at[0, "density_dispersion"] = ref.at[0, "density_dispersion"] * 1.3
    out = _compare(tmp_path, ref, new)
    assert out.returncode == 1 and "density_dispersion" in out.stdout and "rtol" in out.stdout, out.stdout
    assert _compare(tmp_path, ref, new, "--rtol", "0.5").returncode == 0


def test_compare_infinite_values_have_their_own_exit_code(tmp_path):
    ref = _summary()
    ref.at[1, "pressure"] = math.inf
    out = _compare(tmp_path, ref, ref.copy())
    assert out.returncode == 4 and "pressure" in out.stdout and "not finite" in out.stdout, out.stdout
    assert "Traceback" not in out.stderr


def test_compare_infinite_error_bar_does_not_hide_a_change(tmp_path):
    ref = _summary()
    new = ref.copy()
    new.at[0, "pressure_err"] = math.inf
    new.at[0, "pressure"] += 1e6
    out = _compare(tmp_path, ref, new)
    assert out.returncode == 4 and "pressure_err" in out.stdout and "infinite" in out.stdout, out.stdout


@pytest.mark.parametrize("option", [("--sigmas", "nan"), ("--sigmas", "-1"), ("--sigmas", "inf"),
                                    ("--sigmas", "three"), ("--rtol", "nan"), ("--rtol", "-0.1")])
def test_compare_bad_tolerance_option_exits_5_with_one_line(tmp_path, option):
    ref = _summary()
    out = _compare(tmp_path, ref, ref.copy(), *option)
    assert out.returncode == 5, (out.returncode, out.stdout, out.stderr)
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and option[0] in lines[0], out.stderr


def _one_line_error(out, path):
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
    assert "Traceback" not in out.stderr, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0], out.stderr


@pytest.mark.parametrize(
    "content",
    [
        "nonexistent",
        "directory",
        b"",
        b"\x00\x01 not, a\ncsv\x00, file, at, all\n",
        b"step,time\n1,0.1\n",  # a CSV, but not a summary (no run column)
        pytest.param(
            b"\x1f\x8b\x08\x00\xff\xfe binary (gzip) data",
            id="binary",
        ),
        pytest.param(
            "duplicate",
        ),
    ],
    ids=lambda c: c if isinstance(c, str) else None,
)
def test_compare_unreadable_file_exits_2_with_one_line(tmp_path, content):
    ref = _summary()
    if content == "nonexistent":
        bad = tmp_path / "no_such_summary.csv"
    elif content == "directory":
        bad = tmp_path / "a_directory"
        bad.mkdir()
    elif content == "duplicate":
        bad = tmp_path / "duplicate.csv"
        pd.concat([ref, ref.iloc[[1]]]).to_csv(bad, index=False)
    else:
        bad = tmp_path / "bad.csv"
        bad.write_bytes(content)
    out = _compare(tmp_path, ref, bad)
    _one_line_error(out, bad)
    if content != "duplicate":
        out = _compare(tmp_path, bad, ref)  # the reference side too
        _one_line_error(out, bad)
