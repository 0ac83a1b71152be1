"""Timing of the simlib.analysis kernels: g(r), S(k) and MSD.

Run from the repository root::

    python -m bench.analysis            # full run (~3 min on 1 core, half of it freud)
    python -m bench.analysis --quick    # 10x fewer frames, for a smoke test

Systems (2D, random-walk frames at number density 0.64, reduced LJ units):

* small: 1000 frames of N = 1024 in a box of side L = 40 (the course system);
* large: 100 frames of N = 10^5 in a box of side L = sqrt(N / 0.64) = 395.3.

Settings: g(r) with r_max = 5 and 100 bins. S(k) with k_max = 10 (the first
peak of a dense disk fluid sits near 2 pi / 1 = 6.3) and 50 bins; on the small
box all 6372 allowed vectors (one per +-k) are used, on the large box there
would be ~6e5 and the cost is N per vector per frame, so at most 20 vectors per
bin (1000 in all) are sampled. MSD by FFT over all time origins; the O(T^2)
direct mode is timed on the small system only. Numba kernels are compiled (or
loaded from cache) before timing. If freud is installed its RDF and MSD are
timed on one thread for comparison.

Results: a table on stdout and ``results/bench/analysis.json``.
"""

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from simlib.analysis import MSD, RDF, StaticStructureFactor

DENSITY = 0.64
R_MAX, RDF_BINS = 5.0, 100
K_MAX, SK_BINS, SK_VECTORS_LARGE = 10.0, 50, 20


def random_walk(n_frames, n, side, seed, step=0.05):
    """Unwrapped 2D positions (n_frames, n, 2) [length]: uniform start, gaussian steps."""
    rng = np.random.default_rng(seed)
    start = rng.uniform(0.0, side, size=(1, n, 2))
    steps = rng.normal(scale=step, size=(n_frames - 1, n, 2))
    return np.concatenate([start, start + np.cumsum(steps, axis=0)])


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def run_rdf(frames, box):
    rdf = RDF(bins=RDF_BINS, r_max=R_MAX)
    for f, pos in enumerate(frames):
        rdf.compute(pos, box, reset=f == 0)
    return rdf


def run_sk(frames, box, max_per_bin):
    sk = StaticStructureFactor(bins=SK_BINS, k_max=K_MAX, max_vectors_per_bin=max_per_bin)
    for f, pos in enumerate(frames):
        sk.compute(pos, box, reset=f == 0)
    return sk


def freud_cases(frames, side):
    """Single-thread freud timings of the same RDF and MSD, or [] without freud."""
    try:
        import freud
    except ImportError:
        return []
    freud.parallel.set_num_threads(1)
    fbox = freud.box.Box.from_box([side, side])
    n = frames.shape[1]

    def rdf():
        ref = freud.density.RDF(bins=RDF_BINS, r_max=R_MAX, normalization_mode="finite_size")
        for f, pos in enumerate(frames):
            wrapped = np.mod(pos, side) - side / 2
            ref.compute((fbox, np.c_[wrapped, np.zeros(n)]), reset=f == 0)

    def msd():
        padded = np.concatenate([frames, np.zeros(frames.shape[:2] + (1,))], axis=-1)
        freud.msd.MSD(fbox, mode="window").compute(padded)

    return [("freud g(r)", rdf, "freud.density.RDF, 1 thread"), ("freud MSD", msd, "mode='window', 1 thread")]


def warm_up():
    """Compile (or load cached) numba kernels on a tiny system."""
    frames = random_walk(4, 64, 12.0, seed=0)
    run_rdf(frames, [12.0, 12.0])
    run_sk(frames, [12.0, 12.0], None)
    MSD(1.0, mode="direct").compute(frames)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10x fewer frames (smoke test)")
    parser.add_argument("--no-freud", action="store_true", help="skip the freud comparison")
    parser.add_argument("--output", default="results/bench/analysis.json", help="JSON output path")
    args = parser.parse_args(argv)
    scale = 10 if args.quick else 1
    systems = [("small", 1000 // scale, 1024, None), ("large", 100 // scale, 100_000, SK_VECTORS_LARGE)]

    t0 = time.perf_counter()
    warm_up()
    print(f"numba warm-up (compile or cache load): {time.perf_counter() - t0:.1f} s")
    rows = []
    for name, n_frames, n, max_per_bin in systems:
        side = float(np.sqrt(n / DENSITY))
        box = [side, side]
        frames = random_walk(n_frames, n, side, seed=1)
        n_vec = run_sk(frames[:1], box, max_per_bin).n_vectors.sum()
        cases = [
            ("g(r)", lambda: run_rdf(frames, box), f"r_max={R_MAX}, {RDF_BINS} bins, cell list"),
            ("S(k)", lambda: run_sk(frames, box, max_per_bin),
             f"k_max={K_MAX}, {SK_BINS} bins, {n_vec} vectors"
             + ("" if max_per_bin is None else f" (<= {max_per_bin}/bin)")),
            ("MSD fft", lambda: MSD(0.1, mode="fft").compute(frames), "all origins"),
        ]
        if name == "small":
            cases.append(("MSD direct", lambda: MSD(0.1, mode="direct").compute(frames), "O(T^2) reference"))
        if not args.no_freud:
            cases += freud_cases(frames, side)
        for label, fn, note in cases:
            seconds = timed(fn)
            rows.append({
                "analysis": label, "system": name, "n_frames": n_frames, "n_particles": n,
                "box_side": round(side, 3), "seconds": seconds,
                "ms_per_frame": 1e3 * seconds / n_frames, "notes": note,
            })
            print(f"  {name:5s} {label:10s} {seconds:8.2f} s", flush=True)
        del frames

    header = f"{'analysis':11s} {'system':6s} {'frames':>6s} {'N':>7s} {'total [s]':>10s} {'per frame [ms]':>15s}  notes"
    print("\n" + header + "\n" + "-" * len(header))
    for r in rows:
        print(f"{r['analysis']:11s} {r['system']:6s} {r['n_frames']:6d} {r['n_particles']:7d} "
              f"{r['seconds']:10.2f} {r['ms_per_frame']:15.2f}  {r['notes']}")

    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "quick": args.quick, "density": DENSITY, "python": platform.python_version(),
        "machine": platform.machine(), "cpu_count": os.cpu_count(),
        "numba_threads": os.environ.get("NUMBA_NUM_THREADS", "default"),
    }
    out.write_text(json.dumps({"meta": meta, "results": rows}, indent=2) + "\n")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
