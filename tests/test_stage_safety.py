"""A stage never resumes or starts on the wrong thing, never runs twice at once, and a
Ctrl-C ends it promptly with one line (issue 14, items 1, 3, 4, 5, 6, 8; issue 10 item 5).

A "kill" inside the process is emulated by a ``log`` callback that raises once the
stage has written checkpoints: the stage then stops as after a SIGKILL in the middle
of a chunk (checkpoint and partial trajectory left on disk, no final output). The
Ctrl-C tests send real SIGINTs to a subprocess that runs ``workflow/scripts/run_stage.py``
exactly as Snakemake does (through ``simlib.pipeline.smk.run_script``).

Tolerances: resumed or restarted outputs must be bitwise identical to an
uninterrupted run; a Ctrl-C must end the job within ``PROMPT`` seconds.
"""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from simlib.io import DataFileError, load_state, load_trajectory, save_state
from simlib.pipeline.stages import StageLocked, make_initial_state, output_lock, run_stage

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable
PROMPT = 30.0  # s from SIGINT to the job's exit (a chunk here takes milliseconds)
LJ = {"kind": "lj", "r_cut": 2.5}
STAGE = {"method": "langevin", "kT": 0.45, "dt": 0.01, "duration": 3.0, "thermo_every": 0.1,
         "trajectory_every": 0.2}
SYSTEM = {"n": 64, "box": 12.0, "dim": 2, "seed": 7}


class Killed(Exception):
    """Stands for a SIGKILL between two chunks."""


def kill_after_checkpoints(count):
    seen = [0]

    def log(message):
        if message.startswith("checkpoint at step"):
            seen[0] += 1
            if seen[0] == count:
                raise Killed(message)

    return log


def write_input(path, **system):
    import simlib

    state = make_initial_state({**SYSTEM, **system})
    save_state(path, state, simlib.Potential(**LJ), simlib.Langevin(kT=5.0, dt=0.01), config={"system": system})
    return path


def outputs(work):
    return {name: work / name for name in ("state.nc", "thermo.nc", "trajectory.nc")}


def run(work, state_in, log=None, **kw):
    out = outputs(work)
    lines = []
    run_stage(STAGE, LJ, state_in, out["state.nc"], out["thermo.nc"], out["trajectory.nc"],
              checkpoint_seconds=kw.pop("checkpoint_seconds", 0.0), log=log or lines.append, **kw)
    return lines


def data(path):
    import netCDF4

    with netCDF4.Dataset(path) as nc:
        nc.set_auto_mask(False)
        return {name: np.array(var[...]).tobytes() for name, var in nc.variables.items()}


# -- item 1 / issue 10 item 5: checkpoints keyed by input content -----------------------
@pytest.mark.parametrize("change", [{"n": 49}, {"seed": 8}])
def test_checkpoint_of_another_input_content_at_the_same_path_is_not_resumed(tmp_path, change):
    state_in = write_input(tmp_path / "in.nc")
    work = tmp_path / "work"
    with pytest.raises(Killed):
        run(work, str(state_in), log=kill_after_checkpoints(3))
    assert (work / "state.nc.ckpt.nc").exists()
    write_input(state_in, **change)  # the upstream stage reran with another config
    lines = run(work, str(state_in))
    assert not any("resuming" in line for line in lines), lines
    final, _ = load_state(work / "state.nc")
    assert final.n == change.get("n", 64) and final.seed == change.get("seed", 7)
    straight = tmp_path / "straight"
    run(straight, str(state_in), checkpoint_seconds=3600.0)
    for name, path in outputs(work).items():
        assert data(path) == data(outputs(straight)[name]), name


def test_checkpoint_of_the_same_input_content_is_resumed(tmp_path):
    state_in = write_input(tmp_path / "in.nc")
    work = tmp_path / "work"
    with pytest.raises(Killed):
        run(work, str(state_in), log=kill_after_checkpoints(3))
    moved = tmp_path / "elsewhere.nc"  # same bytes at another path: still the same input
    moved.write_bytes(state_in.read_bytes())
    lines = run(work, str(moved))
    assert any("resuming from checkpoint" in line for line in lines), lines


def test_checkpoint_of_another_potential_is_not_resumed(tmp_path):
    state_in = write_input(tmp_path / "in.nc")
    work = tmp_path / "work"
    with pytest.raises(Killed):
        run(work, str(state_in), log=kill_after_checkpoints(3))
    out = outputs(work)
    lines = []
    with pytest.raises(DataFileError, match="potential"):  # the input file says lj r_cut 2.5
        run_stage(STAGE, {"kind": "lj", "r_cut": 3.0}, str(state_in), out["state.nc"], out["thermo.nc"],
                  out["trajectory.nc"], checkpoint_seconds=0.0, log=lines.append)
    assert not any("resuming" in line for line in lines), lines


