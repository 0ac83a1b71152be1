# Report figures: PNG for the report (with captions), a PDF twin for print. Each
# figure function reads the set-points of the runs it shows from their files, or
# the replica means of results/study.csv; no rule passes labels or numbers.


P0 = LJ["polydispersities"][0]
COMMON_T = [T for T in MC["temperatures"] if T in LJ["temperatures"]]


# seconds of plotting each: on a cluster they run on the submit host, not as queued jobs
localrules:
    fig_energy,
    fig_drift,
    fig_phase_langevin,
    fig_phase_mc,
    fig_acceptance,
    fig_msd,
    fig_diffusion,
    fig_free_particle,
    fig_structure,
    fig_mc_vs_langevin,


rule fig_energy:
    input:
        first_seed_files("nve", "thermo.nc", dt=SOFT["report_dt"]),
    output:
        figure_outputs(
            "energy_conservation", "energy_conservation", "A7 energy conservation"
        ),
    log:
        "logs/figures/energy_conservation.log",
    conda:
        ENV
    resources:
        **job_resources(),
    params:
        figure="energy",
        options={},
    script:
        "../scripts/figure.py"


use rule fig_energy as fig_drift with:
    input:
        study_file("nve"),
    output:
        figure_outputs("energy_drift", "energy_drift", "A7 energy conservation"),
    log:
        "logs/figures/energy_drift.log",
    params:
        figure="drift",


use rule fig_energy as fig_phase_langevin with:
    input:
        lambda w: first_seed_files("lj", "trajectory.nc", p=float(w.p)),
    output:
        report(
            f"{FIG}/phase_langevin_p{{p}}.png",
            caption="../report/phase_langevin.rst",
            category="A6 phase separation",
        ),
        f"{FIG}/phase_langevin_p{{p}}.pdf",
    log:
        "logs/figures/phase_langevin_p{p}.log",
    params:
        figure="phase",
        options={"stage_time": config["analysis"]["snapshot_times"][-1]},


use rule fig_energy as fig_phase_mc with:
    input:
        first_seed_files("mc", "trajectory.nc"),
    output:
        figure_outputs("phase_mc", "phase_mc", "A8 Monte Carlo"),
    log:
        "logs/figures/phase_mc.log",
    params:
        figure="phase",


use rule fig_energy as fig_acceptance with:
    input:
        study_file("acceptance"),
    output:
        figure_outputs("acceptance", "acceptance", "A8 Monte Carlo"),
    log:
        "logs/figures/acceptance.log",
    params:
        figure="acceptance",


use rule fig_energy as fig_msd with:
    input:
        first_seed_files("lj", "dynamics.nc", p=P0)
        + first_seed_files("nve", "dynamics.nc", dt=SOFT["report_dt"]),
    output:
        figure_outputs("msd", "msd", "Diffusion"),
    log:
        "logs/figures/msd.log",
    params:
        figure="msd",


use rule fig_energy as fig_diffusion with:
    input:
        study_file("lj"),
    output:
        figure_outputs("diffusion", "diffusion", "Diffusion"),
    log:
        "logs/figures/diffusion.log",
    params:
        figure="diffusion",


use rule fig_energy as fig_free_particle with:
    input:
        first_seed_files("free", "dynamics.nc"),
    output:
        figure_outputs("free_particle_msd", "free_particle", "Diffusion"),
    log:
        "logs/figures/free_particle.log",
    params:
        figure="free_particle",


use rule fig_energy as fig_structure with:
    input:
        first_seed_files("lj", "structure.nc", p=P0),
    output:
        figure_outputs("structure_langevin", "structure", "Structure"),
    log:
        "logs/figures/structure_langevin.log",
    params:
        figure="structure",


use rule fig_energy as fig_mc_vs_langevin with:
    input:
        [
            f
            for T in COMMON_T
            for f in first_seed_files("lj", "structure.nc", p=P0, T=T)
        ]
        + [f for T in COMMON_T for f in first_seed_files("mc", "structure.nc", T=T)],
    output:
        figure_outputs("mc_vs_langevin", "mc_vs_langevin", "A8 Monte Carlo"),
    log:
        "logs/figures/mc_vs_langevin.log",
    params:
        figure="structure",
