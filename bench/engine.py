"""Engine benchmark: throughput, scaling with N, compile/load time and peak memory.

Run from the repository root::

    python -m bench.engine            # full table (about 10 minutes on 2 cores)
    python -m bench.engine --quick    # N = 1024 and 16384 only

Prints a table and writes ``results/bench/engine.json``. Each measurement runs in
its own subprocess so that peak memory (max RSS) is per case. Systems: 2D, density
0.64 (the course's N = 1024, L = 40). Large systems start from a quench with a
smaller dt (0.002) because the course's quench (dt = 0.01, T = 5) blows up for
N >~ 2.6e5: the fastest particle's speed grows with ln N.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASES_FULL = [1024, 16384, 262144, 1_000_000]
CASES_QUICK = [1024, 16384]


def measure(kind, n, target_seconds=3.0):
    """Run in a subprocess: one measurement, printed as JSON."""
    import resource

    import numpy as np

    import simlib

    side = float(np.sqrt(n / 0.64))
    box = simlib.Box.cube(side, 2)
    state = simlib.initial_state(n, box, seed=1)
    if kind == "soft_nve":
        pot = simlib.Potential("soft12", r_cut=3.0)
    else:
        pot = simlib.Potential("lj", r_cut=2.5)
    quench_dt = 0.01 if n <= 65536 else 0.002
    warm_steps = max(20, int(2e6 // n))
    simlib.Simulation(state, pot, simlib.Langevin(kT=5.0, dt=quench_dt)).run(warm_steps)
    if kind == "lj_langevin":
        sim = simlib.Simulation(state, pot, simlib.Langevin(kT=0.2, dt=0.01))
    elif kind == "soft_langevin":
        sim = simlib.Simulation(state, pot, simlib.Langevin(kT=0.9, dt=0.01))
    elif kind == "soft_nve":
        simlib.Simulation(state, pot, simlib.Langevin(kT=0.9, dt=0.005)).run(warm_steps)
        sim = simlib.Simulation(state, pot, simlib.VelocityVerlet(dt=0.001))
    elif kind == "lj_nve":
        sim = simlib.Simulation(state, pot, simlib.VelocityVerlet(dt=0.002))
    elif kind == "lj_mc":
        sim = simlib.Simulation(state, pot, simlib.Metropolis(kT=0.2, move_size=0.15))
    else:
        raise ValueError(kind)
    sim.run(2)
    steps, done = 2, 0
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    elapsed = 0.0
    while elapsed < target_seconds:
        sim.run(steps)
        done += steps
        elapsed = time.perf_counter() - t0
        steps = min(steps * 2, max(2, int(steps * target_seconds / max(elapsed, 1e-3))))
    cpu = time.process_time() - cpu0
    rate = done * n / elapsed
    result = {
        "kind": kind,
        "n": n,
        "steps": done,
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "rate": rate,
        "ns_per_particle_step": 1e9 / rate,
        "list_builds_per_step": sim.state.list_builds / max(1, sim.state.step - sim.state.step_origin),
        "neighbours_per_particle": float(sim.nlist.counts.mean()),
        "skin": sim.skin,
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }
    if kind == "lj_mc":
        result["acceptance"] = sim.thermo()["acceptance"]
    print(json.dumps(result))


def run_case(kind, n, env=None):
    out = subprocess.run(
        [sys.executable, "-m", "bench.engine", "--case", kind, str(n)],
        capture_output=True, text=True, env=env, check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"case {kind} N={n} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def compile_times():
    """Cold compile (empty numba cache) and cached load, for a small Langevin + MC run."""
    code = (
        "import time; t=time.perf_counter(); import simlib; "
        "s=simlib.initial_state(64, simlib.Box.cube(12.0, 2), seed=1); "
        "p=simlib.Potential('lj', r_cut=2.5); "
        "simlib.Simulation(s, p, simlib.Langevin(kT=1.0)).run(5); "
        "simlib.Simulation(s, p, simlib.VelocityVerlet()).run(5); "
        "simlib.Simulation(s, p, simlib.Metropolis(kT=1.0)).run(5); "
        "print(time.perf_counter()-t)"
    )
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        times = []
        for _ in range(2):
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
            times.append(float(out.stdout.strip().splitlines()[-1]))
    return {"cold_compile_seconds": times[0], "cached_load_seconds": times[1]}


TARGETS = {"lj_langevin": 5.0e6, "lj_mc": 1.7e6}


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="only N = 1024 and 16384")
    parser.add_argument("--case", nargs=2, metavar=("KIND", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--output", default="results/bench/engine.json")
    args = parser.parse_args(argv)
    if args.case:
        measure(args.case[0], int(args.case[1]))
        return 0
    sizes = CASES_QUICK if args.quick else CASES_FULL
    rows = []
    for kind in ("lj_langevin", "soft_langevin", "lj_nve", "soft_nve"):
        rows.append(run_case(kind, 1024))
    for n in sizes:
        if n != 1024:
            rows.append(run_case("lj_langevin", n))
        rows.append(run_case("lj_mc", n))
    compile_info = compile_times()
    print(f"{'case':<15}{'N':>9}{'rate [/s]':>12}{'ns/ptcl-step':>14}{'builds/step':>13}{'nbrs':>7}{'peak MB':>9}")
    for r in rows:
        print(
            f"{r['kind']:<15}{r['n']:>9}{r['rate']:>12.3g}{r['ns_per_particle_step']:>14.1f}"
            f"{r['list_builds_per_step']:>13.3f}{r['neighbours_per_particle']:>7.1f}{r['peak_memory_mb']:>9.0f}"
        )
    print(f"cold compile {compile_info['cold_compile_seconds']:.1f} s, cached load {compile_info['cached_load_seconds']:.1f} s")
    for kind, target in TARGETS.items():
        base = next(r for r in rows if r["kind"] == kind and r["n"] == 1024)
        print(f"{kind} N=1024: {base['rate']:.3g}/s, target {target:.3g}/s ({base['rate'] / target:.0%})")
        by_n = [r for r in rows if r["kind"] == kind]
        costs = [r["ns_per_particle_step"] for r in by_n]
        print(f"  cost per particle-step from N={by_n[0]['n']} to {by_n[-1]['n']}: max/min = {max(costs) / min(costs):.2f}")
    report = {
        "machine": {"python": platform.python_version(), "cpu_count": os.cpu_count(), "platform": platform.platform()},
        "rows": rows,
        **compile_info,
        "targets": TARGETS,
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
