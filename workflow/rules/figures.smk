# Report figures: PNG for the report (with captions), a PDF twin for print.

FIG = "results/figures"
P0 = LJ["polydispersities"][0]
SEED0 = SEEDS[0]


def figure_files():
    names = [
        "energy_conservation",
        "energy_drift",
        "acceptance",
        "msd",
        "diffusion",
        "free_particle_msd",
        "phase_mc",
        "structure_langevin",
        "mc_vs_langevin",
    ]
    names += [f"phase_langevin_p{p}" for p in LJ["polydispersities"]]
    return [f"{FIG}/{name}.png" for name in names]


def all_targets():
    return figure_files() + ["results/summary.csv", "results/manifest.json"]


def lj_path(name, p=P0, temperatures=None):
    temps = LJ["temperatures"] if temperatures is None else temperatures
    return [f"results/lj/p{p}/seed{SEED0}/T{T}/{name}" for T in temps]


def mc_path(name):
    return [f"results/mc/seed{SEED0}/T{T}/{name}" for T in MC["temperatures"]]


COMMON_T = [T for T in MC["temperatures"] if T in LJ["temperatures"]]


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
    params:
        figure="energy",
        options={"dt": SOFT["report_dt"]},
    log:
        "logs/figures/energy_conservation.log",
    conda:
        ENV
    group:
        "figures"
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
    params:
        figure="drift",
        options={},
    log:
        "logs/figures/energy_drift.log",
    conda:
        ENV
    group:
        "figures"
    script:
        "../scripts/figure.py"


rule fig_phase_langevin:
    input:
        lambda w: lj_path("trajectory.nc", p=w.p),
    output:
        report(
            FIG + "/phase_langevin_p{p}.png",
            caption="../report/phase_langevin.rst",
            category="A6 phase separation",
        ),
        FIG + "/phase_langevin_p{p}.pdf",
    params:
        figure="phase",
        options=lambda w: {
            "temperatures": LJ["temperatures"],
            "title": f"Lennard-Jones disks, Langevin, polydispersity p = {w.p}",
            "stage_time": config["analysis"]["snapshot_times"][-1],
        },
    log:
        "logs/figures/phase_langevin_p{p}.log",
    conda:
        ENV
    group:
        "figures"
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
    params:
        figure="phase",
        options={
            "temperatures": MC["temperatures"],
            "title": "Lennard-Jones disks, Metropolis Monte Carlo",
            "time_label": "sweeps",
        },
    log:
        "logs/figures/phase_mc.log",
    conda:
        ENV
    group:
        "figures"
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
    params:
        figure="acceptance",
        options={},
    log:
        "logs/figures/acceptance.log",
    conda:
        ENV
    group:
        "figures"
    script:
        "../scripts/figure.py"


rule fig_msd:
    input:
        lj_path("dynamics.nc")
        + [f"results/soft/seed{SEED0}/nve/dt{SOFT['report_dt']}/dynamics.nc"],
    output:
        report(
            f"{FIG}/msd.png", caption="../report/msd.rst", category="Diffusion"
        ),
        f"{FIG}/msd.pdf",
    params:
        figure="msd",
        options={
            "labels": [f"LJ Langevin $T^*={T:g}$" for T in LJ["temperatures"]]
            + [f"soft disks NVE ($T^*\\approx{SOFT['equilibrate']['kT']:g}$)"],
            "title": "Mean-square displacement",
        },
    log:
        "logs/figures/msd.log",
    conda:
        ENV
    group:
        "figures"
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
    params:
        figure="diffusion",
        options={
            "series_labels": [
                f"LJ Langevin, p = {p}"
                for p in LJ["polydispersities"]
                for T in LJ["temperatures"]
            ]
        },
    log:
        "logs/figures/diffusion.log",
    conda:
        ENV
    group:
        "figures"
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
    params:
        figure="free_particle",
        options={
            "schemes": FREE["schemes"],
            "kT": FREE["kT"],
            "friction": FREE["friction"],
            "mass": FREE["mass"],
            "dim": config["system"]["dim"],
        },
    log:
        "logs/figures/free_particle.log",
    conda:
        ENV
    group:
        "figures"
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
    params:
        figure="structure",
        options={
            "labels": [f"$T^*={T:g}$" for T in LJ["temperatures"]],
            "title": "Lennard-Jones disks (Langevin): structure",
        },
    log:
        "logs/figures/structure_langevin.log",
    conda:
        ENV
    group:
        "figures"
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
    params:
        figure="structure",
        options={
            "labels": [f"Langevin $T^*={T:g}$" for T in COMMON_T]
            + [f"Monte Carlo $T^*={T:g}$" for T in COMMON_T],
            "title": "Monte Carlo against Langevin at the same temperature",
        },
    log:
        "logs/figures/mc_vs_langevin.log",
    conda:
        ENV
    group:
        "figures"
    script:
        "../scripts/figure.py"
