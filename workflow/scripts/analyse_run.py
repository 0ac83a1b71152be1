"""Key numbers and figure datasets of one run (calls simlib.pipeline.postprocess)."""

import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../..")  # noqa: F821 (simlib without an install)

from simlib.pipeline.postprocess import analyse_run, save_dataset, write_json
from simlib.pipeline.runs import run_id
from simlib.pipeline.smk import run_script


def main(smk, log):
    expected = run_id(smk.params.family, **dict(smk.wildcards.items()))
    row, datasets = analyse_run(
        smk.input.thermo,
        smk.input.get("trajectory", None),
        settings=smk.params.settings,
        expected_run=expected,
        vacf_path=smk.input.get("vacf", None),
    )
    write_json(smk.output.numbers, row)
    for name in ("structure", "dynamics"):
        target = smk.output.get(name, None)
        if target is not None:
            if name not in datasets:
                raise ValueError(f"run {expected} has no {name} data (trajectory too short?)")
            save_dataset(target, datasets[name], {"run": row["run"]})
    log(f"{row['run']}: U/N={row['potential_per_particle']:.6g} +- {row['potential_per_particle_err']:.2g}")


run_script(snakemake, main)  # noqa: F821
