"""results/summary.csv (one row per run) with its provenance sidecar, results/study.csv
(one row per state point: the family tables of results/study/ together) and
results/performance.csv (wall times)."""

import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../..")  # noqa: F821 (simlib without an install)

from simlib.io import write_csv_sidecar
from simlib.pipeline.postprocess import combine_studies, performance_table, summary_table, write_csv
from simlib.pipeline.runs import benchmark_path, run_path
from simlib.pipeline.smk import run_script


def main(smk, log):
    # each run's analysis.json and benchmark file exist: the study tables (inputs) need them
    numbers = [run_path(run, "analysis.json") for run in smk.params.runs]
    table = summary_table(numbers, expected_runs=smk.params.runs)
    write_csv(smk.output.summary, table)
    # provenance from the config this job read (not a param: editing it reruns nothing)
    write_csv_sidecar(smk.output.summary, table.columns, config=smk.config, path=smk.output.summary_provenance)
    study = combine_studies(smk.input.studies)
    write_csv(smk.output.study, study)
    benchmarks = [benchmark_path(run) for run in smk.params.runs]
    write_csv(smk.output.performance, performance_table(table, benchmarks))
    log(f"{len(table)} runs summarised in {len(study)} state points")


run_script(snakemake, main)  # noqa: F821
