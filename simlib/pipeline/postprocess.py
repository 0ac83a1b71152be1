"""Turn a run's files into the report's numbers: one call per run, one table for all.

:func:`analyse_run` reads a run's thermo (and trajectory, if any) and returns the
run's key numbers with error bars as a flat dict, plus datasets for the figures
(structure: g(r), S(k); dynamics: MSD, VACF). :func:`summary_table` collects the
dicts of all runs into ``summary.csv`` (one row per run) and :func:`study_table`
averages replicas into ``study.csv`` (one row per state point). A run's identifying
columns come from the set-point its stage recorded in its files
(:mod:`simlib.pipeline.runs`). Reduced LJ units throughout.
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
from ..io import (
    atomic_path,
    load_thermo,
    load_trajectory,
    provenance,
    provenance_record,
    read_json,
    read_netcdf,
    read_table,
    reduced,
    write_netcdf,
)
from .config import first_analysed_frame
from .runs import STATE_POINT, RunError, benchmark_path, check_complete, check_run, labels, read_run

DEFAULTS = {
    "equilibrated_fraction": 0.5,
    "rdf": {"r_max": 8.0, "bins": 160},
    "structure_factor": {"k_max": 12.0, "bins": 120},
    "msd_fit": {"start": 0.1, "stop": 0.5},
}

# columns of summary.csv in order; "_err" columns follow their quantity
SUMMARY_COLUMNS = [
    "run", "system", "method", "potential", "scheme", "kT", "polydispersity", "seed", "n", "box", "dim",
    "dt", "steps",
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


def analyse_run(thermo_path, trajectory_path=None, settings=None, expected_run=None, vacf_path=None):
    """Key numbers of one run, and its figure datasets.

    Parameters
    ----------
    thermo_path : path
    trajectory_path : path, optional
    settings : dict, optional
        The config's ``analysis`` section (defaults in ``DEFAULTS``).
    expected_run : str, optional
        The run id the workflow expects; a file recording another run is an error.
    vacf_path : path, optional
        VACF accumulated on the fly during the run (stage key ``vacf_every``); the
        Green-Kubo D then comes from it instead of the trajectory's velocities.

    Returns
    -------
    (dict, dict of xarray.Dataset)
        Scalars with ``<name>_err`` error bars and a ``provenance`` entry (dict);
        datasets ``structure`` (g, S and their errors) and ``dynamics`` (msd, vacf,
        their particle blocks and errors; ``fit_diffusion`` reads it as it is) when a
        trajectory is given, each with provenance and the run's measured N, box and
        temperature as attributes.
    """
    settings = {**DEFAULTS, **(settings or {})}
    thermo = load_thermo(thermo_path)
    record = read_run(thermo.attrs, thermo_path)
    if expected_run is not None:
        check_run(record, expected_run, thermo_path)
    if record.setpoint.get("potential") == "ideal":
        # free particles start from Maxwell-Boltzmann velocities: all of the run is equilibrium
        settings["equilibrated_fraction"] = 1.0
    fraction = settings["equilibrated_fraction"]
    row = labels(record)
    is_mc = "sweep" in thermo.coords
    counter = thermo["sweep"] if is_mc else thermo["step"]  # Monte Carlo counts sweeps, MD steps
    steps = int(counter.values[-1] - counter.values[0])
    row["steps"] = steps
    # Monte Carlo files hold no kinetic quantities: only what was sampled is averaged
    for name in ("potential_per_particle", "kinetic_per_particle", "total_per_particle",
                 "kinetic_temperature", "pressure"):
        if name in thermo:
            row[name], row[f"{name}_err"] = _mean_err(_tail(thermo[name].values, fraction))
    if is_mc:
        acceptance = float(thermo["acceptance"].values[-1])
        n = int(row.get("n", 0)) or 1
        trials = steps * n
        row["acceptance"] = acceptance
        row["acceptance_err"] = float(np.sqrt(acceptance * (1 - acceptance) / trials)) if trials else np.nan
        final_move = float(thermo["move_size"].values[-1])
        if final_move != row.get("move_size"):
            row["move_size_tuned"] = final_move  # the set-point keeps the configured one
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
        check_run(read_run(traj.attrs, trajectory_path), record.run, trajectory_path)
        row.update(_trajectory_numbers(traj, settings, row, datasets, is_mc, vacf_path))
        for ds in datasets.values():
            ds.attrs.update(_run_attributes(row, traj, is_mc))
    # provenance: the simulation's own record (run, set-point, config, seed) and this
    # analysis' settings; figures read the run's set-point from it
    config = {"simulation": json.loads(thermo.attrs.get("config", "{}")), "analysis": settings,
              "run": record.run}
    seed = thermo.attrs.get("seed")
    seed = None if seed is None else int(seed)
    for ds in datasets.values():
        ds.attrs.update(provenance(config, seed))
    row["provenance"] = provenance_record(config, seed)
    return row, datasets


def _run_attributes(row, traj, is_mc):
    """What a figure needs to label a run, read from the run itself (not the config)."""
    box = traj["box"].values[-1]
    attrs = {
        "run": str(row.get("run", "")),
        "method": str(row.get("method", "metropolis" if is_mc else "")),
        "n_particles": int(traj.sizes["atom"]),
        "dimension": int(traj.attrs.get("dimension", box.size)),
        "box": [float(b) for b in box],
        "polydispersity": float(row.get("polydispersity", 0.0)),
        "system": str(row.get("system", "")),
    }
    if row.get("dt") is not None:
        attrs["integration_dt"] = float(row["dt"])  # "dt" is the frame spacing of the MSD dataset
    if row.get("kT") is not None and (is_mc or row.get("method") == "langevin"):
        attrs["bath_temperature"] = float(row["kT"])  # the set-point of the thermostat or sampler
    if not is_mc and "kinetic_temperature" in row:
        attrs["kinetic_temperature"] = float(row["kinetic_temperature"])
        attrs["kinetic_temperature_err"] = float(row["kinetic_temperature_err"])
    if is_mc:
        attrs["sweeps"] = int(row["steps"])
    else:
        attrs["duration"] = float(traj["time"].values[-1] - traj["time"].values[0])
    return attrs


def _frame_blocks(per_frame, n_blocks=8):
    """Mean over frames and the standard error from contiguous blocks of frames (NaN if < 2)."""
    per_frame = np.asarray(per_frame)
    mean = per_frame.mean(axis=0)
    blocks = min(n_blocks, per_frame.shape[0])
    if blocks < 2:
        return mean, np.full_like(mean, np.nan)
    means = np.array([b.mean(axis=0) for b in np.array_split(per_frame, blocks)])
    return mean, means.std(axis=0, ddof=1) / np.sqrt(blocks)


def _per_frame(cumulative_means):
    """Per-frame values from running means after 1, 2, ... frames."""
    totals = np.asarray(cumulative_means) * np.arange(1, len(cumulative_means) + 1)[:, None]
    return np.diff(totals, axis=0, prepend=0.0)


def _green_kubo(vacf, out, fit):
    """D_green_kubo with its sampling interval; an unresolved VACF gives NaN and says why.

    D_green_kubo is the MSD slope that the VACF implies over the lags of the MSD fit
    ``fit`` (see :func:`simlib.analysis.green_kubo_diffusion`): both measure D on one
    time scale, as they must where D(t) has no plateau (2D liquids, slow cages). A
    VACF that stops short of the fit window gives its integral up to its last lag and
    says so in ``D_green_kubo_note``.
    """
    time = vacf["time"].values
    reaches = fit.lag_times and fit.lag_times[-1] <= time[-1] * (1 + 1e-9)
    if reaches:
        gk = green_kubo_diffusion(vacf, msd_fit=fit)
    else:
        gk = green_kubo_diffusion(vacf, t_max=float(time[-1]))
    out["vacf_sampling_interval"] = float(gk.sampling_interval)
    if gk.resolved:
        out["D_green_kubo"], out["D_green_kubo_err"] = float(gk.D), float(gk.D_err)
        out["D_green_kubo_note"] = "" if reaches else (
            f"integral to {time[-1]:g} t0, short of the MSD fit window [{fit.t_min:g}, {fit.t_max:g}] t0: "
            "lengthen vacf_window to compare the two")
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
    first = first_analysed_frame(n_frames, settings["equilibrated_fraction"])
    box = traj["box"].values[-1]
    rdf = RDF(bins=settings["rdf"]["bins"], r_max=min(settings["rdf"]["r_max"], 0.5 * float(box.min())))
    sk = StaticStructureFactor(bins=settings["structure_factor"]["bins"], k_max=settings["structure_factor"]["k_max"])
    positions = traj["positions"].values
    g_running, s_running = [], []
    for f in range(first, n_frames):
        rdf.compute(positions[f], box, reset=(f == first))
        sk.compute(positions[f], box, reset=(f == first))
        g_running.append(rdf.rdf)
        with np.errstate(invalid="ignore"):
            s_running.append(sk.S_k)
    _, g_err = _frame_blocks(_per_frame(g_running))
    # bins without a wave vector of this box (low k in a small box) are left out, and
    # each kept bin sits at the mean |k| of its vectors, so S(k) has no NaN gaps
    has_k = sk.n_vectors > 0
    _, s_err = _frame_blocks(_per_frame(np.asarray(s_running)[:, has_k]))
    frames_used = n_frames - first
    datasets["structure"] = xr.Dataset(
        {
            "g": (("r",), rdf.rdf, {"units": "1", "long_name": "radial distribution function g(r)"}),
            "g_err": (("r",), g_err, {"units": "1", "long_name": "standard error of g(r) from blocks of frames"}),
            "S": (("k",), sk.S_k[has_k], {"units": "1", "long_name": "static structure factor S(k)"}),
            "S_err": (("k",), s_err, {"units": "1", "long_name": "standard error of S(k) from blocks of frames"}),
            "n_vectors": (("k",), sk.n_vectors[has_k], {"units": "1", "long_name": "wave vectors (one per +-k pair) in the bin"}),
        },
        coords={
            "r": ("r", rdf.bin_centers, {**reduced("a"), "long_name": "pair distance (bin centre)"}),
            "k": ("k", sk.k_mean[has_k], {**reduced("1/a"), "long_name": "mean wave number of the bin's vectors"}),
        },
        attrs={"frames_analysed": int(frames_used), "error_blocks": int(min(8, frames_used))},
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
        vacf = VACF(dt=frame_dt).compute(traj["velocities"].values[first:])
        if vacf_path is not None:
            fine_vacf = read_netcdf(vacf_path)
        else:
            fine_vacf = vacf.dataset
        gk = _green_kubo(fine_vacf, out, fit)
        dyn = _dynamics_dataset(msd, vacf, fit, gk)
        dyn.attrs.update({"D_green_kubo": out["D_green_kubo"], "D_green_kubo_err": out["D_green_kubo_err"],
                          "vacf_sampling_interval": out["vacf_sampling_interval"]})
        if vacf_path is not None:
            dyn = dyn.assign_coords(vacf_time=("vacf_time", fine_vacf["time"].values, {"units": "1", "reduced_units": "t0"}))
            dyn["vacf_fine"] = ("vacf_time", fine_vacf["vacf"].values,
                                {"units": "1", "reduced_units": "a^2/t0^2",
                                 "long_name": "velocity autocorrelation sampled on the fly (Green-Kubo)",
                                 "sampling_interval": float(fine_vacf.attrs["sampling_interval"])})
        datasets["dynamics"] = dyn
    return out


def _dynamics_dataset(msd, vacf, fit, gk):
    """MSD and VACF with their particle-block curves and errors, under the names that
    :func:`simlib.analysis.fit_diffusion` and :func:`green_kubo_diffusion` read."""
    dyn = xr.merge([msd.dataset, vacf.dataset], compat="no_conflicts", join="exact", combine_attrs="override")
    for name in ("msd", "vacf"):
        blocks = dyn[f"{name}_block"]
        n_blocks = blocks.sizes["block"]
        err = blocks.std("block", ddof=1) / np.sqrt(n_blocks) if n_blocks > 1 else blocks.isel(block=0) * np.nan
        dyn[f"{name}_err"] = err.assign_attrs(units=dyn[name].attrs.get("units"),
                                              long_name=f"standard error of the {name.upper()} over particle blocks")
    dyn["msd"].attrs["long_name"] = "mean-square displacement"
    dyn["msd_block"].attrs["long_name"] = "mean-square displacement of each particle block"
    dyn["vacf"].attrs["long_name"] = "velocity autocorrelation"
    dyn["vacf_block"].attrs["long_name"] = "velocity autocorrelation of each particle block"
    dyn["time"].attrs["long_name"] = "lag time"
    dyn.attrs.update({"D": fit.D, "D_err": fit.D_err, "D_fit_t_min": fit.t_min, "D_fit_t_max": fit.t_max,
                      "D_green_kubo": gk.D, "D_green_kubo_err": gk.D_err})
    return dyn


def write_json(path, row, config=None, seed=None):
    """Write a run's numbers as JSON atomically (NaN kept as NaN), with a ``provenance`` entry
    (the row's own, as :func:`analyse_run` makes it, or one from ``config`` and ``seed``)."""
    record = {**row, "provenance": row.get("provenance") or provenance_record(config, seed)}
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(record, indent=1, sort_keys=True, default=float) + "\n")


