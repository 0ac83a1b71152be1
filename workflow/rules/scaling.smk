# Engine cost per particle-step against N for simlib (1 and 2 threads), the C++ reference
# and LAMMPS (when installed), measured in one run. Not part of `all`:
#   snakemake --cores 2 scaling


rule scaling:
    output:
        csv="results/bench/scaling.csv",
        figure="results/bench/scaling.png",
    log:
        "logs/bench/scaling.log",
    conda:
        ENV
    threads: 2
    resources:
        **job_resources(mem_mb=4000, runtime=240),
    params:
        # near squares: LAMMPS's lattice is side^2, so each size is compared with it
        sizes=[1024, 10000, 100000, 1000000],
        threads=[1, 2],
        repeats=2,
        seconds=3.0,
    script:
        "../scripts/scaling.py"
