"""Run identities: one path pattern per run family, and the set-point of every run.

A *run* is one simulation stage whose files live in ``results/<run id>/``. Its id is
its family's pattern filled in with the run's wildcards, e.g. ``lj/p0.15/seed1/T0.4``.
Everything named after a run -- its outputs, log, benchmark file and its row in
``summary.csv`` -- is derived from :data:`FAMILIES` here and nowhere else.

The *set-point* of a run (method, potential, kT, dt or move size, polydispersity,
seed, N, box) is built by :func:`setpoint` from what the stage is actually given,
written into every file the stage makes (the ``config`` provenance attribute, key
``setpoint``), and read back by :func:`read_run` wherever a run's numbers are used:
no code parses numbers out of paths or pairs config lists with input order.
"""

import json
import math
import string
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

# family -> path pattern under results/ (Snakemake wildcards in braces)
FAMILIES = {
    "lj_quench": "lj/p{p}/seed{seed}/quench",
    "lj": "lj/p{p}/seed{seed}/T{T}",
    "soft_quench": "soft/seed{seed}/quench",
    "soft_equilibrate": "soft/seed{seed}/equilibrate",
    "nve": "soft/seed{seed}/nve/dt{dt}",
    "mc_quench": "mc/seed{seed}/quench",
    "mc": "mc/seed{seed}/T{T}",
    "acceptance": "mc/seed{seed}/acceptance/T{T}/dr{dr}",
    "free": "free/seed{seed}/{scheme}",
}

# families with a row in summary.csv (the quench/equilibration stages only prepare states)
SUMMARISED = ("lj", "mc", "nve", "acceptance", "free")

# set-point keys that name a state point; replicas differ only in ``seed``
STATE_POINT = ("system", "method", "potential", "scheme", "kT", "polydispersity", "n", "box", "dim",
               "dt", "move_size")

RESULTS = "results"


class RunError(ValueError):
    """A run is missing, recorded under another identity, or lacks its set-point."""


def wildcard_names(family):
    return [name for _, name, _, _ in string.Formatter().parse(FAMILIES[family]) if name]


def run_id(family, **wildcards):
    """The run's identity, e.g. ``run_id("lj", p=0.0, seed=1, T=0.2) == "lj/p0.0/seed1/T0.2"``."""
    return FAMILIES[family].format(**{k: wildcards[k] for k in wildcard_names(family)})


def output_pattern(family, name):
    """Snakemake output pattern of a run file, e.g. ``results/lj/p{p}/seed{seed}/T{T}/state.nc``."""
    return f"{RESULTS}/{FAMILIES[family]}/{name}"


def log_pattern(family, rule):
    return f"logs/{FAMILIES[family]}/{rule}.log"


def benchmark_pattern(family):
    return f"{RESULTS}/benchmarks/{FAMILIES[family]}.tsv"


def benchmark_path(run):
    """Benchmark file of a run id (the same derivation as :func:`benchmark_pattern`)."""
    return f"{RESULTS}/benchmarks/{run}.tsv"


def run_path(run, name):
    return f"{RESULTS}/{run}/{name}"


class Run(NamedTuple):
    family: str
    wildcards: dict
    id: str


def enumerate_runs(config):
    """Every summarised run of a validated config, as a list of :class:`Run`.

    The order is fixed (family, then the config lists' nesting) so that target lists,
    and therefore Snakemake's DAG, do not depend on dict ordering. A Snakefile calls
    this once and hands the list to :func:`run_ids` and :func:`select_runs`.
    """
    lj, soft, mc, free = config["lj_langevin"], config["soft_md"], config["lj_mc"], config["free_particle"]
    runs = []
    for seed in config["seeds"]:
        for p in lj["polydispersities"]:
            runs += [("lj", {"p": p, "seed": seed, "T": T}) for T in lj["temperatures"]]
        runs += [("mc", {"seed": seed, "T": T}) for T in mc["temperatures"]]
        runs += [("nve", {"seed": seed, "dt": dt}) for dt in soft["drift_dts"]]
        runs += [
            ("acceptance", {"seed": seed, "T": T, "dr": dr})
            for T in mc["acceptance"]["temperatures"]
            for dr in mc["acceptance"]["move_sizes"]
        ]
        runs += [("free", {"seed": seed, "scheme": scheme}) for scheme in free["schemes"]]
    return [Run(family, w, run_id(family, **w)) for family, w in runs]


