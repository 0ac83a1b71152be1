"""Turn a run's files into the report's numbers: one call per run, one table for all.

:func:`analyse_run` reads a run's thermo (and trajectory, if any) and returns the
run's key numbers with error bars as a flat dict, plus datasets for the figures
(structure: g(r), S(k); dynamics: MSD, VACF). :func:`summary_table` collects the
dicts of all runs into ``summary.csv``. Reduced LJ units throughout.
"""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..analysis import (
    MSD,
    RDF,
    VACF,
    ClusterAnalysis,
    StaticStructureFactor,
    energy_conservation,
    fit_diffusion,
    green_kubo_diffusion,
    local_density_fluctuation,
    mean_with_error,
)
from ..io import atomic_path, load_thermo, load_trajectory, write_netcdf

DEFAULTS = {
    "equilibrated_fraction": 0.5,
    "rdf": {"r_max": 8.0, "bins": 160},
    "structure_factor": {"k_max": 12.0, "bins": 120},
    "msd_fit": {"start": 0.1, "stop": 0.5},
}

# columns of summary.csv in order; "_err" columns follow their quantity
SUMMARY_COLUMNS = [
    "run", "system", "method", "kT", "polydispersity", "seed", "n", "dt", "steps",
    "potential_per_particle", "kinetic_per_particle", "total_per_particle",
    "kinetic_temperature", "pressure", "D", "D_green_kubo", "acceptance", "move_size",
    "drift", "total_rms", "rms_ratio", "density_dispersion", "largest_cluster_fraction",
]


def _tail(values, fraction):
    values = np.asarray(values)
    start = int(np.floor(len(values) * (1.0 - fraction)))
    return values[min(start, len(values) - 1):]


def _mean_err(values):
    values = np.asarray(values, dtype=np.float64)
    if values.size < 4 or np.all(values == values[0]):
        return float(np.mean(values)), 0.0
    with warnings.catch_warnings():
        # short test runs have no blocking plateau; the error is then a lower bound
        warnings.simplefilter("ignore", RuntimeWarning)
        result = mean_with_error(values)
    return float(result.mean), float(result.error)


def analyse_run(thermo_path, trajectory_path=None, settings=None, labels=None, final_state=None, vacf_path=None):
    """Key numbers of one run, and its figure datasets.

    Parameters
    ----------
    thermo_path : path
    trajectory_path : path, optional
    settings : dict, optional
        The config's ``analysis`` section (defaults in ``DEFAULTS``).
    labels : dict, optional
        Identifying columns (run, system, method, kT, polydispersity, seed, dt, ...).
    vacf_path : path, optional
        VACF accumulated on the fly during the run (stage key ``vacf_every``); the
        Green-Kubo D then comes from it instead of the trajectory's velocities.

    Returns
    -------
    (dict, dict of xarray.Dataset)
        Scalars with ``<name>_err`` error bars; datasets ``structure`` and ``dynamics``
        when a trajectory is given.
    """
    settings = {**DEFAULTS, **(settings or {})}
    fraction = settings["equilibrated_fraction"]
    thermo = load_thermo(thermo_path)
    row = dict(labels or {})
    steps = int(thermo["step"].values[-1] - thermo["step"].values[0])
    row["steps"] = steps
    for name in ("potential_per_particle", "kinetic_per_particle", "total_per_particle",
                 "kinetic_temperature", "pressure"):
        row[name], row[f"{name}_err"] = _mean_err(_tail(thermo[name].values, fraction))
    is_mc = "acceptance" in thermo
    if is_mc:
        acceptance = float(thermo["acceptance"].values[-1])
        n = int(row.get("n", 0)) or 1
        trials = steps * n
        row["acceptance"] = acceptance
        row["acceptance_err"] = float(np.sqrt(acceptance * (1 - acceptance) / trials)) if trials else np.nan
        row["move_size"] = float(thermo["move_size"].values[-1])
    if row.get("method") == "nve":
        stage_time = thermo["stage_time"].values
        cons = energy_conservation(
            stage_time, thermo["kinetic_per_particle"].values, thermo["potential_per_particle"].values,
            thermo["total_per_particle"].values,
        )
        row["drift"], row["drift_err"] = float(cons.drift), float(cons.drift_err)
        row["total_rms"] = float(cons.total_rms)
        row["rms_ratio"] = float(cons.rms_ratio)
    datasets = {}
    if trajectory_path is not None:
        traj = load_trajectory(trajectory_path)
        row.update(_trajectory_numbers(traj, settings, row, datasets, is_mc, vacf_path))
    return row, datasets


def _green_kubo(vacf, out):
    """D_green_kubo with its sampling interval; an unresolved VACF gives NaN and says why.

    An on-the-fly VACF has as many time origins at its longest lag as at its first, so
    it is integrated over its whole window (2D liquids have a slow t^-1 tail); a
    trajectory VACF only to half its longest lag.
    """
    on_the_fly = vacf.attrs.get("mode") == "on-the-fly"
    gk = green_kubo_diffusion(vacf, t_max=float(vacf["time"].values[-1]) if on_the_fly else None)
    out["vacf_sampling_interval"] = float(gk.sampling_interval)
    if gk.resolved:
        out["D_green_kubo"], out["D_green_kubo_err"] = float(gk.D), float(gk.D_err)
        out["D_green_kubo_note"] = ""
    else:
        out["D_green_kubo"], out["D_green_kubo_err"] = float("nan"), float("nan")
        out["D_green_kubo_note"] = (
            f"refused: VACF sampled every {gk.sampling_interval:g} t0 is not resolved "
            f"(C(h)/C(0)={gk.first_lag_ratio:.2g}); set vacf_every in the stage"
        )
    return gk


