# Simulation stages. Every stage reads the previous stage's state file.


rule lj_quench:
    output:
        state="results/lj/p{p}/seed{seed}/quench/state.nc",
        thermo="results/lj/p{p}/seed{seed}/quench/thermo.nc",
    log:
        "logs/lj/p{p}/seed{seed}/quench.log",
    benchmark:
        "results/benchmarks/lj__p{p}__seed{seed}__quench.tsv"
    conda:
        ENV
    resources:
        runtime=30,
        mem_mb=1000,
    params:
        stage=config["quench"],
        potential=LJ["potential"],
        system=lambda w: system(w.seed, w.p),
        checkpoint_seconds=config["checkpoint_seconds"],
        expect_system=config["system"],
        provenance=provenance,
    script:
        "../scripts/run_stage.py"


rule lj_langevin:
    input:
        state=rules.lj_quench.output.state,
    output:
        state="results/lj/p{p}/seed{seed}/T{T}/state.nc",
        thermo="results/lj/p{p}/seed{seed}/T{T}/thermo.nc",
        trajectory="results/lj/p{p}/seed{seed}/T{T}/trajectory.nc",
        vacf="results/lj/p{p}/seed{seed}/T{T}/vacf.nc",
    log:
        "logs/lj/p{p}/seed{seed}/T{T}.log",
    benchmark:
        "results/benchmarks/lj__p{p}__seed{seed}__T{T}.tsv"
    conda:
        ENV
    resources:
        runtime=120,
        mem_mb=2000,
    params:
        stage=lambda w: with_kT(LJ["production"], w.T),
        potential=LJ["potential"],
        checkpoint_seconds=config["checkpoint_seconds"],
        expect_system=config["system"],
        provenance=provenance,
    script:
        "../scripts/run_stage.py"


rule soft_quench:
    output:
        state="results/soft/seed{seed}/quench/state.nc",
        thermo="results/soft/seed{seed}/quench/thermo.nc",
    log:
        "logs/soft/seed{seed}/quench.log",
    benchmark:
        "results/benchmarks/soft__seed{seed}__quench.tsv"
    conda:
        ENV
    resources:
        runtime=30,
        mem_mb=1000,
    params:
        stage=config["quench"],
        potential=SOFT["potential"],
        system=lambda w: system(w.seed),
        checkpoint_seconds=config["checkpoint_seconds"],
        expect_system=config["system"],
        provenance=provenance,
    script:
        "../scripts/run_stage.py"


rule soft_equilibrate:
    input:
        state=rules.soft_quench.output.state,
    output:
        state="results/soft/seed{seed}/equilibrate/state.nc",
        thermo="results/soft/seed{seed}/equilibrate/thermo.nc",
    log:
        "logs/soft/seed{seed}/equilibrate.log",
    benchmark:
        "results/benchmarks/soft__seed{seed}__equilibrate.tsv"
    conda:
        ENV
    resources:
        runtime=120,
        mem_mb=1000,
    params:
        stage=SOFT["equilibrate"],
        potential=SOFT["potential"],
        checkpoint_seconds=config["checkpoint_seconds"],
        expect_system=config["system"],
        provenance=provenance,
    script:
        "../scripts/run_stage.py"


rule soft_nve:
    input:
        state=rules.soft_equilibrate.output.state,
    output:
        state="results/soft/seed{seed}/nve/dt{dt}/state.nc",
        thermo="results/soft/seed{seed}/nve/dt{dt}/thermo.nc",
        trajectory="results/soft/seed{seed}/nve/dt{dt}/trajectory.nc",
        vacf="results/soft/seed{seed}/nve/dt{dt}/vacf.nc",
    log:
        "logs/soft/seed{seed}/nve_dt{dt}.log",
    benchmark:
        "results/benchmarks/soft__seed{seed}__nve__dt{dt}.tsv"
    conda:
        ENV
    resources:
        runtime=120,
        mem_mb=2000,
    params:
        stage=lambda w: {
            **SOFT["nve"],
            "dt": float(w.dt),
            "trajectory_every": SOFT["trajectory_every"],
        },
        potential=SOFT["potential"],
        checkpoint_seconds=config["checkpoint_seconds"],
        expect_system=config["system"],
        provenance=provenance,
    script:
        "../scripts/run_stage.py"


