"""results/summary.csv (deterministic numbers) and results/performance.csv (wall times)."""

import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../..")  # noqa: F821 (simlib without an install)

from simlib.io import write_csv_sidecar
from simlib.pipeline.postprocess import performance_table, summary_table
from simlib.pipeline.smk import run_script


def main(smk, log):
    table = summary_table(smk.input.numbers)
    table.to_csv(smk.output.summary, index=False)
    write_csv_sidecar(smk.output.summary, table.columns, config=smk.params.provenance,
                      path=smk.output.summary_provenance)
    performance_table(table, smk.input.benchmarks).to_csv(smk.output.performance, index=False)
    log(f"{len(table)} runs summarised")


run_script(snakemake, main)  # noqa: F821
