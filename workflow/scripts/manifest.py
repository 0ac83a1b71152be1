"""results/manifest.json: SHA-256 of the data of every output, and the environment."""

import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../..")  # noqa: F821 (simlib without an install)

from simlib.pipeline.manifest import write_manifest
from simlib.pipeline.smk import run_script


def main(smk, log):
    # figures and tables are inputs, run files a param (run_files_hashed in common.smk)
    manifest = write_manifest(smk.output[0], list(smk.input) + list(smk.params.run_files))
    log(f"{len(manifest['files'])} files hashed")


run_script(snakemake, main)  # noqa: F821