rule mc_quench:
    output:
        state="results/mc/seed{seed}/quench/state.nc",
        thermo="results/mc/seed{seed}/quench/thermo.nc",
    log:
        "logs/mc/seed{seed}/quench.log",
    benchmark:
        "results/benchmarks/mc__seed{seed}__quench.tsv"
    conda:
        ENV
    resources:
        runtime=30,
        mem_mb=1000,
    params:
        stage=MC["quench"],
        potential=MC["potential"],
        system=lambda w: system(w.seed),
        checkpoint_seconds=config["checkpoint_seconds"],
        expect_system=config["system"],
        provenance=provenance,
    script:
        "../scripts/run_stage.py"


rule mc_production:
    input:
        state=rules.mc_quench.output.state,
    output:
        state="results/mc/seed{seed}/T{T}/state.nc",
        thermo="results/mc/seed{seed}/T{T}/thermo.nc",
        trajectory="results/mc/seed{seed}/T{T}/trajectory.nc",
    log:
        "logs/mc/seed{seed}/T{T}.log",
    benchmark:
        "results/benchmarks/mc__seed{seed}__T{T}.tsv"
    conda:
        ENV
    resources:
        runtime=240,
        mem_mb=1000,
    params:
        stage=lambda w: with_kT(MC["production"], w.T),
        potential=MC["potential"],
        checkpoint_seconds=config["checkpoint_seconds"],
        expect_system=config["system"],
        provenance=provenance,
    script:
        "../scripts/run_stage.py"


rule mc_acceptance:
    input:
        state=rules.mc_quench.output.state,
    output:
        state="results/mc/seed{seed}/acceptance/T{T}/dr{dr}/state.nc",
        thermo="results/mc/seed{seed}/acceptance/T{T}/dr{dr}/thermo.nc",
    log:
        "logs/mc/seed{seed}/acceptance_T{T}_dr{dr}.log",
    benchmark:
        "results/benchmarks/mc__seed{seed}__acceptance__T{T}__dr{dr}.tsv"
    group:
        "short"
    conda:
        ENV
    resources:
        runtime=20,
        mem_mb=1000,
    params:
        stage=lambda w: {
            "method": "metropolis",
            "kT": float(w.T),
            "move_size": float(w.dr),
            "sweeps": MC["acceptance"]["sweeps"],
            "thermo_every": MC["acceptance"]["sweeps"],
        },
        potential=MC["potential"],
        checkpoint_seconds=config["checkpoint_seconds"],
        expect_system=config["system"],
        provenance=provenance,
    script:
        "../scripts/run_stage.py"


rule free_particle:
    output:
        state="results/free/seed{seed}/{scheme}/state.nc",
        thermo="results/free/seed{seed}/{scheme}/thermo.nc",
        trajectory="results/free/seed{seed}/{scheme}/trajectory.nc",
    log:
        "logs/free/seed{seed}/{scheme}.log",
    benchmark:
        "results/benchmarks/free__seed{seed}__{scheme}.tsv"
    group:
        "short"
    conda:
        ENV
    resources:
        runtime=20,
        mem_mb=1000,
    params:
        stage=lambda w: {
            "method": "langevin",
            "scheme": w.scheme,
            "kT": FREE["kT"],
            "friction": FREE["friction"],
            "dt": FREE["dt"],
            "duration": FREE["duration"],
            "thermo_every": FREE["trajectory_every"],
            "trajectory_every": FREE["trajectory_every"],
        },
        potential={"kind": "ideal", "r_cut": 1.0},
        system=lambda w: {
            "n": FREE["n"],
            "box": 100.0,
            "dim": config["system"]["dim"],
            "seed": int(w.seed),
            "mass": FREE["mass"],
            "kT": FREE["kT"],
        },
        checkpoint_seconds=config["checkpoint_seconds"],
        expect_system=config["system"],
        provenance=provenance,
    script:
        "../scripts/run_stage.py"
