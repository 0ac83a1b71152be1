"""Validation study: the methods agree with each other, with exact results and with published data.

Every check is one row: the measured value and its error bar, the reference and its
error bar, the tolerance and PASS or FAIL. Two numbers ``a +- sa`` and ``b +- sb`` agree
when ``|a - b| <= 2.576 sqrt(sa^2 + sb^2)`` (two-sided 99 %, the rule of HOOMD-blue's
validation tests). A few checks have a stated fixed tolerance instead (the velocity
Verlet slope 2 +- 0.1). Error bars of time averages come from block averaging
(:func:`simlib.analysis.mean_with_error`), those of curves from blocks of particles or
of frames.

Check groups (one function each, parameters from the config's ``validation`` section):

``exact``           free Langevin particle: D from the MSD and from Green-Kubo against
                    D = T/zeta, the VACF at zero lag, equipartition K/N = (d/2) T
                    (BAOAB; for the Euler step its exact discrete value T / (1 - zeta dt / 2)).
``dt_convergence``  velocity Verlet energy-fluctuation slope on log-log; Langevin <U>/N
                    and kinetic temperature extrapolated to dt -> 0 for both schemes.
``methods``         MC = Langevin (both schemes) = NVE (started from the Langevin state,
                    velocities scaled to the canonical mean energy) for U/N, pressure and
                    the first peak of g(r) (mean over +- 0.1 a around MC's maximum).
``reweighting``     Metropolis energies at T1 reweighted to T2 against a run at T2.
``diffusion``       D from the MSD against Green-Kubo with the VACF sampled finely
                    (on the fly), Langevin LJ and NVE soft disks; the coarse (trajectory)
                    sampling is shown to be flagged as unresolved.
``lj3d``            3D LJ fluid, r_c = 3, truncated unshifted + tail correction, N = 500,
                    MC and Langevin against the NIST SRSW Monte Carlo data.
``hard_disks``      MC hard disks, pressure from the contact value of g(r), against the
                    Henderson equation of state.

Reduced LJ units throughout. Reference data files live in ``simlib/pipeline/data/``
with their citations.
"""

import math
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .. import (
    Box,
    Langevin,
    Metropolis,
    MoveSizeTuner,
    Potential,
    Simulation,
    VelocityVerlet,
    initial_state,
    tune_move_size,
)
from ..analysis import (
    MSD,
    RDF,
    VACF,
    OnTheFlyVACF,
    energy_conservation,
    fit_diffusion,
    green_kubo_diffusion,
    mean_with_error,
)
from .stages import make_potential

Z99 = 2.576  # two-sided 99 % quantile of the normal distribution
DATA = Path(__file__).with_name("data")

COLUMNS = [
    "group", "check", "quantity", "measured", "measured_err", "reference", "reference_err",
    "tolerance", "result", "reference_source", "note",
]


@dataclass
class Check:
    """One row of ``validation.csv``."""

    group: str
    check: str
    quantity: str
    measured: float
    measured_err: float
    reference: float
    reference_err: float
    tolerance: float
    result: str
    reference_source: str = ""
    note: str = ""

    @property
    def passed(self):
        return self.result == "PASS"


def agreement_tolerance(sa, sb, z=Z99):
    """``z sqrt(sa^2 + sb^2)``: the largest |a - b| that counts as agreement."""
    sa = 0.0 if sa is None or not np.isfinite(sa) else float(sa)
    sb = 0.0 if sb is None or not np.isfinite(sb) else float(sb)
    return z * math.sqrt(sa * sa + sb * sb)


def agree(group, check, quantity, a, sa, b, sb, source="", note="", z=Z99):
    """A :class:`Check` of ``a +- sa`` against ``b +- sb`` by the 2.576-sigma rule.

    A measurement without a finite error bar cannot pass: its error is unknown.
    """
    tol = agreement_tolerance(sa, sb, z)
    ok = bool(np.isfinite(a) and np.isfinite(b) and np.isfinite(sa) and abs(a - b) <= tol)
    if not np.isfinite(sa):
        note = (note + "; " if note else "") + "no error bar"
    return Check(group, check, quantity, float(a), float(sa), float(b), float(sb) if sb is not None else 0.0,
                 tol, "PASS" if ok else "FAIL", source, note)


def within(group, check, quantity, a, sa, b, tol, source="", note=""):
    """A :class:`Check` with a fixed tolerance: PASS iff ``|a - b| <= tol``."""
    ok = bool(np.isfinite(a) and abs(a - b) <= tol)
    return Check(group, check, quantity, float(a), float(sa), float(b), 0.0, float(tol),
                 "PASS" if ok else "FAIL", source, note)


def checks_frame(checks):
    """Checks as a DataFrame with the columns of ``validation.csv``."""
    return pd.DataFrame([asdict(c) for c in checks], columns=COLUMNS)


