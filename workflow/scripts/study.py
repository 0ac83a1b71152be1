"""results/study/<family>.csv: one row per state point of a run family, means over replicas."""

import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../..")  # noqa: F821 (simlib without an install)

from simlib.pipeline.postprocess import study_table, summary_table, write_csv
from simlib.pipeline.smk import run_script


def main(smk, log):
    runs = summary_table(list(smk.input), expected_runs=smk.params.runs)
    study = study_table(runs)
    write_csv(smk.output[0], study)
    log(f"{len(runs)} runs in {len(study)} state points")


run_script(snakemake, main)  # noqa: F821
