"""Workflow benchmark: how long `snakemake -n` takes to build the DAG of a large sweep.

Run from the repository root::

    python -m bench.dag            # 1000 Langevin runs (10 seeds x 50 T x 2 polydispersities)
    python -m bench.dag --seeds 20 # 2000

Writes the sweep config to a temporary directory, times a dry run there (best of 3) and
prints the number of jobs planned, the wall seconds and the CPU seconds (user + system of
the dry run's process). On a shared machine the CPU seconds are the steadier number.
"""

import argparse
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def sweep_config(seeds, temperatures, polydispersities):
    return {
        "seeds": list(range(1, seeds + 1)),
        "lj_langevin": {
            "temperatures": [round(0.1 + 0.02 * i, 4) for i in range(temperatures)],
            "polydispersities": [round(0.1 * i, 4) for i in range(polydispersities)],
        },
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--temperatures", type=int, default=50)
    parser.add_argument("--polydispersities", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    runs = args.seeds * args.temperatures * args.polydispersities
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "sweep.yaml"
        config.write_text(yaml.safe_dump(sweep_config(args.seeds, args.temperatures, args.polydispersities)))
        cmd = [sys.executable, "-m", "snakemake", "-n", "--snakefile", str(REPO / "Snakefile"),
               "--directory", tmp, "--configfile", str(config)]
        times, cpus = [], []
        for _ in range(args.repeat):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            out = subprocess.run(cmd, capture_output=True, text=True)
            times.append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            if out.returncode != 0:
                sys.exit(f"error: dry run failed: {out.stderr.strip().splitlines()[-1:]}")
        total = re.search(r"^total\s+(\d+)", out.stdout + out.stderr, re.M)
    jobs = int(total.group(1)) if total else -1
    print(f"{runs} Langevin runs, {jobs} jobs planned: snakemake -n took {min(times):.1f} s wall, "
          f"{min(cpus):.1f} s CPU (best of {args.repeat}; all wall: {', '.join(f'{t:.1f}' for t in times)}; "
          f"all CPU: {', '.join(f'{t:.1f}' for t in cpus)})")


if __name__ == "__main__":
    main()