def read_numbers(path):
    """A run's numbers from its JSON, without the provenance entry."""
    row = read_json(path)
    row.pop("provenance", None)
    return row


def save_dataset(path, ds, attrs=None, config=None, seed=None):
    """Write an analysis dataset (CF, with provenance) atomically."""
    ds = ds.copy()
    if "git_commit" not in ds.attrs or config is not None:
        ds.attrs.update(provenance(config, seed))
    ds.attrs.update({k: (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in (attrs or {}).items()})
    ds.attrs = {k: (json.dumps(v) if isinstance(v, (dict, list)) else v) for k, v in ds.attrs.items()}
    ds.attrs["simlib_kind"] = "analysis"
    write_netcdf(path, ds)


def write_csv(path, table):
    """Write a table atomically, with a stable float format (bit-identical reruns)."""
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False)


def summary_table(json_paths, expected_runs=None):
    """All runs' numbers as one DataFrame in a stable column and row order.

    ``expected_runs``: the run ids the workflow expects; a missing, unexpected or
    duplicated run is a :class:`RunError` naming it, never a silently absent row.
    """
    rows = []
    for path in json_paths:
        rows.append(read_numbers(path))
        if "run" not in rows[-1]:
            raise RunError(f"{path}: not a run's analysis (no 'run' key)")
    if expected_runs is not None:
        check_complete(rows, expected_runs)
    frame = pd.DataFrame(rows)
    ordered = []
    for column in SUMMARY_COLUMNS:
        if column in frame.columns:
            ordered.append(column)
            if f"{column}_err" in frame.columns:
                ordered.append(f"{column}_err")
    rest = sorted(c for c in frame.columns if c not in ordered)
    return frame[ordered + rest].sort_values("run", kind="stable").reset_index(drop=True)


