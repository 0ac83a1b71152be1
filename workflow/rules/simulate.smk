# Simulation stages. Every stage reads the previous stage's state file; each rule
# names its run family, from which simlib.pipeline.runs derives all its paths.


rule lj_quench:
    output:
        **stage_outputs("lj_quench"),
    log:
        log_pattern("lj_quench", "stage"),
    benchmark:
        benchmark_pattern("lj_quench")
    conda:
        ENV
    resources:
        **job_resources(runtime=30, mem_mb=1000),
    params:
        family="lj_quench",
        stage=canonical(config["quench"]),
        potential=canonical(LJ["potential"]),
        system=lattice_system,
    script:
        "../scripts/run_stage.py"


use rule lj_quench as lj_langevin with:
    input:
        state=rules.lj_quench.output.state,
    output:
        **stage_outputs("lj", trajectory=True, vacf=True),
    log:
        log_pattern("lj", "stage"),
    benchmark:
        benchmark_pattern("lj")
    resources:
        **job_resources(runtime=120, mem_mb=2000),
    params:
        family="lj",
        stage=lambda w: with_kT(LJ["production"], w.T),


use rule lj_quench as soft_quench with:
    output:
        **stage_outputs("soft_quench"),
    log:
        log_pattern("soft_quench", "stage"),
    benchmark:
        benchmark_pattern("soft_quench")
    params:
        family="soft_quench",
        potential=canonical(SOFT["potential"]),


use rule soft_quench as soft_equilibrate with:
    input:
        state=rules.soft_quench.output.state,
    output:
        **stage_outputs("soft_equilibrate"),
    log:
        log_pattern("soft_equilibrate", "stage"),
    benchmark:
        benchmark_pattern("soft_equilibrate")
    resources:
        **job_resources(runtime=120, mem_mb=1000),
    params:
        family="soft_equilibrate",
        stage=canonical(SOFT["equilibrate"]),


use rule soft_quench as soft_nve with:
    input:
        state=rules.soft_equilibrate.output.state,
    output:
        **stage_outputs("nve", trajectory=True, vacf=True),
    log:
        log_pattern("nve", "stage"),
    benchmark:
        benchmark_pattern("nve")
    resources:
        **job_resources(runtime=120, mem_mb=2000),
    params:
        family="nve",
        stage=lambda w: canonical(
            {
                **SOFT["nve"],
                "dt": float(w.dt),
                "trajectory_every": SOFT["trajectory_every"],
            }
        ),


use rule lj_quench as mc_quench with:
    output:
        **stage_outputs("mc_quench"),
    log:
        log_pattern("mc_quench", "stage"),
    benchmark:
        benchmark_pattern("mc_quench")
    params:
        family="mc_quench",
        stage=canonical(MC["quench"]),
        potential=canonical(MC["potential"]),


use rule mc_quench as mc_production with:
    input:
        state=rules.mc_quench.output.state,
    output:
        **stage_outputs("mc", trajectory=True),
    log:
        log_pattern("mc", "stage"),
    benchmark:
        benchmark_pattern("mc")
    resources:
        **job_resources(runtime=240, mem_mb=1000),
    params:
        family="mc",
        stage=lambda w: with_kT(MC["production"], w.T),


use rule mc_quench as mc_acceptance with:
    input:
        state=rules.mc_quench.output.state,
    output:
        **stage_outputs("acceptance"),
    log:
        log_pattern("acceptance", "stage"),
    benchmark:
        benchmark_pattern("acceptance")
    group:
        "short"
    resources:
        **job_resources(runtime=20, mem_mb=1000),
    params:
        family="acceptance",
        stage=lambda w: canonical(
            {
                "method": "metropolis",
                "kT": float(w.T),
                "move_size": float(w.dr),
                "sweeps": MC["acceptance"]["sweeps"],
                "thermo_every": MC["acceptance"]["sweeps"],
            }
        ),


use rule lj_quench as free_particle with:
    output:
        **stage_outputs("free", trajectory=True),
    log:
        log_pattern("free", "stage"),
    benchmark:
        benchmark_pattern("free")
    group:
        "short"
    resources:
        **job_resources(runtime=20, mem_mb=1000),
    params:
        family="free",
        stage=lambda w: canonical(
            {
                "method": "langevin",
                "scheme": w.scheme,
                **{key: FREE[key] for key in ("kT", "friction", "dt", "duration")},
                "thermo_every": FREE["trajectory_every"],
                "trajectory_every": FREE["trajectory_every"],
            }
        ),
        potential={"kind": "ideal", "r_cut": 1.0},
        system=free_system,
