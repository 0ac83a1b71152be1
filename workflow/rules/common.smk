# Config validation, run identities and input functions shared by all rules.
#
# A rule's params hold only what determines its outputs: provenance (the config that
# made a file, versions, commit) is written by the job itself from `snakemake.config`,
# and `checkpoint_seconds` is read there too, so editing it reruns nothing.
import sys

sys.path.insert(0, workflow.basedir)  # simlib importable even without an install

from simlib.pipeline.config import ConfigError, validate_config
from simlib.pipeline.runs import (
    benchmark_pattern,
    enumerate_runs,
    log_pattern,
    output_pattern,
    run_ids,
    SUMMARISED,
    run_path,
    select_runs,
)

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
    family="|".join(SUMMARISED),


RUNS = enumerate_runs(config)  # once: the rules below ask for them many times
LJ = config["lj_langevin"]
SOFT = config["soft_md"]
MC = config["lj_mc"]
FREE = config["free_particle"]
ENV = "../../environment.yml"
FIG = "results/figures"
ANALYSIS_KEYS = ("equilibrated_fraction", "rdf", "structure_factor", "msd_fit")
DISK_MB = 1000  # Snakemake's default floor; a job writes a few MB
MEM_MB = 2000  # analyses, tables and figures (what the profiles' default-resources gave them)


def canonical(value):
    """Dicts with sorted keys, recursively: Snakemake compares params by their text,
    so the key order of a YAML file must not make every job rerun."""
    if isinstance(value, dict):
        return {key: canonical(value[key]) for key in sorted(value)}
    if isinstance(value, (list, tuple)):
        return [canonical(item) for item in value]
    return value


def job_resources(mem_mb=MEM_MB, runtime=None):
    """Memory and disk of a job, named in every rule. Left to Snakemake's defaults, mem_mb
    and disk_mb are expressions of input.size_mb, evaluated with a stat of every input of
    every job while the DAG is built (a fifth of a dry run of a 1000-run sweep)."""
    resources = {"mem_mb": mem_mb, "disk_mb": DISK_MB}
    if runtime is not None:
        resources["runtime"] = runtime
    return resources


def stage_outputs(family, trajectory=False, vacf=False):
    names = (
        ["state", "thermo"]
        + (["trajectory"] if trajectory else [])
        + (["vacf"] if vacf else [])
    )
    outputs = {name: output_pattern(family, f"{name}.nc") for name in names}
    if trajectory:
        # the same frames for HOOMD/OVITO/freud users (2D flag, radii, images)
        outputs["gsd"] = output_pattern(family, "trajectory.gsd")
    return outputs


def analysis_outputs(family, *datasets):
    outputs = {"numbers": output_pattern(family, "analysis.json")}
    outputs.update({name: output_pattern(family, f"{name}.nc") for name in datasets})
    return outputs


def lattice_system(wildcards):
    """The course system of a run: config `system` plus the run's seed and polydispersity."""
    system = {
        **config["system"],
        "seed": int(wildcards.seed),
        "polydispersity": float(wildcards.get("p", 0.0)),
    }
    return canonical(system)


def free_system(wildcards):
    keys = ("n", "box", "mass", "kT")
    system = {
        **{key: FREE[key] for key in keys},
        "dim": config["system"]["dim"],
        "seed": int(wildcards.seed),
    }
    return canonical(system)


def with_kT(stage, kT):
    return canonical({**stage, "kT": float(kT)})


def analysis_settings():
    return canonical({key: config["analysis"][key] for key in ANALYSIS_KEYS})


def summarised_runs():
    return run_ids(RUNS)


def studied_families():
    """Summarised families with at least one run in this config."""
    return [family for family in SUMMARISED if run_ids(RUNS, (family,))]


def study_file(family):
    return f"results/study/{family}.csv"


def run_files(name, families=None):
    runs = summarised_runs() if families is None else run_ids(RUNS, families)
    return [run_path(run, name) for run in runs]


def first_seed_files(family, name, **fixed):
    """Files of one family's runs of the first seed (and any fixed wildcard values)."""
    runs = select_runs(RUNS, family, seed=config["seeds"][0], **fixed)
    return [run_path(run, name) for run in runs]


def run_files_hashed():
    """The run files results/manifest.json hashes. A param, not inputs: each exists once
    summary.csv does (a run's simulation precedes its analysis, the study tables and the
    summary), and Snakemake pays ~0.3 ms per input on every call, for 6500 inputs on a
    1000-run sweep (bench/dag.py)."""
    files = [
        run_path(run, name)
        for run in run_ids(RUNS, ("lj", "mc", "nve"))
        for name in ("state.nc", "thermo.nc", "trajectory.nc", "trajectory.gsd")
    ]
    files += [run_path(run, "vacf.nc") for run in run_ids(RUNS, ("lj", "nve"))]
    return files + run_files("analysis.json")


def figure_outputs(name, caption, category):
    png = report(
        f"{FIG}/{name}.png", caption=f"../report/{caption}.rst", category=category
    )
    return [png, f"{FIG}/{name}.pdf"]


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
    return figure_files() + [
        "results/summary.csv",
        "results/study.csv",
        "results/manifest.json",
    ]