def study_table(summary):
    """One row per state point: the mean of every quantity over its replicas (seeds).

    For a quantity ``q``: ``q`` is the mean over replicas; ``q_err`` is the standard
    error of that mean from the scatter between replicas (``std(ddof=1)/sqrt(n)``)
    when there are two or more replicas, else the single run's own error bar.
    ``n_replicas`` counts the runs, ``seeds`` lists them.
    """
    keys = [key for key in STATE_POINT if key in summary.columns]
    quantities = [
        c for c in summary.columns
        if c not in keys and c not in ("run", "seed") and not c.endswith("_err")
        and pd.api.types.is_numeric_dtype(summary[c])
    ]
    rows = []
    # NaN in a key (e.g. no kT for NVE) must not drop the group
    grouped = summary.assign(**{k: summary[k].astype(object).where(summary[k].notna(), "") for k in keys})
    for values, group in grouped.groupby(keys, sort=True, dropna=False):
        runs = summary.loc[group.index]
        row = dict(zip(keys, values))
        row = {k: (np.nan if v == "" else v) for k, v in row.items()}
        n = len(runs)
        row["n_replicas"] = n
        row["seeds"] = " ".join(str(int(s)) for s in sorted(runs["seed"]))
        for q in quantities:
            values_q = runs[q].to_numpy(dtype=float)
            finite = values_q[np.isfinite(values_q)]
            row[q] = float(np.mean(finite)) if finite.size else np.nan
            if n >= 2:
                row[f"{q}_err"] = float(np.std(finite, ddof=1) / np.sqrt(finite.size)) if finite.size >= 2 else np.nan
            elif f"{q}_err" in runs.columns:
                row[f"{q}_err"] = float(runs[f"{q}_err"].iloc[0])
        rows.append(row)
    columns = keys + ["n_replicas", "seeds"]
    for q in quantities:
        columns += [q] + ([f"{q}_err"] if any(f"{q}_err" in r for r in rows) else [])
    return pd.DataFrame(rows).reindex(columns=columns)


