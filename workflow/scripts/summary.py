"""results/summary.csv (one row per run), results/study.csv (one row per state point:
the family tables of results/study/ together) and results/performance.csv (wall times)."""

import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../..")  # noqa: F821 (simlib without an install)

from simlib.pipeline.postprocess import combine_studies, performance_table, summary_table, write_csv
from simlib.pipeline.smk import run_script


def main(smk, log):
    table = summary_table(smk.input.numbers, expected_runs=smk.params.runs)
    write_csv(smk.output.summary, table)
    study = combine_studies(smk.input.studies)
    write_csv(smk.output.study, study)
    write_csv(smk.output.performance, performance_table(table, smk.input.benchmarks))
    log(f"{len(table)} runs summarised in {len(study)} state points")


run_script(snakemake, main)  # noqa: F821