def write_checks(path, checks):
    """Write checks to CSV atomically."""
    from ..io import atomic_path

    with atomic_path(path) as tmp:
        checks_frame(checks).to_csv(tmp, index=False, float_format="%.10g")


# -- running ---------------------------------------------------------------------------
def _mean_err(values):
    with warnings.catch_warnings():
        # short (tiny-variant) series have no blocking plateau; the error is then a lower bound
        warnings.simplefilter("ignore", RuntimeWarning)
        res = mean_with_error(np.asarray(values, dtype=np.float64))
    return res.mean, res.error


@dataclass
class Series:
    """Thermo samples of a production run."""

    potential: list = field(default_factory=list)
    pressure: list = field(default_factory=list)
    kinetic: list = field(default_factory=list)
    total: list = field(default_factory=list)
    time: list = field(default_factory=list)
    frames: list = field(default_factory=list)

    def add(self, sim, keep_frame=False):
        row = sim.thermo()
        self.potential.append(row["potential_per_particle"])
        self.pressure.append(row["pressure"])
        self.kinetic.append(row["kinetic_per_particle"])
        self.total.append(row["total_per_particle"])
        self.time.append(row["stage_time"])
        if keep_frame:
            self.frames.append(sim.state.positions.copy())

    def mean(self, name):
        return _mean_err(getattr(self, name))


def _run(sim, steps, every, frames_every=None, callback=None):
    """Run ``steps`` in chunks of ``every``, sampling thermo (and frames) after each chunk."""
    series = Series()
    frames_every = frames_every or 0
    done = 0
    while done < steps:
        if callback is None:
            sim.run(every)
        else:
            sim.run(every, every=1, callback=callback)
        done += every
        chunk = done // every
        series.add(sim, keep_frame=bool(frames_every) and chunk % frames_every == 0)
    return series


def _steps(duration, dt):
    return max(1, int(round(duration / dt)))


def _lattice_state(n, box, dim, seed, kT=None):
    return initial_state(int(n), Box.cube(float(box), int(dim)), int(seed), kT=kT)


def _melt(state, pot, kT, dt, duration):
    if duration > 0:
        Simulation(state, pot, Langevin(kT=kT, dt=dt, scheme="baoab")).run(_steps(duration, dt))


def _mc(state, pot, kT, sweeps, equil_sweeps, every, frames_every=None, target=0.4):
    sim = Simulation(state, pot, Metropolis(kT=kT, move_size=0.1))
    tune_move_size(sim, MoveSizeTuner(target=target), sweeps_per_update=10, max_updates=20)
    sim = Simulation(state, pot, sim.method)
    sim.run(int(equil_sweeps))
    return _run(sim, int(sweeps), int(every), frames_every)


def _langevin(state, pot, kT, dt, scheme, equil, duration, every, frames_every=None, friction=1.0):
    sim = Simulation(state, pot, Langevin(kT=kT, dt=dt, scheme=scheme, friction=friction))
    sim.run(_steps(equil, dt))
    return _run(sim, _steps(duration, dt), _steps(every, dt), frames_every)


def _first_peak(frames, box, r_max, bins, centre=None, half_width=0.1, n_blocks=8):
    """g(r) averaged over ``centre +- half_width`` (the first peak), with an error from
    blocks of frames.

    A linear functional of g(r): the maximum of a noisy histogram is biased upward by
    its noise, so two runs of different length would differ for no physical reason.
    ``centre`` defaults to the maximum of this run's frame-averaged g(r). Returns
    ``(value, error, r, g(r), centre)``.
    """
    frames = np.asarray(frames)
    n_blocks = min(n_blocks, len(frames))
    curves = []
    for block in np.array_split(np.arange(len(frames)), n_blocks):
        rdf = RDF(bins=bins, r_max=r_max)
        for k, f in enumerate(block):
            rdf.compute(frames[f], box, reset=(k == 0))
        curves.append(rdf.rdf)
    curves = np.array(curves)
    r = rdf.bin_centers
    pooled = curves.mean(axis=0)
    if centre is None:
        centre = float(r[np.argmax(pooled)])
    sel = np.abs(r - centre) <= half_width + 1e-12
    values = curves[:, sel].mean(axis=1)
    err = values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else float("nan")
    return float(values.mean()), float(err), r, pooled, centre


