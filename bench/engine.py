"""Engine benchmark: simlib against the C++ reference and LAMMPS, measured in one run.

Run from the repository root::

    python -m bench.engine                  # N = 1024: ratios vs C++ (and LAMMPS), compile time
    python -m bench.engine --repeats 5      # more repeats (best of N per code)

Machines differ from one day to the next and this one is shared, so only ratios measured
in the same run mean anything. Every code (simlib Langevin / NVE / Metropolis, the C++
reference ``../shared/bench/ref_sim.cpp`` built with ``g++ -O3 -march=native``, LAMMPS
``lmp`` with ``../shared/bench/in.lj2d``) runs in its own process, the codes are
interleaved and repeated, and the best rate of each code is kept. A code whose program
is missing (no g++, no reference source, no ``lmp``) is skipped with a note.

System: the course's 2D LJ disks (r_c = 2.5, shifted), density 0.64, melted at T = 5
(untimed), timed at T = 0.2: Langevin (course Euler step, dt = 0.01), NVE (dt = 0.002),
Metropolis (dr = 0.15; the serial sweep ``mc`` and the checkerboard sweep ``mc_checkerboard``,
both compared with the reference's serial Monte Carlo). Rates are particle-steps/s (MD) or
trial moves/s (MC); a checkerboard trial that would leave its cell (about 6 % here) is
counted as a trial, as HOOMD-blue counts it, and costs little.

Prints a table and writes ``results/bench/engine.json``. :func:`measure_codes` is
shared with the ``scaling`` Snakemake target (``workflow/scripts/scaling.py``).
"""

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_BENCH = Path(os.environ.get("SIMLIB_REF_DIR", ROOT.parent / "shared" / "bench"))
DENSITY = 0.64


def quench_dt(n):
    """The course's quench (T = 5) at dt = 0.01 blows up for N >~ 2.6e5; the reference
    programs use dt = 0.002 above N = 65536, and so does the benchmark."""
    return 0.01 if n <= 65536 else 0.002


