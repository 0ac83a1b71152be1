"""Run one simulation stage (a thin wrapper around simlib.pipeline.stages.run_stage)."""

import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../..")  # noqa: F821 (simlib without an install)

from simlib.pipeline.smk import run_script
from simlib.pipeline.stages import run_stage


def main(smk, log):
    start = smk.input.get("state", None) or smk.params.system
    run_stage(
        smk.params.stage,
        smk.params.potential,
        start,
        smk.output.state,
        smk.output.thermo,
        smk.output.get("trajectory", None),
        checkpoint_seconds=smk.params.checkpoint_seconds,
        config=smk.params.provenance,
        log=log,
        expect_system=smk.params.get("expect_system", None),
        vacf_out=smk.output.get("vacf", None),
    )


run_script(snakemake, main)  # noqa: F821
