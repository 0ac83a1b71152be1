"""Report figures from pipeline files: read the runs' outputs, call :mod:`.plots`.

Each function is ``name(input_paths, output_png, **options)``: a list of input
paths (as Snakemake passes them), the PNG to write (a PDF twin is written beside
it) and plain keyword options from the rule's params. Every number in a title or
legend (N, box, measured temperature, time step, sweeps, polydispersity) is read
from the files, not from the configuration, so a figure cannot claim what its
data do not show; options a rule still passes for such numbers are ignored.
"""

import json

import numpy as np
import pandas as pd

from . import plots
from ..analysis import langevin_free_msd
from ..io import load_thermo, load_trajectory, read_netcdf, read_table
from .postprocess import _mean_err, write_csv
from .runs import RunError, read_run

SYSTEM_NAMES = {"lj": "LJ disks", "mc": "LJ disks", "acceptance": "LJ disks", "nve": "soft disks",
                "soft": "soft disks", "free": "free particles"}
METHOD_NAMES = {"langevin": "Langevin", "nve": "NVE", "metropolis": "Monte Carlo"}
POTENTIAL_NAMES = {"soft12": "soft (inverse-12) disks", "lj": "Lennard-Jones disks",
                   "lj_smooth": "Lennard-Jones disks", "ideal": "free particles", "hard": "hard disks"}


def _attr_json(attrs, name, default=None):
    value = attrs.get(name, default)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _run_setpoint(attrs):
    """The set-point the run's stage recorded in its files ({} for a file without one)."""
    try:
        return read_run(attrs).setpoint
    except RunError:
        return {}


def _study_rows(study_paths, system):
    """The state points of one run family from its study table (replica means), as dicts."""
    table = read_table(study_paths[0], columns=("system",))
    rows = table[table["system"] == system]
    if rows.empty:
        raise ValueError(f"{study_paths[0]}: no {system!r} state points to plot")
    return rows.to_dict("records")


def _setpoint(attrs):
    """The run's bath (or sampling) temperature from its own file, or None."""
    kT = _run_setpoint(attrs).get("kT")
    if kT is not None and np.isfinite(kT):
        return float(kT)
    if "bath_temperature" in attrs:
        return float(attrs["bath_temperature"])
    config = _attr_json(attrs, "config", {}) or {}
    for source in (config.get("wildcards", {}), config.get("stage", {}), config):
        for key in ("T", "kT"):
            if isinstance(source, dict) and source.get(key) is not None:
                try:
                    return float(source[key])
                except (TypeError, ValueError):
                    pass
    return None


def _box_text(box):
    box = [float(b) for b in box]
    return r"$\times$".join(f"{b:g}" for b in box) + f" $a^{len(box)}$" if len(box) == 3 else (
        r"$\times$".join(f"{b:g}" for b in box) + " $a^2$")


def _same(values, fmt="{:g}"):
    """One value if all agree, else the range, as text."""
    values = sorted(set(values))
    if len(values) == 1:
        return fmt.format(values[0])
    return fmt.format(values[0]) + "–" + fmt.format(values[-1])


def _pm(value, err):
    """``value ± err`` with two significant digits of the error."""
    if not (np.isfinite(err) and err > 0):
        return f"{value:.3g}"
    digits = max(0, 1 - int(np.floor(np.log10(err))))
    return f"{value:.{digits}f}$\\pm${err:.{digits}f}"


def _run_label(attrs, with_system=True):
    system = SYSTEM_NAMES.get(attrs.get("system", ""), attrs.get("system", ""))
    method = METHOD_NAMES.get(attrs.get("method", ""), attrs.get("method", ""))
    parts = [f"{system} {method}".strip() if with_system else method]
    bath = _setpoint(attrs) if attrs.get("method") in ("langevin", "metropolis") else None
    if bath is not None:
        parts.append(f"$T^*={bath:g}$")
    if "kinetic_temperature" in attrs:
        measured = _pm(float(attrs["kinetic_temperature"]), float(attrs.get("kinetic_temperature_err", np.nan)))
        if bath is not None:
            parts[-1] += f" (measured {measured})"
        else:
            parts.append(f"measured $T^*$ = {measured}")
    return ", ".join(parts)


# -- A7: energy ---------------------------------------------------------------------------
def energy(thermo_paths, output, **_ignored):
    th = load_thermo(thermo_paths[0])
    time = th["time"].values
    steps = th["step"].values
    dt = (time[-1] - time[0]) / (steps[-1] - steps[0])
    potential = _attr_json(th.attrs, "potential", {}) or {}
    system = POTENTIAL_NAMES.get(potential.get("kind"), "particles")
    t_kin, t_err = _mean_err(th["kinetic_temperature"].values)
    n = th.attrs.get("n_particles")
    title = (f"{system[0].upper() + system[1:]}, NVE velocity Verlet, "
             + (f"N = {int(n)}, " if n is not None else "")
             + f"dt = {dt:.3g} $t_0$\nkinetic temperature $T^*$ = {_pm(t_kin, t_err)} (measured)")
    plots.energy_conservation(
        th["stage_time"].values, th["kinetic_per_particle"].values, th["potential_per_particle"].values,
        th["total_per_particle"].values, output, title,
    )