# -- item 4: every system field of the upstream state is checked --------------------------
@pytest.mark.parametrize(
    "written, pattern",
    [
        ({"box": 20.0}, r"box \[20\.0, 20\.0\].*box 12\.0"),
        ({"seed": 9}, r"seed 9 .*seed 7"),
        ({"polydispersity": 0.15}, r"diameters"),
    ],
    ids=["box", "seed", "diameters"],
)
def test_upstream_state_of_another_system_is_refused(tmp_path, written, pattern):
    state_in = write_input(tmp_path / "in.nc", **written)
    expect = {"n": 64, "box": 12.0, "dim": 2, "seed": 7, "polydispersity": 0.0}
    with pytest.raises(DataFileError, match=pattern) as err:
        run(tmp_path / "work", str(state_in), expect_system=expect)
    assert str(state_in) in str(err.value) and "\n" not in str(err.value)
    assert not any(p.exists() for p in outputs(tmp_path / "work").values())


def test_upstream_state_of_the_right_system_runs(tmp_path):
    state_in = write_input(tmp_path / "in.nc", polydispersity=0.15)
    run(tmp_path / "work", str(state_in),
        expect_system={"n": 64, "box": 12.0, "dim": 2, "seed": 7, "polydispersity": 0.15})
    assert (tmp_path / "work" / "state.nc").exists()