# -- groups ----------------------------------------------------------------------------
def check_exact(p, seed):
    """Free Langevin particles: D, VACF(0), equipartition; both schemes."""
    checks, data = [], {}
    kT, zeta, dt, d = p["kT"], p["friction"], p["dt"], p["dim"]
    for scheme in ("euler", "baoab"):
        state = initial_state(p["n"], Box.cube(1000.0, d), seed, kT=kT)
        sim = Simulation(state, Potential("ideal", r_cut=1.0), Langevin(kT=kT, dt=dt, friction=zeta, scheme=scheme))
        acc = OnTheFlyVACF(dt, window=p["window"])
        frame_every = _steps(p["frame_every"], dt)
        positions = []

        def sample(s, acc=acc, positions=positions, frame_every=frame_every):
            acc(s)
            if (s.state.step - s.state.step_origin) % frame_every == 0:
                positions.append(s.state.unwrapped_positions())

        series = _run(sim, _steps(p["duration"], dt), frame_every, callback=sample)
        msd = MSD(dt=p["frame_every"]).compute(np.array(positions))
        t_last = msd.lag_time[-1]
        fit = fit_diffusion(msd, t_min=min(5.0 * zeta, 0.25 * t_last), t_max=0.5 * t_last)
        exact_D = kT / zeta
        checks.append(agree("exact", f"free particle {scheme}: D from MSD", "D", fit.D, fit.D_err, exact_D, 0.0,
                            "exact: D = T/zeta"))
        gk = green_kubo_diffusion(acc, t_max=p["window"])
        checks.append(agree("exact", f"free particle {scheme}: D from Green-Kubo", "D", gk.D, gk.D_err, exact_D, 0.0,
                            "exact: D = T/zeta", note=f"VACF sampled every {gk.sampling_interval:g} t0"))
        c = acc.dataset
        c0_err = float(c["vacf_block"].values[0].std(ddof=1) / np.sqrt(c.sizes["block"]))
        # the Euler step's stationary velocity variance is T / (1 - zeta dt / 2) per component
        factor = 1.0 / (1.0 - 0.5 * zeta * dt) if scheme == "euler" else 1.0
        checks.append(agree("exact", f"free particle {scheme}: VACF(0)", "C(0)", float(c["vacf"].values[0]), c0_err,
                            d * kT * factor, 0.0, "exact: d T/m" + (" / (1 - zeta dt/2), Euler step" if factor != 1 else "")))
        k, k_err = series.mean("kinetic")
        checks.append(agree("exact", f"free particle {scheme}: equipartition", "K/N", k, k_err, 0.5 * d * kT * factor, 0.0,
                            "exact: (d/2) T" + (" / (1 - zeta dt/2), Euler step" if factor != 1 else "")))
        data[f"vacf_{scheme}"] = (("lag_time",), c["vacf"].values)
        data[f"msd_{scheme}"] = (("msd_time",), msd.msd)
        coords = {"lag_time": c["time"].values, "msd_time": msd.lag_time}
    return checks, xr.Dataset(data, coords=coords, attrs={"kT": kT, "friction": zeta, "dim": d})


def check_dt_convergence(p, seed):
    """Velocity Verlet fluctuation slope; Langevin dt -> 0 limits of both schemes."""
    checks, data = [], {}
    pot = make_potential(p["potential"])
    base = _lattice_state(p["n"], p["box"], p["dim"], seed)
    _melt(base, pot, 5.0, 0.005, p["melt"])
    Simulation(base, pot, Langevin(kT=p["kT"], dt=0.005, scheme="baoab")).run(_steps(p["equilibrate"], 0.005))
    rms = []
    for dt in p["nve_dts"]:
        state = base.copy()
        sim = Simulation(state, pot, VelocityVerlet(dt=dt))
        series = _run(sim, _steps(p["nve_duration"], dt), _steps(p["nve_every"], dt))
        cons = energy_conservation(series.time, series.kinetic, series.potential, series.total)
        rms.append(cons.total_rms_detrended)
    log_dt, log_rms = np.log(p["nve_dts"]), np.log(rms)
    coef, cov = np.polyfit(log_dt, log_rms, 1, cov=True) if len(rms) > 3 else (np.polyfit(log_dt, log_rms, 1), None)
    slope_err = float(np.sqrt(cov[0, 0])) if cov is not None else float("nan")
    checks.append(within("dt_convergence", "velocity Verlet: E/N fluctuation vs dt, log-log slope", "slope",
                         coef[0], slope_err, 2.0, 0.1, "second-order integrator"))
    data["nve_rms"] = (("nve_dt",), np.array(rms))
    limits = {}
    for scheme in ("euler", "baoab"):
        u, ue, tk, tke = [], [], [], []
        for dt in p["langevin_dts"]:
            state = base.copy()
            series = _langevin(state, pot, p["kT"], dt, scheme, p["langevin_equilibrate"], p["langevin_duration"],
                               p["langevin_every"])
            m, e = series.mean("potential")
            u.append(m), ue.append(e)
            m, e = series.mean("kinetic")
            tk.append(2.0 * m / p["dim"]), tke.append(2.0 * e / p["dim"])
        # Euler errors are O(dt); BAOAB configurational errors are O(dt^2)
        x = np.array(p["langevin_dts"]) ** (1 if scheme == "euler" else 2)
        lim_u = _extrapolate(x, np.array(u), np.array(ue))
        lim_t = _extrapolate(x, np.array(tk), np.array(tke))
        limits[scheme] = lim_u
        checks.append(agree("dt_convergence", f"Langevin {scheme}: kinetic temperature at dt -> 0", "T_kin",
                            lim_t[0], lim_t[1], p["kT"], 0.0, "bath temperature",
                            note=f"linear fit in dt^{1 if scheme == 'euler' else 2}"))
        data[f"U_{scheme}"] = (("langevin_dt",), np.array(u))
        data[f"U_{scheme}_err"] = (("langevin_dt",), np.array(ue))
        data[f"Tkin_{scheme}"] = (("langevin_dt",), np.array(tk))
    checks.append(agree("dt_convergence", "Langevin: Euler and BAOAB <U>/N agree at dt -> 0", "U/N",
                        limits["euler"][0], limits["euler"][1], limits["baoab"][0], limits["baoab"][1],
                        "BAOAB extrapolation"))
    coords = {"nve_dt": np.array(p["nve_dts"]), "langevin_dt": np.array(p["langevin_dts"])}
    return checks, xr.Dataset(data, coords=coords, attrs={"kT": p["kT"], "slope": float(coef[0])})