def combine_studies(paths):
    """The family study tables as one table (columns united, families in the given order)."""
    frames = []
    for path in paths:
        frames.append(read_table(path, columns=("system", "n_replicas")))
    return pd.concat(frames, ignore_index=True, sort=False) if frames else pd.DataFrame()


def performance_table(summary, benchmark_paths):
    """Wall time and particle-steps per second per run, from Snakemake benchmark files.

    Kept apart from ``summary.csv`` because wall times differ between identical reruns.
    """
    rows = []
    given = {str(Path(p)) for p in benchmark_paths}
    for _, run in summary.iterrows():
        path = benchmark_path(run["run"])
        if str(Path(path)) not in given:
            raise RunError(f"performance: no benchmark file {path} for run {run['run']}")
        bench = read_table(path, sep="\t", columns=("s",))
        if bench.empty:
            raise RunError(f"{path}: empty Snakemake benchmark file; truncated or corrupt?")
        seconds = float(bench["s"].iloc[0])
        rows.append({
            "run": run["run"], "wall_seconds": seconds, "steps": int(run["steps"]), "n": int(run["n"]),
            "particle_steps_per_second": run["steps"] * run["n"] / seconds if seconds > 0 else np.nan,
        })
    return pd.DataFrame(rows, columns=["run", "wall_seconds", "steps", "n", "particle_steps_per_second"])