def run_ids(runs, families=SUMMARISED):
    """Ids of the runs of ``families`` among ``runs`` (from :func:`enumerate_runs`)."""
    return [run.id for run in runs if run.family in families]


def select_runs(runs, family, **fixed):
    """Ids of one family's runs whose wildcards equal ``fixed`` (compared as values)."""
    return [
        run.id
        for run in runs
        if run.family == family and all(run.wildcards[key] == value for key, value in fixed.items())
    ]


_METHOD_KEYS = {
    "langevin": ("kT", "dt", "friction", "scheme"),
    "nve": ("dt",),
    "metropolis": ("kT", "move_size"),
}
_METHOD_DEFAULTS = {"dt": {"langevin": 0.01, "nve": 0.001}, "friction": 1.0, "scheme": "euler", "move_size": 0.15}


def setpoint(family, stage, potential, system):
    """The set-point of a run from its stage spec, potential spec and system spec.

    Numbers the stage would default (dt, friction, scheme, move size) are filled in
    with the stage runner's defaults so that the record says what ran.
    """
    method = stage["method"]
    point = {"system": family, "method": method}
    for key in _METHOD_KEYS[method]:
        if key in stage:
            value = stage[key]
        else:
            default = _METHOD_DEFAULTS[key]
            value = default[method] if isinstance(default, dict) else default
        point[key] = float(value) if key != "scheme" else str(value)
    if method == "metropolis":
        point["checkerboard"] = bool(stage.get("checkerboard", False))  # its acceptance counts cell exits
    point["potential"] = str(potential["kind"])
    point["r_cut"] = float(potential.get("r_cut", math.nan))
    point["n"] = int(system["n"])
    point["box"] = float(system["box"])
    point["dim"] = int(system.get("dim", 2))
    point["seed"] = int(system["seed"])
    point["polydispersity"] = float(system.get("polydispersity", 0.0))
    if "mass" in system:
        point["mass"] = float(system["mass"])
    return point


def provenance_record(run, point, config):
    """What a stage writes into its files' ``config`` attribute."""
    return {"run": run, "setpoint": point, "config": config}


@dataclass(frozen=True)
class RunRecord:
    run: str
    setpoint: dict


def read_run(attrs, path="file"):
    """The run id and set-point recorded in a file's attributes (RunError if absent)."""
    try:
        record = json.loads(attrs["config"])
        if "setpoint" not in record and "simulation" in record:
            record = record["simulation"]  # an analysis file: its simulation's record
        return RunRecord(str(record["run"]), dict(record["setpoint"]))
    except (KeyError, TypeError, ValueError):
        raise RunError(f"{path}: no run set-point recorded (made by an older simlib? rerun its stage)") from None


def check_run(record, expected, path="file"):
    if record.run != expected:
        raise RunError(f"{path}: records run {record.run!r} but the workflow expects run {expected!r}")


def labels(record):
    """Identifying columns of a run's row in summary.csv, from its set-point."""
    point = record.setpoint
    row = {"run": record.run}
    for key in STATE_POINT + ("seed",):
        if key in point:
            row[key] = point[key]
    if point.get("potential") == "ideal" and point.get("method") == "langevin":
        # free Langevin particles: D = kT / zeta exactly (zeta is a friction [mass/time])
        row["D_exact"] = point["kT"] / point["friction"]
    return row


def check_complete(rows, expected):
    """RunError naming every expected run without a row and every row not expected."""
    seen = [row["run"] for row in rows]
    missing = sorted(set(expected) - set(seen))
    unexpected = sorted(set(seen) - set(expected))
    duplicated = sorted({run for run in seen if seen.count(run) > 1})
    problems = []
    if missing:
        problems.append(f"missing run(s) {missing}")
    if unexpected:
        problems.append(f"unexpected run(s) {unexpected}")
    if duplicated:
        problems.append(f"run(s) listed twice {duplicated}")
    if problems:
        raise RunError("summary: " + "; ".join(problems))


def is_number(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