def _extrapolate(x, y, err):
    """Weighted straight line y = a + b x; returns (a, error of a)."""
    err = np.where(err > 0, err, np.max(err) if np.max(err) > 0 else 1.0)
    w = 1.0 / err**2
    design = np.stack([np.ones_like(x), x], axis=1)
    cov = np.linalg.inv(design.T @ (design * w[:, None]))
    a, _ = cov @ (design.T @ (w * y))
    return float(a), float(np.sqrt(cov[0, 0]))


def _set_total_energy(state, pot, u_per_particle, kT):
    """Zero the total momentum and scale velocities to E = N <U/N> + (d/2)(N - 1) kT.

    NVE keeps the energy and momentum it starts with. Started from one canonical
    snapshot, its temperature would be off by the snapshot's kinetic fluctuation
    (~1/sqrt(N)) and its centre of mass would keep a frozen share of the kinetic
    energy; with zero momentum, N - 1 particles' worth of degrees of freedom share
    the heat, so the canonical mean energy at kT is N <U/N> + (d/2)(N - 1) kT.
    """
    state.velocities -= state.velocities.mean(axis=0)  # one mass for all particles
    sim = Simulation(state, pot, VelocityVerlet(dt=1e-3))
    row = sim.thermo()
    n, d = state.n, state.dim
    target_k = n * u_per_particle + 0.5 * d * (n - 1) * kT - n * row["potential_per_particle"]
    kinetic = n * row["kinetic_per_particle"]
    if target_k <= 0 or kinetic <= 0:
        raise ValueError("validation.methods: cannot set the NVE energy (state far from equilibrium)")
    state.velocities *= math.sqrt(target_k / kinetic)


