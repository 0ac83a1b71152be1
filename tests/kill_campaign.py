"""Kill campaign through Snakemake (issue 14): random SIGKILL / SIGINT of the whole
process group (a pulled plug / a Ctrl-C in the terminal) during a Langevin production
stage of config/test.yaml (N = 64, checkpoint after every chunk), then --unlock (after a
SIGKILL) and --rerun-incomplete; outputs compared with a straight run by data hash.

    python tests/kill_campaign.py TRIALS [SEED] [WORKDIR]

Trials alternate SIGKILL and SIGINT, one process tree at a time; a trial "hangs" if
Snakemake has not exited 90 s after the signal. Prints one JSON line per trial and a
SUMMARY line. Not collected by pytest (minutes per trial on a loaded machine).
"""
import json, os, random, signal, subprocess, sys, time
from pathlib import Path
import psutil, yaml

SRC = Path(__file__).resolve().parents[1]
ROOT = Path(sys.argv[3] if len(sys.argv) > 3 else "/tmp/simlib-kill-campaign")
ROOT.mkdir(parents=True, exist_ok=True)
PY = sys.executable
TARGET = "results/lj/p0.0/seed7/T0.2"
QUENCH = "results/lj/p0.0/seed7/quench"
env = dict(os.environ, PYTHONPATH=str(SRC))
env.pop("SIMLIB_DEBUG", None)
sys.path.insert(0, str(SRC))
from simlib.pipeline.manifest import data_hash

config = yaml.safe_load((SRC / "config/test.yaml").read_text())
config["checkpoint_seconds"] = 0.001
config["lj_langevin"]["production"].update(duration=12.0, thermo_every=0.2, trajectory_every=0.4)
configfile = ROOT / "long.yaml"
configfile.write_text(yaml.safe_dump(config))


def cmd(workdir, *extra):
    return [PY, "-m", "snakemake", "--snakefile", str(SRC / "Snakefile"), "--directory", str(workdir),
            "--configfile", str(configfile), "--cores", "1", *extra]


def restore_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def hashes(work):
    out = {}
    for run, names in ((TARGET, ("state.nc", "thermo.nc", "trajectory.nc")), (QUENCH, ("state.nc", "thermo.nc"))):
        for name in names:
            p = work / run / name
            out[f"{run}/{name}"] = data_hash(p) if p.exists() else None
    return out


straight = ROOT / "straight"
if not (straight / TARGET / "state.nc").exists():
    r = subprocess.run(cmd(straight, f"{TARGET}/state.nc"), env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
ref = hashes(straight)
BASE = ROOT / "base"
if not (BASE / QUENCH / "state.nc").exists():
    r = subprocess.run(cmd(BASE, f"{QUENCH}/state.nc"), env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
n = int(sys.argv[1])
rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 14)
results = []
for trial in range(n):
    sig = signal.SIGKILL if trial % 2 == 0 else signal.SIGINT
    work = ROOT / f"trial{trial:02d}"
    subprocess.run(["rm", "-rf", str(work)])
    subprocess.run(["cp", "-a", str(BASE), str(work)], check=True)  # quench done, as in a sweep
    log = open(work / "snakemake1.out", "w")
    proc = subprocess.Popen(cmd(work, f"{TARGET}/state.nc"), env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True, preexec_fn=restore_sigint)
    joblog = work / "logs/lj/p0.0/seed7/T0.2.log"
    checkpoint = work / TARGET / "state.nc.ckpt.nc"
    t0 = time.monotonic()
    while not checkpoint.exists() and proc.poll() is None and time.monotonic() - t0 < 600:
        time.sleep(0.005)
    delay = rng.uniform(0.0, 1.5)
    time.sleep(delay)
    finished_before = proc.poll() is not None
    had_checkpoint = checkpoint.exists()
    tree = psutil.Process(proc.pid).children(recursive=True) if not finished_before else []
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass
    hung = False
    try:
        proc.wait(timeout=90)
    except subprocess.TimeoutExpired:
        hung = True
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    gone, alive = psutil.wait_procs(tree, timeout=30)
    orphans = [p.pid for p in alive]
    for p in alive:
        p.kill()
    log.close()
    first = (work / "snakemake1.out").read_text()
    job_text = joblog.read_text() if joblog.exists() else ""
    traceback = "Traceback" in first or "Traceback" in job_text
    interrupt_line = next((l for l in (first + job_text).splitlines() if "interrupted" in l), "")[:200]
    (ROOT / "outputs").mkdir(exist_ok=True)
    (ROOT / "outputs" / f"trial{trial:02d}_{signal.Signals(sig).name}.out").write_text(first + "\n--- job log ---\n" + job_text)
    if sig == signal.SIGKILL:  # a killed Snakemake keeps its lock
        subprocess.run(cmd(work, "--unlock"), env=env, capture_output=True)
    r = subprocess.run(cmd(work, "--rerun-incomplete", f"{TARGET}/state.nc"), env=env, capture_output=True,
                       text=True, timeout=900)
    (work / "snakemake2.out").write_text(r.stdout + r.stderr)
    job_text = joblog.read_text() if joblog.exists() else ""
    got = hashes(work)
    row = {"trial": trial, "signal": signal.Signals(sig).name, "delay": round(delay, 3),
           "seconds": round(time.monotonic() - t0, 1), "checkpoint_before_signal": had_checkpoint,
           "finished_before_signal": finished_before, "hung": hung, "orphans": orphans,
           "traceback": traceback, "exit_after_signal": proc.returncode, "rerun_rc": r.returncode,
           "resumed": "resuming from checkpoint" in job_text, "bitwise": got == ref,
           "interrupt_line": interrupt_line}
    results.append(row)
    print(json.dumps(row), flush=True)
    if row["bitwise"] and not hung:
        subprocess.run(["rm", "-rf", str(work)])
summary = {
    "trials": n,
    "bitwise": sum(r["bitwise"] for r in results),
    "hung": sum(r["hung"] for r in results),
    "resumed": sum(r["resumed"] for r in results),
    "traceback": sum(r["traceback"] for r in results),
    "orphans": sum(bool(r["orphans"]) for r in results),
    "by_signal": {s: {"n": sum(r["signal"] == s for r in results),
                      "bitwise": sum(r["bitwise"] for r in results if r["signal"] == s),
                      "resumed": sum(r["resumed"] for r in results if r["signal"] == s),
                      "hung": sum(r["hung"] for r in results if r["signal"] == s)} for s in ("SIGKILL", "SIGINT")},
}
print("SUMMARY", json.dumps(summary), flush=True)
