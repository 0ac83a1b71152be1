"""Scaling benchmark: every code at every N, interleaved, best of N; CSV and figure."""

import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../..")  # noqa: F821 (simlib and bench without an install)

from bench.engine import best_rows, cpu_model, measure_codes, ratios, summary_lines, thread_speedups  # noqa: E402
from simlib.pipeline.smk import run_script  # noqa: E402

COLUMNS = ["code", "kind", "n", "threads", "rate", "ns_per_particle_step", "steps", "seconds", "peak_memory_mb", "cpu"]


def write_csv(best, path, cpu):
    import csv

    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for r in best:
            writer.writerow([r["code"], r["kind"], r["n"], r["threads"], f"{r['rate']:.6e}",
                             f"{r['ns_per_particle_step']:.4f}", r["steps"], f"{r['seconds']:.4f}",
                             f"{r['peak_memory_mb']:.1f}" if "peak_memory_mb" in r else "", cpu])


def draw(best, path, cpu):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=False)
    for ax, kinds, title in ((axes[0], ("langevin", "nve"), "molecular dynamics"), (axes[1], ("mc", "mc_checkerboard"), "Metropolis")):
        lines = sorted({(r["code"], r["kind"], r["threads"]) for r in best if r["kind"] in kinds})
        for code, kind, threads in lines:
            pts = sorted((r["n"], r["ns_per_particle_step"]) for r in best
                         if (r["code"], r["kind"], r["threads"]) == (code, kind, threads))
            label = f"{code} {kind}" + (f", {threads} thread{'s' if threads > 1 else ''}" if code == "simlib" else "")
            ax.plot([p[0] for p in pts], [p[1] for p in pts], "o-", label=label)
        ax.set_xscale("log")
        ax.set_xlabel("N")
        ax.set_ylabel("ns per trial move" if "mc" in kinds else "ns per particle-step")
        ax.set_title(title)
        ax.legend(fontsize=7)
    fig.suptitle(f"cost per particle-step, 2D LJ at density 0.64 ({cpu})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(smk, log):
    p = smk.params
    rows = measure_codes(list(p.sizes), threads=tuple(p.threads), repeats=int(p.repeats),
                         target_seconds=float(p.seconds), log=log)
    best = best_rows(rows)
    for line in summary_lines(best, ratios(best), thread_speedups(best)):
        log(line)
    cpu = cpu_model()
    write_csv(best, smk.output.csv, cpu)
    draw(best, smk.output.figure, cpu)
    log(f"wrote {smk.output.csv} and {smk.output.figure}")


if __name__ == "__main__" or "snakemake" in globals():
    run_script(snakemake, main)  # noqa: F821