# -- simlib (one measurement per subprocess) ------------------------------------------------
def measure(kind, n, threads=1, target_seconds=2.0):
    """Run in a subprocess: one measurement, printed as JSON."""
    import resource

    import numba
    import numpy as np

    import simlib

    numba.set_num_threads(threads)
    side = float(np.sqrt(n / DENSITY))
    box = simlib.Box.cube(side, 2)
    state = simlib.initial_state(n, box, seed=1)
    pot = simlib.Potential("lj", r_cut=2.5)
    warm_steps = max(20, min(1000, int(4e6 // n)))
    simlib.Simulation(state, pot, simlib.Langevin(kT=5.0, dt=quench_dt(n))).run(warm_steps)
    if kind == "langevin":
        sim = simlib.Simulation(state, pot, simlib.Langevin(kT=0.2, dt=0.01))
    elif kind == "nve":
        simlib.Simulation(state, pot, simlib.Langevin(kT=0.2, dt=0.005)).run(warm_steps)
        sim = simlib.Simulation(state, pot, simlib.VelocityVerlet(dt=0.002))
    elif kind in ("mc", "mc_checkerboard"):
        sim = simlib.Simulation(state, pot, simlib.Metropolis(kT=0.2, move_size=0.15,
                                                              checkerboard=kind == "mc_checkerboard"))
    else:
        raise ValueError(kind)
    sim.run(1)
    steps, done = 1, 0
    t0 = time.perf_counter()
    elapsed = 0.0
    while elapsed < target_seconds:
        sim.run(steps)
        done += steps
        elapsed = time.perf_counter() - t0
        steps = max(1, min(steps * 2, int(steps * (target_seconds - elapsed) / max(elapsed, 1e-3))))
    rate = done * n / elapsed
    print(json.dumps({
        "code": "simlib", "kind": kind, "n": n, "threads": threads, "steps": done,
        "seconds": elapsed, "rate": rate, "ns_per_particle_step": 1e9 / rate,
        "list_builds_per_step": sim.state.list_builds / max(1, sim.state.step - sim.state.step_origin),
        # listed pairs per particle (a half list holds each pair once, a full one twice)
        "pairs_per_particle": float(sim.nlist.counts.mean()) * (1.0 if sim.nlist.half else 0.5),
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }))


def run_simlib(kind, n, threads=1, target_seconds=2.0):
    env = dict(os.environ, NUMBA_NUM_THREADS=str(max(threads, 1)), PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-m", "bench.engine", "--case", kind, str(n), str(threads), str(target_seconds)],
        capture_output=True, text=True, env=env, cwd=ROOT, check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"simlib {kind} N={n} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- C++ reference ------------------------------------------------------------------------------
def build_reference(workdir, log=print):
    """Compile ref_sim.cpp into ``workdir``; return the binary, or None with a note to ``log``."""
    source = SHARED_BENCH / "ref_sim.cpp"
    compiler = shutil.which("g++")
    if not source.exists() or compiler is None:
        log(f"note: C++ reference skipped ({'no ' + str(source) if not source.exists() else 'no g++'})")
        return None
    binary = Path(workdir) / "ref_sim"
    subprocess.run([compiler, "-O3", "-march=native", "-std=c++17", "-o", str(binary), str(source)], check=True)
    return binary


def run_reference(binary, kind, n, target_seconds=2.0, rate_guess=None):
    mode = "mc" if kind == "mc" else "md"
    guess = rate_guess or (1e6 if mode == "mc" else 3e6)
    steps = max(2, int(target_seconds * guess / n))
    side = (n / DENSITY) ** 0.5
    skin = "1.0" if mode == "mc" else "0.4"
    out = subprocess.run([str(binary), mode, str(n), repr(side), str(steps), "0.2", skin],
                         capture_output=True, text=True, check=True)
    fields = out.stdout.split()
    rate = float(fields[4])
    return {"code": "c++", "kind": kind, "n": n, "threads": 1, "steps": steps, "seconds": float(fields[3]),
            "rate": rate, "ns_per_particle_step": 1e9 / rate, "rebuilds": int(fields[6])}


# -- LAMMPS ---------------------------------------------------------------------------------------
def find_lammps(log=print):
    lmp = os.environ.get("SIMLIB_LMP") or shutil.which("lmp")
    if lmp is None:
        log("note: LAMMPS skipped (no `lmp` on PATH; set SIMLIB_LMP to its path)")
        return None
    if not (SHARED_BENCH / "in.lj2d").exists():
        log(f"note: LAMMPS skipped (no {SHARED_BENCH / 'in.lj2d'})")
        return None
    return lmp


def lammps_atoms(n):
    """LAMMPS's atom count for a requested ``n``: ``in.lj2d`` builds a square lattice."""
    return max(2, round(n**0.5)) ** 2


def same_size(n, m):
    """Sizes close enough to compare rates (LAMMPS's square lattice rounds N)."""
    return abs(n - m) <= 0.01 * n


def run_lammps(lmp, n, workdir, target_seconds=2.0, rate_guess=None):
    n_atoms = lammps_atoms(n)
    side = round(n_atoms**0.5)
    steps = max(2, int(target_seconds * (rate_guess or 3e6) / n_atoms))
    melt = max(20, min(1000, int(4e6 // n_atoms)))
    log = Path(workdir) / f"log.lammps.{n_atoms}"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    lib = Path(lmp).resolve().parent.parent / "lib"
    if lib.is_dir():  # the PyPI wheel's MPI library lives in the venv's lib/
        env["LD_LIBRARY_PATH"] = f"{lib}:{env.get('LD_LIBRARY_PATH', '')}"
    subprocess.run(
        [lmp, "-in", str(SHARED_BENCH / "in.lj2d"), "-var", "n", str(side), "-var", "steps", str(steps),
         "-var", "melt", str(melt), "-var", "dt0", str(quench_dt(n_atoms)), "-screen", "none", "-log", str(log)],
        capture_output=True, text=True, check=True, cwd=workdir, env=env,
    )
    loops = re.findall(r"Loop time of ([0-9.eE+-]+) on", log.read_text())
    seconds = float(loops[-1])
    rate = n_atoms * steps / seconds
    return {"code": "lammps", "kind": "langevin", "n": n_atoms, "threads": 1, "steps": steps,
            "seconds": seconds, "rate": rate, "ns_per_particle_step": 1e9 / rate}


# -- one run of every code --------------------------------------------------------------------------
# Above this N the other codes run once, not once per repeat: the C++ reference's Monte
# Carlo alone takes over ten minutes at N = 10^6 (it rebuilds its whole list whenever one
# particle moves far), and a run that long is not the noisy kind.
OTHERS_ONCE_ABOVE = 262144


KINDS = ("langevin", "nve", "mc", "mc_checkerboard")
# what each simlib case is compared with in another code
COUNTERPART = {"langevin": "langevin", "nve": "langevin", "mc": "mc", "mc_checkerboard": "mc"}


def measure_codes(sizes, kinds=KINDS, threads=(1,), repeats=3, target_seconds=2.0,
                  reference=True, lammps=True, log=print):
    """Interleave every code at every size ``repeats`` times; return all rows.

    Each row is one process run; ``best_rows`` keeps the best rate per code. Above
    ``OTHERS_ONCE_ABOVE`` particles the C++ reference and LAMMPS run in the first repeat only.
    """
    rows = []
    with tempfile.TemporaryDirectory() as work:
        binary = build_reference(work, log) if reference else None
        lmp = find_lammps(log) if lammps else None
        for n in sizes:
            for rep in range(repeats):
                jobs = [("simlib", k, t) for k in kinds for t in threads]
                others = rep == 0 or n <= OTHERS_ONCE_ABOVE
                counterparts = sorted({COUNTERPART[k] for k in kinds})
                if binary is not None and others:
                    jobs += [("c++", k, 1) for k in counterparts]
                if lmp is not None and "langevin" in counterparts and others:
                    jobs.append(("lammps", "langevin", 1))
                for code, kind, t in jobs:
                    guess = _best_rate(rows, code, kind, n, t)
                    if code == "simlib":
                        row = run_simlib(kind, n, t, target_seconds)
                    elif code == "c++":
                        row = run_reference(binary, kind, n, target_seconds, guess)
                    else:
                        row = run_lammps(lmp, n, work, target_seconds, guess)
                    row["repeat"] = rep
                    rows.append(row)
                    log(f"  {code:7s} {kind:9s} N={row['n']:>8d} threads={t} rep {rep}: {row['rate']:.3e}/s")
    return rows


def _best_rate(rows, code, kind, n, threads):
    rates = [r["rate"] for r in rows if (r["code"], r["kind"], r["threads"]) == (code, kind, threads)
             and abs(r["n"] - n) <= 0.01 * n]
    return max(rates) if rates else None


def best_rows(rows):
    """Best-of-N rate per (code, kind, N, threads)."""
    best = {}
    for r in rows:
        key = (r["code"], r["kind"], r["n"], r["threads"])
        if key not in best or r["rate"] > best[key]["rate"]:
            best[key] = r
    return sorted(best.values(), key=lambda r: (r["kind"], r["n"], r["code"], r["threads"]))


def ratios(best):
    """simlib rate / other code's rate, same kind and (nearly) same N, one thread each."""
    out = []
    for r in best:
        if r["code"] != "simlib":
            continue
        for o in best:
            if o["code"] != "simlib" and o["kind"] == COUNTERPART[r["kind"]] and same_size(r["n"], o["n"]):
                out.append({"kind": r["kind"], "n": r["n"], "threads": r["threads"], "versus": f"{o['code']} {o['kind']}",
                            "ratio": r["rate"] / o["rate"]})
    return out


def thread_speedups(best):
    """simlib's rate with several threads over its one-thread rate, same kind and N."""
    one = {(r["kind"], r["n"]): r["rate"] for r in best if r["code"] == "simlib" and r["threads"] == 1}
    return [{"kind": r["kind"], "n": r["n"], "threads": r["threads"], "speedup": r["rate"] / one[(r["kind"], r["n"])]}
            for r in best if r["code"] == "simlib" and r["threads"] > 1 and (r["kind"], r["n"]) in one]


def summary_lines(best, ratio_rows, speedups):
    """The table of best rates, simlib's ratios to the other codes and its thread speed-ups,
    as printed by ``python -m bench.engine`` and logged by the ``scaling`` rule."""
    lines = [f"{'code':<8}{'kind':<16}{'N':>8}{'threads':>8}{'rate [/s]':>12}{'ns/ptcl-step':>14}"]
    for r in best:
        lines.append(f"{r['code']:<8}{r['kind']:<16}{r['n']:>8}{r['threads']:>8}{r['rate']:>12.3e}"
                     f"{r['ns_per_particle_step']:>14.1f}")
    lines.append("")
    lines.append("ratios (simlib / other, > 1 means simlib is faster):")
    for q in ratio_rows:
        lines.append(f"  simlib {q['kind']:<15} N={q['n']:<7} threads={q['threads']} vs {q['versus']:<16} "
                     f"{q['ratio']:.2f}")
    for q in speedups:
        lines.append(f"  simlib {q['kind']:<15} N={q['n']:<7} {q['threads']} threads vs 1: {q['speedup']:.2f}x")
    return lines


def compile_times(repeats=3):
    """Cold compile (empty numba cache) and cached load, for Langevin, NVE and MC runs, each
    from a fresh process; the cold compile ``repeats`` times, each into a new empty cache,
    and the best kept, as for the rates (this machine's speed wanders by a quarter)."""
    code = (
        "import time; t=time.perf_counter(); import simlib; "
        "s=simlib.initial_state(64, simlib.Box.cube(12.0, 2), seed=1); "
        "p=simlib.Potential('lj', r_cut=2.5); "
        "simlib.Simulation(s, p, simlib.Langevin(kT=1.0)).run(5); "
        "simlib.Simulation(s, p, simlib.VelocityVerlet()).run(5); "
        "simlib.Simulation(s, p, simlib.Metropolis(kT=1.0)).run(5); "
        "print(time.perf_counter()-t)"
    )

    def seconds(cache):
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=str(ROOT))
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        return float(out.stdout.strip().splitlines()[-1])

    cold, cached = [], []
    for _ in range(max(1, repeats)):
        with tempfile.TemporaryDirectory() as cache:
            cold.append(seconds(cache))
            cached.append(seconds(cache))
    return {"cold_compile_seconds": min(cold), "cached_load_seconds": min(cached),
            "cold_compile_runs": cold, "cached_load_runs": cached}


def cpu_model():
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return platform.processor() or "unknown"


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3, help="runs per code (best of N is kept)")
    parser.add_argument("--n", type=int, default=1024, help="number of particles")
    parser.add_argument("--seconds", type=float, default=2.0, help="timed seconds per run")
    parser.add_argument("--threads", default="1", help="simlib thread counts, e.g. 1,2 (speed-up printed)")
    parser.add_argument("--kinds", default=",".join(KINDS), help="cases to run, e.g. langevin,mc")
    parser.add_argument("--no-compile", action="store_true", help="skip the cold-compile measurement")
    parser.add_argument("--case", nargs=4, metavar=("KIND", "N", "THREADS", "SECONDS"), help=argparse.SUPPRESS)
    parser.add_argument("--output", default="results/bench/engine.json")
    args = parser.parse_args(argv)
    if args.case:
        measure(args.case[0], int(args.case[1]), int(args.case[2]), float(args.case[3]))
        return 0
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    threads = tuple(int(t) for t in args.threads.split(","))
    kinds = tuple(args.kinds.split(","))
    rows = measure_codes([args.n], kinds=kinds, threads=threads, repeats=args.repeats, target_seconds=args.seconds)
    best = best_rows(rows)
    ratio_rows = ratios(best)
    speedups = thread_speedups(best)
    print(f"\nbest of {args.repeats} per code:")
    for line in summary_lines(best, ratio_rows, speedups):
        print(line)
    compile_info = {} if args.no_compile else compile_times(args.repeats)
    if compile_info:
        runs = ", ".join(f"{t:.1f}" for t in compile_info["cold_compile_runs"])
        print(f"cold compile {compile_info['cold_compile_seconds']:.1f} s (best of {runs}), "
              f"cached load {compile_info['cached_load_seconds']:.1f} s")
    report = {
        "machine": {"cpu": cpu_model(), "cpu_count": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(), "load_average": os.getloadavg()[0]},
        "rows": rows, "best": best, "ratios": ratio_rows, "thread_speedups": speedups, **compile_info,
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
