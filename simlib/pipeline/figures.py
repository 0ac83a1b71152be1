"""Report figures from pipeline files: read the runs' outputs, call :mod:`simlib.plots`.

Each function is ``name(input_paths, output_png, **options)``: a list of input
paths (as Snakemake passes them), the PNG to write (a PDF twin is written beside
it) and plain keyword options from the rule's params.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from . import plots
from ..analysis import langevin_free_msd
from ..io import load_thermo, load_trajectory


def _json(path):
    return json.loads(Path(path).read_text())


def energy(thermo_paths, output, dt):
    th = load_thermo(thermo_paths[0])
    plots.energy_conservation(
        th["stage_time"].values, th["kinetic_per_particle"].values, th["potential_per_particle"].values,
        th["total_per_particle"].values, output,
        f"Soft disks, NVE velocity Verlet, dt = {dt:g} $t_0$ (after Langevin at $T^*=0.9$)",
    )


def drift(analysis_paths, output):
    rows = [_json(p) for p in analysis_paths]
    table = pd.DataFrame(
        {"dt": [r["dt"] for r in rows], "drift": [r["drift"] for r in rows],
         "drift_err": [r["drift_err"] for r in rows], "rms_total": [r["total_rms"] for r in rows]}
    ).sort_values("dt")
    plots.energy_drift(table, output)


def _frame_at(traj, stage_time):
    times = traj["time"].values - traj["time"].values[0]
    return int(np.argmin(np.abs(times - stage_time)))


def phase(trajectory_paths, output, temperatures, title, stage_time=None, time_label="t"):
    panels = []
    for path, kT in zip(trajectory_paths, temperatures):
        traj = load_trajectory(path)
        f = traj.sizes["frame"] - 1 if stage_time is None else _frame_at(traj, stage_time)
        elapsed = traj["step"].values[f] - traj["step"].values[0]
        label = f"{time_label} = {elapsed:g} sweeps" if time_label == "sweeps" else (
            f"t = {traj['time'].values[f] - traj['time'].values[0]:g} $t_0$")
        panels.append({
            "positions": traj["positions"].values[f], "diameters": traj["diameters"].values,
            "box": traj["box"].values[f], "title": f"$T^*={kT:g}$, {label}",
        })
    plots.snapshots(panels, output, title)


def acceptance(analysis_paths, output, csv_output=None):
    rows = [_json(p) for p in analysis_paths]
    flat = pd.DataFrame({
        "kT": [r["kT"] for r in rows], "dr": [r["move_size"] for r in rows],
        "acceptance": [r["acceptance"] for r in rows], "acceptance_err": [r["acceptance_err"] for r in rows],
    })
    plots.acceptance(flat, output)
    if csv_output:
        flat.sort_values(["kT", "dr"]).to_csv(csv_output, index=False)


def msd(dynamics_paths, output, labels, title):
    curves = []
    for path, label in zip(dynamics_paths, labels):
        ds = xr.load_dataset(path)
        curves.append((label, ds["time"].values, ds["msd"].values))
    plots.msd(curves, output, title)


def free_particle(dynamics_paths, output, schemes, kT, friction, mass, dim):
    curves = []
    for path, scheme in zip(dynamics_paths, schemes):
        ds = xr.load_dataset(path)
        curves.append((f"simulation ({scheme})", ds["time"].values, ds["msd"].values))
    t = curves[0][1]
    exact = (t, langevin_free_msd(np.maximum(t, 0), kT, friction, mass, dim), "exact (COURSE.md)")
    plots.msd(curves, output, f"Free Langevin particle, $T={kT:g}$, $\\zeta={friction:g}$, $m={mass:g}$", exact=exact)


def diffusion(analysis_paths, output, series_labels):
    rows = [_json(p) for p in analysis_paths]
    table = pd.DataFrame({
        "series": series_labels, "kT": [r["kT"] for r in rows],
        "D": [r.get("D", np.nan) for r in rows], "D_err": [r.get("D_err", np.nan) for r in rows],
    })
    plots.diffusion_vs_temperature(table, output)


def structure(structure_paths, output, labels, title):
    curves = []
    for path, label in zip(structure_paths, labels):
        ds = xr.load_dataset(path)
        curves.append((label, ds["r"].values, ds["g"].values, ds["k"].values, ds["S"].values))
    plots.structure(curves, output, title)