def check_methods(p, seed):
    """MC = Langevin (Euler, BAOAB) = NVE for U/N, P and the first peak of g(r)."""
    checks, data, coords = [], {}, {}
    for system in p["systems"]:
        name, kT = system["name"], system["kT"]
        pot = make_potential(system["potential"])
        base = _lattice_state(p["n"], p["box"], p["dim"], seed)
        _melt(base, pot, 5.0, 0.005, p["melt"])
        runs = {}
        frames_every = max(1, int(round(p["frame_every"] / p["every"])))
        state = base.copy()
        runs["mc"] = _mc(state, pot, kT, p["mc_sweeps"], p["mc_equilibrate"], p["mc_every"],
                         frames_every=max(1, p["mc_frame_every"] // p["mc_every"]))
        # Euler's error is O(dt) (it shows at dt = 0.005, see dt_convergence), BAOAB's
        # configurational error O(dt^2); each run has its own noise stream, so the checks
        # are independent
        dts = {"euler": p["euler_dt"], "baoab": p["dt"]}
        for k, scheme in enumerate(("euler", "baoab")):
            state = base.copy()
            state.seed = seed + 1000 * (k + 1)
            runs[scheme] = _langevin(state, pot, kT, dts[scheme], scheme, p["equilibrate"], p["duration"], p["every"],
                                     frames_every)
            if scheme == "baoab":
                langevin_state = state
        if pot.kind == "lj" and not pot.shift:
            nve_note = "NVE skipped: unshifted cut-off"
        else:
            nve_note = ""
            _set_total_energy(langevin_state, pot, runs["mc"].mean("potential")[0], kT)
            sim = Simulation(langevin_state, pot, VelocityVerlet(dt=p["nve_dt"]))
            runs["nve"] = _run(sim, _steps(p["duration"], p["nve_dt"]), _steps(p["every"], p["nve_dt"]),
                               frames_every)
        box = base.box.lengths
        ref = runs["mc"]
        ref_peak = _first_peak(ref.frames, box, p["rdf_r_max"], p["rdf_bins"])
        data[f"{name}_g_mc"] = (("r",), ref_peak[3])
        coords["r"] = ref_peak[2]
        for method, series in runs.items():
            if method == "mc":
                continue
            label = {"euler": "Langevin Euler", "baoab": "Langevin BAOAB", "nve": "NVE"}[method]
            for quantity, key in (("U/N", "potential"), ("P", "pressure")):
                a, sa = series.mean(key)
                b, sb = ref.mean(key)
                checks.append(agree("methods", f"{name} T*={kT:g}: {label} vs MC", quantity, a, sa, b, sb,
                                    "Metropolis MC (this study)", note=f"dt={p['nve_dt'] if method == 'nve' else dts[method]:g}"))
            peak = _first_peak(series.frames, box, p["rdf_r_max"], p["rdf_bins"], centre=ref_peak[4])
            checks.append(agree("methods", f"{name} T*={kT:g}: {label} vs MC", "g(r) first peak", peak[0], peak[1],
                                ref_peak[0], ref_peak[1], "Metropolis MC (this study)",
                                note=f"mean g over r = {ref_peak[4]:.3g} +- 0.1"))
            data[f"{name}_g_{method}"] = (("r",), peak[3])
        if nve_note:
            checks.append(Check("methods", f"{name} T*={kT:g}: NVE vs MC", "-", np.nan, np.nan, np.nan, np.nan, np.nan,
                                "SKIP", "", nve_note))
    return checks, xr.Dataset(data, coords=coords)


def check_reweighting(p, seed):
    """Metropolis energy histogram at T1 reweighted to T2 against a direct run at T2."""
    pot = make_potential(p["potential"])
    base = _lattice_state(p["n"], p["box"], p["dim"], seed)
    _melt(base, pot, 5.0, 0.005, p["melt"])
    out = {}
    for label, kT in (("T1", p["T1"]), ("T2", p["T2"])):
        state = base.copy()
        out[label] = _mc(state, pot, kT, p["sweeps"], p["equilibrate"], p["every"])
    n = p["n"]
    u1 = np.array(out["T1"].potential) * n
    beta1, beta2 = 1.0 / p["T1"], 1.0 / p["T2"]
    blocks = np.array_split(np.arange(u1.size), p["blocks"])
    estimates = []
    for b in blocks:
        e = u1[b]
        w = np.exp(-(beta2 - beta1) * (e - e.mean()))
        estimates.append(np.sum(w * e) / np.sum(w) / n)
    estimates = np.array(estimates)
    w = np.exp(-(beta2 - beta1) * (u1 - u1.mean()))
    rew = float(np.sum(w * u1) / np.sum(w) / n)
    rew_err = float(estimates.std(ddof=1) / np.sqrt(len(estimates)))
    direct, direct_err = out["T2"].mean("potential")
    checks = [agree("reweighting", f"Metropolis U/N at T*={p['T1']:g} reweighted to T*={p['T2']:g}", "U/N",
                    rew, rew_err, direct, direct_err, f"Metropolis run at T*={p['T2']:g} (this study)",
                    note=f"{p['blocks']} blocks")]
    hist_edges = np.linspace(min(u1.min(), np.min(out["T2"].potential) * n), max(u1.max(), np.max(out["T2"].potential) * n), 41)
    h1, _ = np.histogram(u1 / n, bins=hist_edges / n, density=True)
    h2, _ = np.histogram(np.array(out["T2"].potential), bins=hist_edges / n, density=True)
    hw, _ = np.histogram(u1 / n, bins=hist_edges / n, weights=w, density=True)
    centres = 0.5 * (hist_edges[1:] + hist_edges[:-1]) / n
    ds = xr.Dataset({"hist_T1": (("u",), h1), "hist_T2": (("u",), h2), "hist_reweighted": (("u",), hw)},
                    coords={"u": centres}, attrs={"T1": p["T1"], "T2": p["T2"]})
    return checks, ds


def check_diffusion(p, seed):
    """D from the MSD against Green-Kubo with a finely sampled VACF."""
    checks, data, coords = [], {}, {}
    for system in p["systems"]:
        name = system["name"]
        pot = make_potential(system["potential"])
        state = _lattice_state(p["n"], p["box"], p["dim"], seed)
        _melt(state, pot, 5.0, 0.01, p["melt"])
        dt = system["dt"]
        Simulation(state, pot, Langevin(kT=system["kT"], dt=0.01)).run(_steps(system["equilibrate"], 0.01))
        method = Langevin(kT=system["kT"], dt=dt) if system["method"] == "langevin" else VelocityVerlet(dt=dt)
        sim = Simulation(state, pot, method)
        every = int(p["sample_every"])
        acc = OnTheFlyVACF(every * dt, window=system["window"])
        frame_every = _steps(p["frame_every"], dt)
        positions, velocities = [], []

        def sample(s, acc=acc, positions=positions, velocities=velocities, frame_every=frame_every, every=every):
            k = s.state.step - s.state.step_origin
            if k % every == 0:
                acc(s)
            if k % frame_every == 0:
                positions.append(s.state.unwrapped_positions())
                velocities.append(s.state.velocities.copy())

        steps = _steps(system["duration"], dt)
        sim.run(steps - steps % frame_every, every=1, callback=sample)
        msd = MSD(dt=p["frame_every"]).compute(np.array(positions))
        t_last = msd.lag_time[-1]
        # the MSD fit ends at the VACF window (at most half the run, for enough origins)
        fit_end = min(system["window"], 0.5 * t_last)
        fit = fit_diffusion(msd, t_min=0.2 * fit_end, t_max=fit_end)
        # both on the MSD fit's time scale: in 2D, D(t) has no plateau to compare at
        gk = green_kubo_diffusion(acc, msd_fit=fit)
        label = f"{name} {system['method']} T*={system['kT']:g}"
        checks.append(agree("diffusion", f"{label}: D Green-Kubo (fine VACF) vs MSD", "D", gk.D, gk.D_err, fit.D,
                            fit.D_err, "MSD slope (this study)",
                            note=f"VACF sampled every {gk.sampling_interval:g} t0; resolved={gk.resolved}; "
                                 f"both over lags {fit.t_min:g}-{fit.t_max:g} t0"))
        coarse = green_kubo_diffusion(VACF(dt=p["frame_every"]).compute(np.array(velocities)), msd_fit=fit)
        checks.append(Check("diffusion", f"{label}: coarse VACF (every {p['frame_every']:g} t0) flagged", "resolved",
                            float(coarse.D), float(coarse.D_err), float(fit.D), float(fit.D_err),
                            agreement_tolerance(coarse.D_err, fit.D_err),
                            "PASS" if not coarse.resolved or abs(coarse.D - fit.D) <= agreement_tolerance(coarse.D_err, fit.D_err) else "FAIL",
                            "MSD slope (this study)",
                            f"resolved={coarse.resolved}, C(h)/C(0)={coarse.first_lag_ratio:.3g}: an unresolved "
                            "Green-Kubo value is flagged, a resolved one must agree"))
        data[f"{name}_vacf"] = ((f"{name}_lag",), acc.vacf)
        data[f"{name}_running_D"] = ((f"{name}_lag",), gk.running_D)
        coords[f"{name}_lag"] = acc.dataset["time"].values
        data[f"{name}_D_msd"] = fit.D
        data[f"{name}_D_gk"] = gk.D
        data[f"{name}_D_gk_err"] = gk.D_err
        data[f"{name}_fit_window"] = (("fit_bound",), np.array([fit.t_min, fit.t_max]))
    return checks, xr.Dataset(data, coords=coords)


def reference_table(name):
    """A reference-data CSV of ``simlib/pipeline/data`` (comment lines hold the citation)."""
    path = DATA / f"{name}.csv"
    lines = path.read_text().splitlines()
    source = " ".join(line.lstrip("# ").strip() for line in lines if line.startswith("# source:"))
    table = pd.read_csv(path, comment="#")
    return table, source.removeprefix("source:").strip()


def check_lj3d(p, seed):
    """3D LJ, r_c = 3 unshifted + tail correction: MC and Langevin against NIST SRSW MC."""
    table, source = reference_table("nist_lj_mc")
    checks, rows = [], []
    pot = Potential("lj", r_cut=p["r_cut"], shift=False, tail_correction=True)
    for kT in p["temperatures"]:
        for rho in p["densities"]:
            ref = table[np.isclose(table["T"], kT) & np.isclose(table["rho"], rho)]
            if ref.empty:
                raise ValueError(f"validation.lj3d: no NIST reference for T*={kT}, rho*={rho} in {DATA}/nist_lj_mc.csv")
            ref = ref.iloc[0]
            box = (p["n"] / rho) ** (1.0 / 3.0)
            base = _lattice_state(p["n"], box, 3, seed)
            _melt(base, pot, 2.0, 0.005, p["melt"])
            results = {
                "MC": _mc(base.copy(), pot, kT, p["mc_sweeps"], p["mc_equilibrate"], p["mc_every"]),
                "Langevin BAOAB": _langevin(base.copy(), pot, kT, p["dt"], "baoab", p["equilibrate"], p["duration"],
                                            p["every"]),
            }
            for method, series in results.items():
                for quantity, key, col in (("U/N", "potential", "U"), ("P", "pressure", "P")):
                    a, sa = series.mean(key)
                    ref_err = ref[f"{col}_err"] if np.isfinite(ref[f"{col}_err"]) else 0.0
                    checks.append(agree("lj3d", f"3D LJ T*={kT:g} rho*={rho:g}: {method}", quantity, a, sa,
                                        ref[col], ref_err, source,
                                        note="N=500, r_c=3, truncated unshifted + tail correction"))
                    rows.append({"T": kT, "rho": rho, "method": method, "quantity": col, "value": a, "err": sa,
                                 "reference": ref[col]})
    frame = pd.DataFrame(rows)
    return checks, xr.Dataset.from_dataframe(frame)


def henderson_z(eta):
    """Henderson's hard-disk equation of state Z = (1 + eta^2/8) / (1 - eta)^2."""
    eta = np.asarray(eta, dtype=np.float64)
    return (1.0 + eta**2 / 8.0) / (1.0 - eta) ** 2


def contact_value(frames, box, r_min, width, bins, n_blocks=8):
    """g(sigma+) from a quadratic fit of g(r) on [sigma, sigma + width], with block errors."""
    frames = np.asarray(frames)
    n_blocks = min(n_blocks, len(frames))
    values = []
    for block in np.array_split(np.arange(len(frames)), n_blocks):
        rdf = RDF(bins=bins, r_min=r_min, r_max=r_min + width)
        for k, f in enumerate(block):
            rdf.compute(frames[f], box, reset=(k == 0))
        coef = np.polyfit(rdf.bin_centers - r_min, rdf.rdf, 2)
        values.append(coef[-1])
    values = np.array(values)
    return float(values.mean()), float(values.std(ddof=1) / np.sqrt(len(values)))


def check_hard_disks(p, seed):
    """MC hard disks: Z = 1 + 2 eta g(sigma+) against Henderson's equation of state."""
    table, source = reference_table("hard_disk_eos")
    model_err = float(table["model_rel_err"].iloc[0])
    checks, rows = [], []
    pot = Potential("hard", r_cut=1.0)
    for eta in p["packing_fractions"]:
        box = math.sqrt(p["n"] * math.pi / (4.0 * eta))
        state = initial_state(p["n"], Box.cube(box, 2), seed)
        series = _mc(state, pot, 1.0, p["sweeps"], p["equilibrate"], p["every"], frames_every=1, target=0.4)
        g, g_err = contact_value(series.frames, state.box.lengths, 1.0, p["contact_width"], p["contact_bins"])
        z, z_err = 1.0 + 2.0 * eta * g, 2.0 * eta * g_err
        ref = float(henderson_z(eta))
        checks.append(agree("hard_disks", f"hard disks eta={eta:g}: Z from contact g(r)", "Z = P/(rho kT)", z, z_err,
                            ref, model_err * ref, source,
                            note=f"N={p['n']}; reference_err = assumed {100 * model_err:g} % model uncertainty"))
        rows.append({"eta": eta, "Z": z, "Z_err": z_err, "Z_henderson": ref})
    return checks, xr.Dataset.from_dataframe(pd.DataFrame(rows))


def check_summary(summary_csv):
    """D from the MSD against Green-Kubo for every run of ``summary.csv`` that has both."""
    frame = pd.read_csv(summary_csv)
    checks = []
    if "D_green_kubo" not in frame.columns:
        return checks
    for _, row in frame.iterrows():
        if not np.isfinite(row.get("D", np.nan)):
            continue
        note = str(row.get("D_green_kubo_note", "")) if "D_green_kubo_note" in frame.columns else ""
        if note == "nan":
            note = ""
        checks.append(agree("summary", f"{row['run']}: D Green-Kubo vs MSD", "D", row["D_green_kubo"],
                            row.get("D_green_kubo_err", np.nan), row["D"], row.get("D_err", np.nan),
                            "MSD slope (summary.csv)", note=note))
    return checks


GROUPS = {
    "exact": check_exact,
    "dt_convergence": check_dt_convergence,
    "methods": check_methods,
    "reweighting": check_reweighting,
    "diffusion": check_diffusion,
    "lj3d": check_lj3d,
    "hard_disks": check_hard_disks,
}


def run_group(name, params, seed):
    """Run one check group: ``(list of Check, xarray.Dataset for its figure)``."""
    if name not in GROUPS:
        raise ValueError(f"validation.groups: unknown group {name!r}; choose from {sorted(GROUPS)}")
    checks, ds = GROUPS[name](params, seed)
    ds.attrs["group"] = name
    return checks, ds


# -- report ----------------------------------------------------------------------------
def collect(csv_paths, out_csv):
    """Concatenate group CSVs into ``validation.csv``; returns the table."""
    from ..io import atomic_path

    frames = [pd.read_csv(p) for p in csv_paths]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    with atomic_path(out_csv) as tmp:
        table.to_csv(tmp, index=False, float_format="%.10g")
    return table


def plot_group(ds, path):
    """The figure of one check group."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    group = ds.attrs.get("group", "")
    fig, ax = plt.subplots(figsize=(5.5, 4.0))
    if group == "exact":
        t = ds["lag_time"].values
        for scheme in ("euler", "baoab"):
            ax.plot(t, ds[f"vacf_{scheme}"].values, label=f"VACF {scheme}")
        d, kT, zeta = ds.attrs["dim"], ds.attrs["kT"], ds.attrs["friction"]
        ax.plot(t, d * kT * np.exp(-zeta * t), "k--", label="exact d T exp(-zeta t)")
        ax.set(xlabel="t [t0]", ylabel="<v(0).v(t)> [a^2/t0^2]")
    elif group == "dt_convergence":
        ax.loglog(ds["nve_dt"].values, ds["nve_rms"].values, "o-", label=f"NVE rms(E/N), slope {ds.attrs['slope']:.2f}")
        ax.set(xlabel="dt [t0]", ylabel="rms fluctuation of E/N [eps]")
    elif group == "methods":
        for name in ds.data_vars:
            ax.plot(ds["r"].values, ds[name].values, label=name.replace("_g_", " "))
        ax.set(xlabel="r [a]", ylabel="g(r)")
    elif group == "reweighting":
        u = ds["u"].values
        ax.plot(u, ds["hist_T1"].values, label=f"T*={ds.attrs['T1']:g}")
        ax.plot(u, ds["hist_T2"].values, label=f"T*={ds.attrs['T2']:g} direct")
        ax.plot(u, ds["hist_reweighted"].values, "--", label=f"T*={ds.attrs['T1']:g} reweighted")
        ax.set(xlabel="U/N [eps]", ylabel="probability density")
    elif group == "diffusion":
        for name in ds.data_vars:
            if name.endswith("_running_D"):
                system = name.removesuffix("_running_D")
                line, = ax.plot(ds[f"{system}_lag"].values, ds[name].values, label=f"{system}: running GK integral")
                colour = line.get_color()
                if f"{system}_D_gk" in ds:
                    # both estimates over the MSD fit's lags, drawn across that window
                    t_min, t_max = (float(v) for v in ds[f"{system}_fit_window"].values)
                    ax.hlines(float(ds[f"{system}_D_msd"]), t_min, t_max, color=colour, ls="--",
                              label=f"{system}: MSD slope over its fit window")
                    ax.errorbar(0.5 * (t_min + t_max), float(ds[f"{system}_D_gk"]), yerr=Z99 * float(ds[f"{system}_D_gk_err"]),
                                fmt="o", color=colour, label=f"{system}: Green-Kubo over that window (99 % bar)")
                else:
                    ax.axhline(float(ds[f"{system}_D_msd"]), color=colour, ls="--", label=f"{system}: MSD")
        ax.set(xlabel="t [t0]", ylabel="D [a^2/t0]")
    elif group == "lj3d":
        frame = ds.to_dataframe()
        frame = frame[frame["quantity"] == "U"]
        for k, ((kT, method), sub) in enumerate(frame.groupby(["T", "method"])):
            ax.errorbar(sub["rho"] + 0.002 * k, sub["value"] - sub["reference"], yerr=Z99 * sub["err"], fmt="o",
                        label=f"T*={kT:g} {method}")
        ax.axhline(0.0, color="k", lw=0.8)
        ax.set(xlabel="rho* [a^-3]", ylabel="U/N - U/N (NIST SRSW) [eps], 99 % bars")
    elif group == "hard_disks":
        eta = np.linspace(0.05, max(0.6, float(ds["eta"].max())), 100)
        ax.plot(eta, henderson_z(eta), "k-", label="Henderson EOS")
        ax.errorbar(ds["eta"].values, ds["Z"].values, yerr=ds["Z_err"].values, fmt="o", label="MC, contact g(r)")
        ax.set(xlabel="packing fraction eta", ylabel="Z = P/(rho kT)")
    ax.legend(fontsize=7)
    ax.set_title(f"validation: {group}")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def save_group(path, ds, settings=None, seed=None):
    """Write a group's figure data (netCDF, atomically) with the settings that made it."""
    import json

    from ..io import write_netcdf

    ds = ds.copy()
    ds.attrs["simlib_kind"] = "validation"
    ds.attrs["settings"] = json.dumps(settings or {}, sort_keys=True)
    ds.attrs["seed"] = -1 if seed is None else int(seed)
    write_netcdf(path, ds)


def load_group(path):
    """Read a group's figure data."""
    with xr.open_dataset(path) as ds:
        return ds.load()