# -- item 3 / 8: truncated trajectories ---------------------------------------------------
def test_truncated_trajectory_is_refused_on_read(tmp_path):
    state_in = write_input(tmp_path / "in.nc")
    run(tmp_path / "work", str(state_in), checkpoint_seconds=3600.0)
    path = tmp_path / "work" / "trajectory.nc"
    assert load_trajectory(path)["positions"].shape[0] == 16
    raw = path.read_bytes()
    cut = tmp_path / "cut.nc"
    cut.write_bytes(raw[: 2 * len(raw) // 3])
    with pytest.raises(DataFileError, match=r"truncated") as err:
        load_trajectory(cut)
    assert str(cut) in str(err.value)


def test_truncated_partial_trajectory_restarts_the_stage_bitwise(tmp_path):
    state_in = write_input(tmp_path / "in.nc")
    straight = tmp_path / "straight"
    run(straight, str(state_in), checkpoint_seconds=3600.0)
    work = tmp_path / "work"
    with pytest.raises(Killed):
        run(work, str(state_in), log=kill_after_checkpoints(8))
    partial = work / ".trajectory.nc.part"
    raw = partial.read_bytes()
    partial.write_bytes(raw[: len(raw) // 2])  # lost pages after a crash
    lines = run(work, str(state_in))
    assert any("partial trajectory" in line and "corrupt" in line for line in lines), lines
    for name, path in outputs(work).items():
        assert data(path) == data(outputs(straight)[name]), name
    frames = load_trajectory(work / "trajectory.nc")
    assert np.all(frames["box"].values == 12.0)


# -- item 6: one copy of a stage at a time -----------------------------------------------
def test_second_copy_of_a_running_stage_refuses_naming_the_pid(tmp_path):
    state_in = write_input(tmp_path / "in.nc")
    work = tmp_path / "work"
    with output_lock(work / "state.nc"):
        with pytest.raises(StageLocked, match=rf"another copy .*PID {os.getpid()}") as err:
            run(work, str(state_in))
    assert "\n" not in str(err.value)
    assert not any(p.exists() for p in outputs(work).values())
    run(work, str(state_in))  # the lock is released with its holder
    assert not (work / ".state.nc.lock").exists()


def test_lock_is_held_across_processes(tmp_path):
    """A second process (as a second Snakemake would start) is refused with the PID."""
    work = tmp_path / "work"
    code = ("import sys\nfrom simlib.pipeline.stages import output_lock\n"
            "with output_lock(sys.argv[1]):\n    print('locked', flush=True)\n    sys.stdin.read()\n")
    holder = subprocess.Popen([PY, "-c", code, str(work / "state.nc")], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=_env())
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(StageLocked, match=rf"PID {holder.pid}\b"):
            run(work, str(write_input(tmp_path / "in.nc")))
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    run(work, str(tmp_path / "in.nc"))


# -- item 5: Ctrl-C ends the job promptly with one line -----------------------------------
def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + [p for p in [env.get("PYTHONPATH")] if p])
    env.pop("SIMLIB_DEBUG", None)
    return env


# workflow/scripts/run_stage.py with a stand-in ``snakemake`` object; SIGINT gets
# Python's default handler, as in a terminal (a background shell may have it ignored).
HARNESS = r"""
import json, runpy, signal, sys

signal.signal(signal.SIGINT, signal.default_int_handler)
args = json.loads(sys.argv[1])


class Namespace(dict):
    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def get(self, key, default=None):
        return dict.get(self, key, default)


snakemake = Namespace(
    input=Namespace(args["input"]), output=Namespace(args["output"]), params=Namespace(args["params"]),
    log=[args["log"]], wildcards=Namespace(args["wildcards"]), rule="lj_langevin", scriptdir=args["scriptdir"],
    threads=1, config=args["config"],
)
print("started", flush=True)
runpy.run_path(args["script"], init_globals={"snakemake": snakemake}, run_name="__main__")
"""

def _text(path):
    return path.read_text() if path.exists() else ""


# long enough that the job is still running 1.5 s after its start line, on a fast machine too
LONG = {**STAGE, "duration": 200.0, "thermo_every": 0.2, "trajectory_every": 0.4}


def _script_args(work, state_in):
    return {
        "input": {"state": str(state_in)},
        "output": {k.split(".")[0]: str(v) for k, v in outputs(work).items()},
        "params": {"family": "lj", "stage": LONG, "potential": LJ, "system": {**SYSTEM, "polydispersity": 0.0}},
        "wildcards": {"p": "0.0", "seed": str(SYSTEM["seed"]), "T": str(LONG["kT"])},
        "config": {"checkpoint_seconds": 0.05, "test": 1},
        "log": str(work / "job.log"),
        "scriptdir": str(REPO / "workflow" / "scripts"),
        "script": str(REPO / "workflow" / "scripts" / "run_stage.py"),
    }


def test_sigint_ends_the_job_promptly_with_one_line_and_resumes_bitwise(tmp_path):
    state_in = write_input(tmp_path / "in.nc")
    straight = tmp_path / "straight"
    straight.mkdir()
    out = subprocess.run([PY, "-c", HARNESS, json.dumps(_script_args(straight, state_in))], env=_env(),
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    work = tmp_path / "work"
    work.mkdir()
    rng = random.Random("simlib-sigint")
    interrupted = 0
    for attempt in range(4):
        proc = subprocess.Popen([PY, "-c", HARNESS, json.dumps(_script_args(work, state_in))], env=_env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "started"
        # a Ctrl-C while Python is still importing simlib gives Python's own traceback:
        # the job's handler exists from run_script on
        deadline = time.monotonic() + 240
        while _text(work / "job.log").count("rule lj_langevin: start") <= attempt:
            assert time.monotonic() < deadline and proc.poll() is None, "the job did not start"
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 1.5))  # loading, chunks, checkpoint and trajectory writes
        proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
        try:
            _, err = proc.communicate(timeout=PROMPT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            pytest.fail(f"attempt {attempt}: the job hung after SIGINT")
        assert time.monotonic() - sent < PROMPT
        assert "Traceback" not in err, err
        if proc.returncode == 0:
            break  # finished before the signal
        interrupted += 1
        assert proc.returncode == 130, (proc.returncode, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "interrupted" in lines[0] and "lj_langevin" in lines[0], err
        assert not any(p.exists() for p in outputs(work).values())
    assert interrupted >= 3
    out = subprocess.run([PY, "-c", HARNESS, json.dumps(_script_args(work, state_in))], env=_env(),
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "resuming from checkpoint" in (work / "job.log").read_text()
    for name, path in outputs(work).items():
        assert data(path) == data(outputs(straight)[name]), name


# -- item 8: a full disk is one line in the rule's log ----------------------------------
@pytest.mark.parametrize(
    "error",
    [RuntimeError("No space left on device"), RuntimeError("NetCDF: HDF error"),
     OSError(28, "No space left on device", "results/x/.state.nc.1234.tmp")],
    ids=["netcdf3_enospc", "hdf_error", "oserror_enospc"],
)
def test_full_disk_is_one_line_naming_the_output_directory(tmp_path, error):
    from simlib.pipeline.smk import run_script

    class Smk:
        log = [str(tmp_path / "job.log")]
        output = [str(tmp_path / "out" / "state.nc")]
        rule = "soft_quench"
        threads = 1
        wildcards = {}

    (tmp_path / "out").mkdir()

    def main(smk, log):
        raise error

    with pytest.raises(SystemExit) as code:
        run_script(Smk(), main)
    assert code.value.code == 1
    lines = [line for line in (tmp_path / "job.log").read_text().splitlines() if "error in rule" in line]
    assert len(lines) == 1 and "soft_quench" in lines[0] and str(tmp_path / "out") in lines[0], lines
    if "HDF" not in str(error):
        assert "disk full" in lines[0]
