# Per-run analysis (numbers with error bars, g(r), S(k), MSD), the summary and the manifest.


rule analyse_lj:
    input:
        thermo=rules.lj_langevin.output.thermo,
        trajectory=rules.lj_langevin.output.trajectory,
    output:
        numbers="results/lj/p{p}/seed{seed}/T{T}/analysis.json",
        structure="results/lj/p{p}/seed{seed}/T{T}/structure.nc",
        dynamics="results/lj/p{p}/seed{seed}/T{T}/dynamics.nc",
    log:
        "logs/analysis/lj_p{p}_seed{seed}_T{T}.log",
    group:
        "analysis"
    conda:
        ENV
    params:
        settings=config["analysis"],
        labels=labels("lj", "langevin", dt=LJ["production"].get("dt", 0.01)),
    script:
        "../scripts/analyse_run.py"


rule analyse_mc:
    input:
        thermo=rules.mc_production.output.thermo,
        trajectory=rules.mc_production.output.trajectory,
    output:
        numbers="results/mc/seed{seed}/T{T}/analysis.json",
        structure="results/mc/seed{seed}/T{T}/structure.nc",
    log:
        "logs/analysis/mc_seed{seed}_T{T}.log",
    group:
        "analysis"
    conda:
        ENV
    params:
        settings=config["analysis"],
        labels=labels("mc", "metropolis"),
    script:
        "../scripts/analyse_run.py"


rule analyse_acceptance:
    input:
        thermo=rules.mc_acceptance.output.thermo,
    output:
        numbers="results/mc/seed{seed}/acceptance/T{T}/dr{dr}/analysis.json",
    log:
        "logs/analysis/acceptance_seed{seed}_T{T}_dr{dr}.log",
    group:
        "short"
    conda:
        ENV
    params:
        settings=config["analysis"],
        labels=labels("acceptance", "metropolis"),
    script:
        "../scripts/analyse_run.py"


rule analyse_nve:
    input:
        thermo=rules.soft_nve.output.thermo,
        trajectory=rules.soft_nve.output.trajectory,
    output:
        numbers="results/soft/seed{seed}/nve/dt{dt}/analysis.json",
        structure="results/soft/seed{seed}/nve/dt{dt}/structure.nc",
        dynamics="results/soft/seed{seed}/nve/dt{dt}/dynamics.nc",
    log:
        "logs/analysis/nve_seed{seed}_dt{dt}.log",
    group:
        "analysis"
    conda:
        ENV
    params:
        settings=config["analysis"],
        labels=labels("nve", "nve", kT=SOFT["equilibrate"]["kT"]),
    script:
        "../scripts/analyse_run.py"


rule analyse_free:
    input:
        thermo=rules.free_particle.output.thermo,
        trajectory=rules.free_particle.output.trajectory,
    output:
        numbers="results/free/seed{seed}/{scheme}/analysis.json",
        dynamics="results/free/seed{seed}/{scheme}/dynamics.nc",
    log:
        "logs/analysis/free_seed{seed}_{scheme}.log",
    group:
        "short"
    conda:
        ENV
    params:
        settings={**config["analysis"], "equilibrated_fraction": 1.0},
        labels=labels(
            "free",
            "langevin",
            kT=FREE["kT"],
            dt=FREE["dt"],
            D_exact=FREE["kT"] / FREE["friction"],
            n=FREE["n"],
        ),
    script:
        "../scripts/analyse_run.py"


rule summary:
    input:
        numbers=run_numbers(),
        benchmarks=run_benchmarks(),
    output:
        summary=report(
            "results/summary.csv",
            caption="../report/summary.rst",
            category="Summary",
        ),
        summary_provenance="results/summary.csv-metadata.json",
        performance="results/performance.csv",
    log:
        "logs/summary.log",
    conda:
        ENV
    params:
        provenance=provenance,
    script:
        "../scripts/summary.py"


rule manifest:
    input:
        figure_files(),
        "results/summary.csv",
        [
            f"{r}/{name}.nc"
            for r in lj_runs() + mc_runs() + nve_runs()
            for name in ("state", "thermo", "trajectory")
        ],
        [f"{r}/trajectory.gsd" for r in lj_runs() + mc_runs() + nve_runs()],
        run_numbers(),
    output:
        "results/manifest.json",
    log:
        "logs/manifest.log",
    conda:
        ENV
    script:
        "../scripts/manifest.py"
