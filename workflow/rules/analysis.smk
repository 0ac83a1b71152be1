# Per-run analysis (numbers with error bars, g(r), S(k), MSD), the summary, the study
# table over replicas, and the manifest.


rule analyse_lj:
    input:
        thermo=rules.lj_langevin.output.thermo,
        trajectory=rules.lj_langevin.output.trajectory,
        vacf=rules.lj_langevin.output.vacf,
    output:
        **analysis_outputs("lj", "structure", "dynamics"),
    log:
        log_pattern("lj", "analysis"),
    group:
        "analysis"
    conda:
        ENV
    resources:
        **job_resources(),
    params:
        family="lj",
        settings=analysis_settings(),
    script:
        "../scripts/analyse_run.py"


use rule analyse_lj as analyse_mc with:
    input:
        thermo=rules.mc_production.output.thermo,
        trajectory=rules.mc_production.output.trajectory,
    output:
        **analysis_outputs("mc", "structure"),
    log:
        log_pattern("mc", "analysis"),
    params:
        family="mc",


use rule analyse_lj as analyse_nve with:
    input:
        thermo=rules.soft_nve.output.thermo,
        trajectory=rules.soft_nve.output.trajectory,
        vacf=rules.soft_nve.output.vacf,
    output:
        **analysis_outputs("nve", "structure", "dynamics"),
    log:
        log_pattern("nve", "analysis"),
    params:
        family="nve",


use rule analyse_lj as analyse_acceptance with:
    input:
        thermo=rules.mc_acceptance.output.thermo,
    output:
        **analysis_outputs("acceptance"),
    log:
        log_pattern("acceptance", "analysis"),
    group:
        "short"
    params:
        family="acceptance",


use rule analyse_lj as analyse_free with:
    input:
        thermo=rules.free_particle.output.thermo,
        trajectory=rules.free_particle.output.trajectory,
    output:
        **analysis_outputs("free", "dynamics"),
    log:
        log_pattern("free", "analysis"),
    group:
        "short"
    params:
        family="free",


# tables from the runs' small analysis files: on a cluster, on the submit host
localrules:
    study_family,
    summary,


rule study_family:
    input:
        lambda w: run_files("analysis.json", (w.family,)),
    output:
        "results/study/{family}.csv",
    log:
        "logs/study/{family}.log",
    conda:
        ENV
    resources:
        **job_resources(),
    params:
        runs=lambda w: run_ids(RUNS, (w.family,)),
    script:
        "../scripts/study.py"


rule summary:
    input:
        # the study tables need every run's analysis.json, and so its simulation and
        # benchmark file: the runs' files are not listed again (see run_files_hashed)
        studies=[study_file(family) for family in studied_families()],
    output:
        summary=report(
            "results/summary.csv",
            caption="../report/summary.rst",
            category="Summary",
        ),
        summary_provenance="results/summary.csv-metadata.json",
        study="results/study.csv",
        performance="results/performance.csv",
    log:
        "logs/summary.log",
    conda:
        ENV
    resources:
        **job_resources(),
    params:
        runs=summarised_runs(),
    script:
        "../scripts/summary.py"


rule manifest:
    input:
        figure_files(),
        "results/summary.csv",
        "results/study.csv",
    output:
        "results/manifest.json",
    log:
        "logs/manifest.log",
    conda:
        ENV
    resources:
        **job_resources(),
    params:
        run_files=run_files_hashed(),
    script:
        "../scripts/manifest.py"
