"""Validation study: one check group, the summary check, a figure, or the final table."""

import sys

sys.path.insert(0, f"{snakemake.scriptdir}/../..")  # noqa: F821 (simlib without an install)

from simlib.pipeline import validation
from simlib.pipeline.smk import run_script


def main(smk, log):
    if smk.rule == "validation_group":
        checks, data = validation.run_group(smk.wildcards.group, smk.params.settings, smk.params.seed)
        validation.save_group(smk.output.data, data, smk.params.settings, smk.params.seed)
        validation.write_checks(smk.output.checks, checks)
    elif smk.rule == "validation_summary":
        checks = validation.check_summary(smk.input.summary)
        validation.write_checks(smk.output.checks, checks)
    elif smk.rule == "validation_figure":
        validation.plot_group(validation.load_group(smk.input.data), smk.output.figure)
        return
    else:
        checks = None
        table = validation.collect(smk.input.checks, smk.output.table)
        counts = table["result"].value_counts().to_dict()
        log(f"validation: {counts}")
        for _, row in table[table["result"] == "FAIL"].iterrows():
            log(f"FAIL {row['group']}: {row['check']} {row['quantity']} = {row['measured']:.6g} +- "
                f"{row['measured_err']:.2g}, reference {row['reference']:.6g}, tolerance {row['tolerance']:.2g}")
        return
    for check in checks:
        log(f"{check.result} {check.check} {check.quantity}: {check.measured:.6g} +- {check.measured_err:.2g} "
            f"vs {check.reference:.6g} +- {check.reference_err:.2g} (tolerance {check.tolerance:.2g})")


run_script(snakemake, main)  # noqa: F821
