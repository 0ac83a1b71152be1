# Config validation, wildcard constraints and input functions shared by all rules.
import sys
from pathlib import Path

sys.path.insert(0, workflow.basedir)  # simlib importable even without an install

from simlib.pipeline.config import ConfigError, validate_config

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
    return {
        **config["system"],
        "seed": int(seed),
        "polydispersity": float(polydispersity),
    }


def with_kT(stage, kT):
    return {**stage, "kT": float(kT)}


def provenance(wildcards):
    """What every output records of the configuration that made it.

    Takes only ``wildcards``: Snakemake would pass resources (in no fixed order) to
    a function with ``**kwargs``, and changed params make every job rerun.
    """
    return {"config": config, "wildcards": dict(wildcards.items())}


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
    return expand(
        "results/soft/seed{seed}/nve/dt{dt}", seed=SEEDS, dt=SOFT["drift_dts"]
    )


def acceptance_runs():
    return expand(
        "results/mc/seed{seed}/acceptance/T{T}/dr{dr}",
        seed=SEEDS,
        T=MC["acceptance"]["temperatures"],
        dr=MC["acceptance"]["move_sizes"],
    )


def free_runs():
    return expand(
        "results/free/seed{seed}/{scheme}", seed=SEEDS, scheme=FREE["schemes"]
    )


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


def run_numbers():
    runs = lj_runs() + mc_runs() + nve_runs() + free_runs() + acceptance_runs()
    return [f"{r}/analysis.json" for r in runs]


def run_benchmarks():
    runs = lj_runs() + mc_runs() + nve_runs() + free_runs() + acceptance_runs()
    return [f"results/benchmarks/{'__'.join(Path(r).parts[1:])}.tsv" for r in runs]


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
