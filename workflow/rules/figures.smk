# Report figures: PNG for the report (with captions), a PDF twin for print.


rule fig_energy:
    input:
        f"results/soft/seed{SEED0}/nve/dt{SOFT['report_dt']}/thermo.nc",
    output:
        report(
            f"{FIG}/energy_conservation.png",
            caption="../report/energy_conservation.rst",
            category="A7 energy conservation",
        ),
        f"{FIG}/energy_conservation.pdf",
    log:
        "logs/figures/energy_conservation.log",
    group:
        "figures"
    conda:
        ENV
    params:
        figure="energy",
        options={"dt": SOFT["report_dt"]},
    script:
        "../scripts/figure.py"


rule fig_drift:
    input:
        [f"{r}/analysis.json" for r in nve_runs() if f"seed{SEED0}/" in r],
    output:
        report(
            f"{FIG}/energy_drift.png",
            caption="../report/energy_drift.rst",
            category="A7 energy conservation",
        ),
        f"{FIG}/energy_drift.pdf",
    log:
        "logs/figures/energy_drift.log",
    group:
        "figures"
    conda:
        ENV
    params:
        figure="drift",
        options={},
    script:
        "../scripts/figure.py"


rule fig_phase_langevin:
    input:
        lambda w: lj_path("trajectory.nc", p=w.p),
    output:
        report(
            "results/figures/phase_langevin_p{p}.png",
            caption="../report/phase_langevin.rst",
            category="A6 phase separation",
        ),
        "results/figures/phase_langevin_p{p}.pdf",
    log:
        "logs/figures/phase_langevin_p{p}.log",
    group:
        "figures"
    conda:
        ENV
    params:
        figure="phase",
        options=lambda w: {
            "temperatures": LJ["temperatures"],
            "title": f"Lennard-Jones disks, Langevin, polydispersity p = {w.p}",
            "stage_time": config["analysis"]["snapshot_times"][-1],
        },
    script:
        "../scripts/figure.py"


rule fig_phase_mc:
    input:
        mc_path("trajectory.nc"),
    output:
        report(
            f"{FIG}/phase_mc.png",
            caption="../report/phase_mc.rst",
            category="A8 Monte Carlo",
        ),
        f"{FIG}/phase_mc.pdf",
    log:
        "logs/figures/phase_mc.log",
    group:
        "figures"
    conda:
        ENV
    params:
        figure="phase",
        options={
            "temperatures": MC["temperatures"],
            "title": "Lennard-Jones disks, Metropolis Monte Carlo",
            "time_label": "sweeps",
        },
    script:
        "../scripts/figure.py"


rule fig_acceptance:
    input:
        [f"{r}/analysis.json" for r in acceptance_runs() if f"seed{SEED0}/" in r],
    output:
        report(
            f"{FIG}/acceptance.png",
            caption="../report/acceptance.rst",
            category="A8 Monte Carlo",
        ),
        f"{FIG}/acceptance.pdf",
    log:
        "logs/figures/acceptance.log",
    group:
        "figures"
    conda:
        ENV
    params:
        figure="acceptance",
        options={},
    script:
        "../scripts/figure.py"


rule fig_msd:
    input:
        lj_path("dynamics.nc")
        + [f"results/soft/seed{SEED0}/nve/dt{SOFT['report_dt']}/dynamics.nc"],
    output:
        report(f"{FIG}/msd.png", caption="../report/msd.rst", category="Diffusion"),
        f"{FIG}/msd.pdf",
    log:
        "logs/figures/msd.log",
    group:
        "figures"
    conda:
        ENV
    params:
        figure="msd",
        options={
            "labels": [f"LJ Langevin $T^*={T:g}$" for T in LJ["temperatures"]]
            + [f"soft disks NVE ($T^*\\approx{SOFT['equilibrate']['kT']:g}$)"],
            "title": "Mean-square displacement",
        },
    script:
        "../scripts/figure.py"


rule fig_diffusion:
    input:
        [
            f"results/lj/p{p}/seed{SEED0}/T{T}/analysis.json"
            for p in LJ["polydispersities"]
            for T in LJ["temperatures"]
        ],
    output:
        report(
            f"{FIG}/diffusion.png",
            caption="../report/diffusion.rst",
            category="Diffusion",
        ),
        f"{FIG}/diffusion.pdf",
    log:
        "logs/figures/diffusion.log",
    group:
        "figures"
    conda:
        ENV
    params:
        figure="diffusion",
        options={
            "series_labels": [
                f"LJ Langevin, p = {p}"
                for p in LJ["polydispersities"]
                for T in LJ["temperatures"]
            ]
        },
    script:
        "../scripts/figure.py"


rule fig_free_particle:
    input:
        [f"results/free/seed{SEED0}/{s}/dynamics.nc" for s in FREE["schemes"]],
    output:
        report(
            f"{FIG}/free_particle_msd.png",
            caption="../report/free_particle.rst",
            category="Diffusion",
        ),
        f"{FIG}/free_particle_msd.pdf",
    log:
        "logs/figures/free_particle.log",
    group:
        "figures"
    conda:
        ENV
    params:
        figure="free_particle",
        options={
            "schemes": FREE["schemes"],
            "kT": FREE["kT"],
            "friction": FREE["friction"],
            "mass": FREE["mass"],
            "dim": config["system"]["dim"],
        },
    script:
        "../scripts/figure.py"


rule fig_structure:
    input:
        lj_path("structure.nc"),
    output:
        report(
            f"{FIG}/structure_langevin.png",
            caption="../report/structure.rst",
            category="Structure",
        ),
        f"{FIG}/structure_langevin.pdf",
    log:
        "logs/figures/structure_langevin.log",
    group:
        "figures"
    conda:
        ENV
    params:
        figure="structure",
        options={
            "labels": [f"$T^*={T:g}$" for T in LJ["temperatures"]],
            "title": "Lennard-Jones disks (Langevin): structure",
        },
    script:
        "../scripts/figure.py"


rule fig_mc_vs_langevin:
    input:
        lj_path("structure.nc", temperatures=COMMON_T)
        + [f"results/mc/seed{SEED0}/T{T}/structure.nc" for T in COMMON_T],
    output:
        report(
            f"{FIG}/mc_vs_langevin.png",
            caption="../report/mc_vs_langevin.rst",
            category="A8 Monte Carlo",
        ),
        f"{FIG}/mc_vs_langevin.pdf",
    log:
        "logs/figures/mc_vs_langevin.log",
    group:
        "figures"
    conda:
        ENV
    params:
        figure="structure",
        options={
            "labels": [f"Langevin $T^*={T:g}$" for T in COMMON_T]
            + [f"Monte Carlo $T^*={T:g}$" for T in COMMON_T],
            "title": "Monte Carlo against Langevin at the same temperature",
        },
    script:
        "../scripts/figure.py"