def drift(study_paths, output, **_ignored):
    rows = _study_rows(study_paths, "nve")
    table = pd.DataFrame(
        {"dt": [r["dt"] for r in rows], "drift": [r["drift"] for r in rows],
         "drift_err": [r["drift_err"] for r in rows], "rms_total": [r["total_rms"] for r in rows]}
    ).sort_values("dt")
    temps = [r["kinetic_temperature"] for r in rows]
    title = (f"Soft disks, NVE velocity Verlet, N = {_same([int(r['n']) for r in rows])}, "
             f"{_same([round(r['steps'] * r['dt'], 6) for r in rows])} $t_0$ each; measured $T^*$ = "
             f"{_same([round(t, 2) for t in temps], '{:.2f}')}")
    plots.energy_drift(table, output, title)


# -- A6/A8: snapshots -----------------------------------------------------------------------
def _frame_at(times, stage_time):
    elapsed = times - times[0]
    return int(np.argmin(np.abs(elapsed - stage_time)))


def phase(trajectory_paths, output, title="", stage_time=None, **_ignored):
    """Snapshots, one panel per run in order of temperature; the title names the system
    and method from the runs' set-points (numbers are appended)."""
    panels, ns, boxes, spreads, methods, potentials = [], [], [], [], [], []
    for path in trajectory_paths:
        traj = load_trajectory(path)
        point = _run_setpoint(traj.attrs)
        methods.append(METHOD_NAMES.get(point.get("method"), point.get("method", "")))
        potentials.append(POTENTIAL_NAMES.get(point.get("potential"), "particles"))
        monte_carlo = "time" not in traj
        if monte_carlo or stage_time is None:
            f = traj.sizes["frame"] - 1
        else:
            f = _frame_at(traj["time"].values, stage_time)
        if monte_carlo:
            elapsed = f"{int(traj['step'].values[f] - traj['step'].values[0])} sweeps"
        else:
            elapsed = f"t = {traj['time'].values[f] - traj['time'].values[0]:g} $t_0$"
        kT = _setpoint(traj.attrs)
        label = (f"$T^*={kT:g}$, " if kT is not None else "") + elapsed
        diameters = traj["diameters"].values
        box = traj["box"].values[f]
        panels.append((kT if kT is not None else np.inf, {
            "positions": traj["positions"].values[f], "diameters": diameters, "box": box, "title": label}))
        ns.append(traj.sizes["atom"])
        boxes.append(_box_text(box))
        spreads.append(float(np.std(diameters) / np.mean(diameters)))
    panels.sort(key=lambda item: item[0])
    system = _same(potentials, "{}")
    title = title or f"{system[:1].upper() + system[1:]}, {_same(methods, '{}')}"
    numbers = f"N = {_same(ns)}, box {_same(boxes, '{}')}"
    if max(spreads) > 0:
        numbers += f", diameter spread std/mean = {_same([round(s, 3) for s in spreads], '{:.3f}')}"
    plots.snapshots([panel for _, panel in panels], output,
                    f"{title}\n{numbers} (periodic images drawn at the edges)")


# -- A8: acceptance ---------------------------------------------------------------------------
def acceptance(study_paths, output, csv_output=None, **_ignored):
    rows = _study_rows(study_paths, "acceptance")
    flat = pd.DataFrame({
        "kT": [r["kT"] for r in rows], "dr": [r["move_size"] for r in rows],
        "acceptance": [r["acceptance"] for r in rows], "acceptance_err": [r["acceptance_err"] for r in rows],
    })
    title = (f"Metropolis acceptance, LJ disks, N = {_same([int(r['n']) for r in rows])}, "
             f"{_same([int(r['steps']) for r in rows])} sweeps per point")
    plots.acceptance(flat, output, title)
    if csv_output:
        write_csv(csv_output, flat.sort_values(["kT", "dr"]))


# -- diffusion ---------------------------------------------------------------------------------
def _curve(ds, name):
    err = ds[f"{name}_err"].values if f"{name}_err" in ds else None
    return ds["time"].values, ds[name].values, err


def msd(dynamics_paths, output, **_ignored):
    curves, ns = [], []
    for path in dynamics_paths:
        ds = read_netcdf(path)
        t, m, err = _curve(ds, "msd")
        curves.append((_run_label(ds.attrs), t, m, err))
        ns.append(int(ds.attrs["n_particles"]))
    plots.msd(curves, output, f"Mean-square displacement, N = {_same(ns)}; error bars: particle blocks")


