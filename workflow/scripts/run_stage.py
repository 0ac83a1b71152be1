"""Run one simulation stage (a thin wrapper around simlib.pipeline.stages.run_stage)."""

import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../..")  # noqa: F821 (simlib without an install)

from simlib.pipeline.runs import provenance_record, run_id, setpoint
from simlib.pipeline.smk import run_script
from simlib.pipeline.stages import run_stage


def main(smk, log):
    family = smk.params.family
    run = run_id(family, **dict(smk.wildcards.items()))
    point = setpoint(family, smk.params.stage, smk.params.potential, smk.params.system)
    upstream = smk.input.get("state", None)
    run_stage(
        smk.params.stage,
        smk.params.potential,
        upstream or smk.params.system,
        smk.output.state,
        smk.output.thermo,
        smk.output.get("trajectory", None),
        # read here, not a param: the checkpoint interval never changes a result
        checkpoint_seconds=smk.config["checkpoint_seconds"],
        config=provenance_record(run, point, smk.config),
        log=log,
        expect_system=smk.params.system if upstream else None,
        vacf_out=smk.output.get("vacf", None),
    )


run_script(snakemake, main)  # noqa: F821
