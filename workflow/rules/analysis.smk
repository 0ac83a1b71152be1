# Per-run analysis (numbers with error bars, g(r), S(k), MSD), the summary and the manifest.


def labels(system_name, method, **extra):
    """Identifying columns of a run in summary.csv."""

    def make(wildcards):
        w = dict(wildcards.items())
        run = {
            "lj": "lj/p{p}/seed{seed}/T{T}",
            "mc": "mc/seed{seed}/T{T}",
            "acceptance": "mc/seed{seed}/acceptance/T{T}/dr{dr}",
            "nve": "soft/seed{seed}/nve/dt{dt}",
            "free": "free/seed{seed}/{scheme}",
        }[system_name].format(**w)
        row = {
            "run": run,
            "system": system_name,
            "method": method,
            "seed": int(w["seed"]),
            "n": config["system"]["n"],
            "polydispersity": float(w.get("p", 0.0)),
        }
        if "T" in w:
            row["kT"] = float(w["T"])
        if "dt" in w:
            row["dt"] = float(w["dt"])
        return {**row, **extra}

    return make


rule analyse_lj:
    input:
        thermo=rules.lj_langevin.output.thermo,
        trajectory=rules.lj_langevin.output.trajectory,
    output:
        numbers="results/lj/p{p}/seed{seed}/T{T}/analysis.json",
        structure="results/lj/p{p}/seed{seed}/T{T}/structure.nc",
        dynamics="results/lj/p{p}/seed{seed}/T{T}/dynamics.nc",
    params:
        settings=config["analysis"],
        labels=labels("lj", "langevin", dt=LJ["production"].get("dt", 0.01)),
    log:
        "logs/analysis/lj_p{p}_seed{seed}_T{T}.log",
    conda:
        ENV
    group:
        "analysis"
    script:
        "../scripts/analyse_run.py"


rule analyse_mc:
    input:
        thermo=rules.mc_production.output.thermo,
        trajectory=rules.mc_production.output.trajectory,
    output:
        numbers="results/mc/seed{seed}/T{T}/analysis.json",
        structure="results/mc/seed{seed}/T{T}/structure.nc",
    params:
        settings=config["analysis"],
        labels=labels("mc", "metropolis"),
    log:
        "logs/analysis/mc_seed{seed}_T{T}.log",
    conda:
        ENV
    group:
        "analysis"
    script:
        "../scripts/analyse_run.py"


rule analyse_acceptance:
    input:
        thermo=rules.mc_acceptance.output.thermo,
    output:
        numbers="results/mc/seed{seed}/acceptance/T{T}/dr{dr}/analysis.json",
    params:
        settings=config["analysis"],
        labels=labels("acceptance", "metropolis"),
    log:
        "logs/analysis/acceptance_seed{seed}_T{T}_dr{dr}.log",
    conda:
        ENV
    group:
        "short"
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
    params:
        settings=config["analysis"],
        labels=labels("nve", "nve", kT=SOFT["equilibrate"]["kT"]),
    log:
        "logs/analysis/nve_seed{seed}_dt{dt}.log",
    conda:
        ENV
    group:
        "analysis"
    script:
        "../scripts/analyse_run.py"


rule analyse_free:
    input:
        thermo=rules.free_particle.output.thermo,
        trajectory=rules.free_particle.output.trajectory,
    output:
        numbers="results/free/seed{seed}/{scheme}/analysis.json",
        dynamics="results/free/seed{seed}/{scheme}/dynamics.nc",
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
    log:
        "logs/analysis/free_seed{seed}_{scheme}.log",
    conda:
        ENV
    group:
        "short"
    script:
        "../scripts/analyse_run.py"


def run_numbers():
    runs = lj_runs() + mc_runs() + nve_runs() + free_runs() + acceptance_runs()
    return [f"{r}/analysis.json" for r in runs]


def run_benchmarks():
    runs = lj_runs() + mc_runs() + nve_runs() + free_runs() + acceptance_runs()
    return [
        "results/benchmarks/" + r.removeprefix("results/").replace("/", "__") + ".tsv"
        for r in runs
    ]


rule summary:
    input:
        numbers=run_numbers(),
        benchmarks=run_benchmarks(),
    output:
        summary="results/summary.csv",
        performance="results/performance.csv",
    log:
        "logs/summary.log",
    conda:
        ENV
    script:
        "../scripts/summary.py"


rule manifest:
    input:
        figure_files(),
        "results/summary.csv",
        [f"{r}/{name}.nc" for r in lj_runs() + mc_runs() + nve_runs() for name in ("state", "thermo", "trajectory")],
        run_numbers(),
    output:
        "results/manifest.json",
    log:
        "logs/manifest.log",
    conda:
        ENV
    script:
        "../scripts/manifest.py"