def free_particle(dynamics_paths, output, **_ignored):
    """MSD of free Langevin particles against the exact result, whose parameters (kT,
    friction, mass, dimension) are the runs' recorded set-point."""
    curves, ns, dts, blocks, points = [], [], [], [], []
    for path in dynamics_paths:
        ds = read_netcdf(path)
        point = read_run(ds.attrs, path).setpoint
        points.append(tuple(point[key] for key in ("kT", "friction", "mass", "dim")))
        blocks.append(ds["msd_block"].values if "msd_block" in ds else None)
        t, m, err = _curve(ds, "msd")
        scheme = point["scheme"]
        dt = point["dt"]
        curves.append((f"simulation, {scheme}" + (f", dt = {float(dt):g} $t_0$" if dt is not None else ""), t, m, err))
        ns.append(int(ds.attrs["n_particles"]))
        if dt is not None:
            dts.append(float(dt))
    if len(set(points)) != 1:
        raise ValueError(f"free-particle runs of different set-points {sorted(set(points))} in one figure")
    kT, friction, mass, dim = points[0]
    t = curves[0][1]
    exact = (t, langevin_free_msd(np.maximum(t, 0), kT, friction, mass, dim), "exact (COURSE.md)")
    title = (f"Free Langevin particles, N = {_same(ns)}, $T={kT:g}$, $\\zeta={friction:g}$, $m={mass:g}$, {dim}D")
    difference = None
    if len(curves) == 2 and all(b is not None for b in blocks) and blocks[0].shape == blocks[1].shape:
        # the schemes share seeds, hence noise: their paired difference is resolved
        # far better than either deviation from the exact curve
        with np.errstate(invalid="ignore", divide="ignore"):
            rel_blocks = (blocks[0] - blocks[1]) / exact[1][:, None]
            diff = (curves[0][2] - curves[1][2]) / exact[1]
        n_blocks = rel_blocks.shape[1]
        err = rel_blocks.std(axis=1, ddof=1) / np.sqrt(n_blocks) if n_blocks > 1 else None
        name = lambda label: label.split(",")[1].strip()  # noqa: E731
        difference = (f"({name(curves[0][0])} $-$ {name(curves[1][0])}) / exact, same random numbers",
                      t, diff, err)
    plots.free_particle(curves, exact, output, title, difference)


def diffusion(study_paths, output, **_ignored):
    rows = _study_rows(study_paths, "lj")
    table = pd.DataFrame({
        "series": [f"{SYSTEM_NAMES.get(r.get('system'), r.get('system'))} "
                   f"{METHOD_NAMES.get(r.get('method'), r.get('method'))}, p = {r.get('polydispersity', 0):g}"
                   for r in rows],
        "kT": [r["kT"] for r in rows],
        "D": [r.get("D", np.nan) for r in rows], "D_err": [r.get("D_err", np.nan) for r in rows],
    })
    replicas = _same([int(r["n_replicas"]) for r in rows])
    title = (f"Diffusion coefficient from the MSD slope, N = {_same([int(r['n']) for r in rows])}, "
             f"{replicas} replica(s) per point" + ("; error bars: replica scatter" if replicas != "1" else ""))
    plots.diffusion_vs_temperature(table, output, title)


# -- structure --------------------------------------------------------------------------------
def structure(structure_paths, output, title=None, **_ignored):
    """g(r) and S(k) of several runs. Runs at the same set-point temperature share a
    colour; each method has its own line style, so pairs (e.g. MC and Langevin at the
    same T) read as pairs."""
    data = [read_netcdf(p) for p in structure_paths]
    temps = sorted({_setpoint(ds.attrs) for ds in data}, key=lambda t: (t is None, t))
    methods = list(dict.fromkeys(ds.attrs.get("method", "") for ds in data))
    styles = [("-", "o"), ("--", "s"), (":", "^")]
    curves = []
    for ds in data:
        colour = temps.index(_setpoint(ds.attrs))
        linestyle, marker = styles[methods.index(ds.attrs.get("method", "")) % len(styles)]
        curves.append({
            "label": _run_label(ds.attrs, with_system=False), "colour": colour, "linestyle": linestyle,
            "marker": marker, "r": ds["r"].values, "g": ds["g"].values, "g_err": ds["g_err"].values,
            "k": ds["k"].values, "S": ds["S"].values, "S_err": ds["S_err"].values,
        })
    ns = [int(ds.attrs["n_particles"]) for ds in data]
    boxes = [_box_text(_attr_json(ds.attrs, "box")) for ds in data]
    frames = [int(ds.attrs.get("frames_analysed", 0)) for ds in data]
    system = SYSTEM_NAMES.get(data[0].attrs.get("system", ""), "")
    head = title or f"{system}: " + " and ".join(METHOD_NAMES.get(m, m) for m in methods)
    plots.structure(curves, output, f"{head}\nN = {_same(ns)}, box {_same(boxes, '{}')}, "
                                    f"{_same(frames)} frames each; error bars: blocks of frames")