def _trajectory_numbers(traj, settings, row, datasets, is_mc, vacf_path=None):
    out = {}
    n_frames = traj.sizes["frame"]
    first = int(np.floor(n_frames * (1.0 - settings["equilibrated_fraction"])))
    first = min(first, n_frames - 1)
    box = traj["box"].values[-1]
    rdf = RDF(bins=settings["rdf"]["bins"], r_max=min(settings["rdf"]["r_max"], 0.5 * float(box.min())))
    sk = StaticStructureFactor(bins=settings["structure_factor"]["bins"], k_max=settings["structure_factor"]["k_max"])
    positions = traj["positions"].values
    for f in range(first, n_frames):
        rdf.compute(positions[f], box, reset=(f == first))
        sk.compute(positions[f], box, reset=(f == first))
    datasets["structure"] = xr.Dataset(
        {
            "g": (("r",), rdf.rdf, {"units": "1", "long_name": "radial distribution function g(r)"}),
            "S": (("k",), sk.S_k, {"units": "1", "long_name": "static structure factor S(k)"}),
        },
        coords={
            "r": ("r", rdf.bin_centers, {"units": "a"}),
            "k": ("k", sk.bin_centers, {"units": "1/a"}),
        },
    )
    final = positions[-1]
    out["density_dispersion"] = float(local_density_fluctuation(final, box).index_of_dispersion)
    out["largest_cluster_fraction"] = float(ClusterAnalysis(cutoff=1.5).compute(final, box).largest_fraction)
    if not is_mc and n_frames >= 8:
        times = traj["time"].values
        frame_dt = float(times[1] - times[0])
        unwrapped = traj["unwrapped"].values[first:]
        msd = MSD(dt=frame_dt).compute(unwrapped)
        t_max = msd.lag_time[-1]
        fit = fit_diffusion(msd, t_min=settings["msd_fit"]["start"] * t_max, t_max=settings["msd_fit"]["stop"] * t_max)
        out["D"], out["D_err"] = float(fit.D), float(fit.D_err)
        if vacf_path is not None:
            with xr.open_dataset(vacf_path) as fine:
                vacf = fine.load()
        else:
            vacf = VACF(dt=frame_dt).compute(traj["velocities"].values[first:]).dataset
        _green_kubo(vacf, out)
        dyn = msd.dataset.rename({name: f"msd_{name}" for name in msd.dataset.data_vars if name != "msd"})
        vacf_time = vacf["time"].values
        if vacf_path is None:
            dyn["vacf"] = ("time", vacf["vacf"].values, {"units": "a^2/t0^2", "long_name": "velocity autocorrelation"})
        else:
            dyn = dyn.assign_coords(vacf_time=("vacf_time", vacf_time, {"units": "t0"}))
            dyn["vacf"] = ("vacf_time", vacf["vacf"].values,
                           {"units": "a^2/t0^2", "long_name": "velocity autocorrelation (on the fly)",
                            "sampling_interval": float(vacf.attrs["sampling_interval"])})
        datasets["dynamics"] = dyn
    return out


def write_json(path, row):
    """Write a run's numbers as JSON atomically (NaN kept as NaN)."""
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(row, indent=1, sort_keys=True, default=float) + "\n")


def save_dataset(path, ds, attrs=None):
    ds = ds.copy()
    ds.attrs.update(attrs or {})
    ds.attrs["simlib_kind"] = "analysis"
    write_netcdf(path, ds)


def summary_table(json_paths):
    """All runs' numbers as one DataFrame in a stable column and row order."""
    rows = [json.loads(Path(p).read_text()) for p in json_paths]
    frame = pd.DataFrame(rows)
    ordered = []
    for column in SUMMARY_COLUMNS:
        if column in frame.columns:
            ordered.append(column)
            if f"{column}_err" in frame.columns:
                ordered.append(f"{column}_err")
    rest = sorted(c for c in frame.columns if c not in ordered)
    return frame[ordered + rest].sort_values("run", kind="stable").reset_index(drop=True)


def performance_table(summary, benchmark_paths):
    """Wall time and particle-steps per second per run, from Snakemake benchmark files.

    Kept apart from ``summary.csv`` because wall times differ between identical reruns.
    """
    rows = []
    by_run = {Path(p).stem: p for p in benchmark_paths}
    for _, run in summary.iterrows():
        key = run["run"].replace("/", "__")
        path = by_run.get(key)
        if path is None:
            continue
        bench = pd.read_csv(path, sep="\t")
        seconds = float(bench["s"].iloc[0])
        rows.append({
            "run": run["run"], "wall_seconds": seconds, "steps": int(run["steps"]), "n": int(run["n"]),
            "particle_steps_per_second": run["steps"] * run["n"] / seconds if seconds > 0 else np.nan,
        })
    return pd.DataFrame(rows, columns=["run", "wall_seconds", "steps", "n", "particle_steps_per_second"])
