"""Draw one report figure: simlib.pipeline.figures.<params.figure>(inputs, output, **params.options)."""

import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../..")  # noqa: F821 (simlib without an install)

from simlib.pipeline import figures
from simlib.pipeline.smk import run_script


def main(smk, log):
    draw = getattr(figures, smk.params.figure)
    draw(list(smk.input), smk.output[0], **smk.params.options)
    log(f"wrote {smk.output[0]}")


run_script(snakemake, main)  # noqa: F821
