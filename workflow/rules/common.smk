# Config validation, wildcard constraints and input functions shared by all rules.
import sys

sys.path.insert(0, workflow.basedir)  # simlib importable even without an install

from simlib.config import ConfigError, validate_config

try:
    validate_config(config, workflow.source_path("../../config/schema.yaml"))
except ConfigError as err:
    sys.exit(f"error: {err}")


wildcard_constraints:
    seed=r"\d+",
    T=r"[0-9]+(\.[0-9]+)?(e-?[0-9]+)?",
    p=r"[0-9]+(\.[0-9]+)?",
    dt=r"[0-9]+(\.[0-9]+)?(e-?[0-9]+)?",
    dr=r"[0-9]+(\.[0-9]+)?(e-?[0-9]+)?",
    scheme=r"euler|baoab",


SEEDS = config["seeds"]
LJ = config["lj_langevin"]
SOFT = config["soft_md"]
MC = config["lj_mc"]
FREE = config["free_particle"]
ENV = "../../environment.yml"


def system(seed, polydispersity=0.0):
    return {**config["system"], "seed": int(seed), "polydispersity": float(polydispersity)}


def with_kT(stage, kT):
    return {**stage, "kT": float(kT)}


def provenance(wildcards, **extra):
    """What every output records of the configuration that made it."""
    return {"config": config, "wildcards": dict(wildcards.items()), **extra}


def lj_runs():
    return expand(
        "results/lj/p{p}/seed{seed}/T{T}",
        p=LJ["polydispersities"],
        seed=SEEDS,
        T=LJ["temperatures"],
    )


def mc_runs():
    return expand("results/mc/seed{seed}/T{T}", seed=SEEDS, T=MC["temperatures"])


def nve_runs():
    return expand("results/soft/seed{seed}/nve/dt{dt}", seed=SEEDS, dt=SOFT["drift_dts"])


def acceptance_runs():
    return expand(
        "results/mc/seed{seed}/acceptance/T{T}/dr{dr}",
        seed=SEEDS,
        T=MC["acceptance"]["temperatures"],
        dr=MC["acceptance"]["move_sizes"],
    )


def free_runs():
    return expand("results/free/seed{seed}/{scheme}", seed=SEEDS, scheme=FREE["schemes"])
