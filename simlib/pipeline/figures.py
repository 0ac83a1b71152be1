"""Report figures from pipeline files: read the runs' outputs, call :mod:`simlib.plots`.

Each function is ``name(input_paths, output_png, **options)``: a list of input
paths (as Snakemake passes them), the PNG to write (a PDF twin is written beside
it) and plain keyword options from the rule's params.
"""

import numpy as np
import pandas as pd
import xarray as xr

from . import plots
from ..analysis import langevin_free_msd
from ..io import load_thermo, load_trajectory
from .runs import read_run


def _setpoint(ds, path):
    return read_run(ds.attrs, path).setpoint


def _study(paths, system):
    study = pd.read_csv(paths[0])
    rows = study[study["system"] == system]
    if rows.empty:
        raise ValueError(f"{paths[0]}: no {system!r} state points to plot")
    return rows


def energy(thermo_paths, output):
    th = load_thermo(thermo_paths[0])
    point = _setpoint(th, thermo_paths[0])
    plots.energy_conservation(
        th["stage_time"].values, th["kinetic_per_particle"].values, th["potential_per_particle"].values,
        th["total_per_particle"].values, output,
        f"Soft disks, NVE velocity Verlet, dt = {point['dt']:g} $t_0$, N = {point['n']}",
    )


def drift(study_paths, output):
    rows = _study(study_paths, "nve")
    table = pd.DataFrame({
        "dt": rows["dt"], "drift": rows["drift"], "drift_err": rows["drift_err"], "rms_total": rows["total_rms"],
    }).sort_values("dt")
    plots.energy_drift(table, output)


def _frame_at(traj, stage_time):
    times = traj["time"].values - traj["time"].values[0]
    return int(np.argmin(np.abs(times - stage_time)))


_METHOD_TITLES = {"langevin": "Langevin", "metropolis": "Metropolis Monte Carlo", "nve": "NVE"}


def phase(trajectory_paths, output, stage_time=None):
    panels = []
    for path in trajectory_paths:
        traj = load_trajectory(path)
        point = _setpoint(traj, path)
        is_mc = point["method"] == "metropolis"
        f = traj.sizes["frame"] - 1 if stage_time is None or is_mc else _frame_at(traj, stage_time)
        if is_mc:
            label = f"{traj['step'].values[f] - traj['step'].values[0]:g} sweeps"
        else:
            label = f"t = {traj['time'].values[f] - traj['time'].values[0]:g} $t_0$"
        panels.append((point["kT"], {
            "positions": traj["positions"].values[f], "diameters": traj["diameters"].values,
            "box": traj["box"].values[f], "title": f"$T^*={point['kT']:g}$, {label}",
        }))
    panels.sort(key=lambda item: item[0])
    title = (f"Lennard-Jones disks, {_METHOD_TITLES[point['method']]}, N = {point['n']}, "
             f"polydispersity {point['polydispersity']:g}")
    plots.snapshots([panel for _, panel in panels], output, title)


def acceptance(study_paths, output, csv_output=None):
    rows = _study(study_paths, "acceptance")
    flat = pd.DataFrame({
        "kT": rows["kT"], "dr": rows["move_size"],
        "acceptance": rows["acceptance"], "acceptance_err": rows["acceptance_err"],
    })
    plots.acceptance(flat, output)
    if csv_output:
        flat.sort_values(["kT", "dr"]).to_csv(csv_output, index=False)


def _curve_label(point):
    if point["system"] == "nve":
        return f"soft disks NVE, dt = {point['dt']:g}"
    return f"LJ {_METHOD_TITLES[point['method']]} $T^*={point['kT']:g}$"


def msd(dynamics_paths, output):
    curves = []
    for path in dynamics_paths:
        ds = xr.load_dataset(path)
        curves.append((_curve_label(_setpoint(ds, path)), ds["time"].values, ds["msd"].values))
    plots.msd(curves, output, "Mean-square displacement")


def free_particle(dynamics_paths, output):
    curves = []
    for path in dynamics_paths:
        ds = xr.load_dataset(path)
        point = _setpoint(ds, path)
        curves.append((f"simulation ({point['scheme']})", ds["time"].values, ds["msd"].values))
    t = curves[0][1]
    kT, friction, mass, dim = point["kT"], point["friction"], point["mass"], point["dim"]
    exact = (t, langevin_free_msd(np.maximum(t, 0), kT, friction, mass, dim), "exact (COURSE.md)")
    plots.msd(curves, output, f"Free Langevin particle, $T={kT:g}$, $\\zeta={friction:g}$, $m={mass:g}$", exact=exact)


def diffusion(study_paths, output):
    rows = _study(study_paths, "lj")
    table = pd.DataFrame({
        "series": [f"LJ Langevin, p = {p:g}" for p in rows["polydispersity"]], "kT": rows["kT"],
        "D": rows["D"], "D_err": rows["D_err"],
    })
    plots.diffusion_vs_temperature(table, output)


def structure(structure_paths, output):
    curves = []
    methods = set()
    for path in structure_paths:
        ds = xr.load_dataset(path)
        point = _setpoint(ds, path)
        methods.add(point["method"])
        curves.append((_curve_label(point), ds["r"].values, ds["g"].values, ds["k"].values, ds["S"].values))
    if len(methods) > 1:
        title = "Monte Carlo against Langevin at the same temperature"
    else:
        title = f"Lennard-Jones disks ({_METHOD_TITLES[methods.pop()]}): structure"
    plots.structure(curves, output, title)
