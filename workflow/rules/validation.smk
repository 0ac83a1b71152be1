# Validation study (`snakemake --cores 8 validation`): not part of `all`.
VAL = config["validation"]
VAL_DIR = "results/validation"
VAL_GROUPS = list(VAL["groups"]) + (["summary"] if VAL["summary"] else [])


rule validation_group:
    output:
        checks=f"{VAL_DIR}/groups/{{group}}.csv",
        data=f"{VAL_DIR}/groups/{{group}}.nc",
    log:
        "logs/validation/{group}.log",
    wildcard_constraints:
        group="exact|dt_convergence|methods|reweighting|diffusion|lj3d|hard_disks",
    conda:
        ENV
    resources:
        **job_resources(mem_mb=2000, runtime=240),
    params:
        settings=lambda w: VAL[w.group],
        seed=VAL["seed"],
    script:
        "../scripts/validate.py"


rule validation_summary:
    input:
        summary="results/summary.csv",
    output:
        checks=f"{VAL_DIR}/groups/summary.csv",
    log:
        "logs/validation/summary.log",
    conda:
        ENV
    resources:
        **job_resources(),
    script:
        "../scripts/validate.py"


# a plot of one group's small file: on a cluster, on the submit host
localrules:
    validation_figure,


rule validation_figure:
    input:
        data=f"{VAL_DIR}/groups/{{group}}.nc",
    output:
        figure=report(
            f"{VAL_DIR}/figures/{{group}}.png",
            caption="../report/validation.rst",
            category="Validation",
        ),
    log:
        "logs/validation/figure_{group}.log",
    conda:
        ENV
    resources:
        **job_resources(),
    script:
        "../scripts/validate.py"


rule validation:
    input:
        checks=expand(f"{VAL_DIR}/groups/{{group}}.csv", group=VAL_GROUPS),
        figures=expand(f"{VAL_DIR}/figures/{{group}}.png", group=VAL["groups"]),
    output:
        table=report(
            f"{VAL_DIR}/validation.csv",
            caption="../report/validation.rst",
            category="Validation",
        ),
    log:
        "logs/validation/validation.log",
    conda:
        ENV
    resources:
        **job_resources(),
    script:
        "../scripts/validate.py"
