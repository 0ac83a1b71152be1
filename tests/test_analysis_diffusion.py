"""Tests for simlib.analysis.diffusion (MSD, VACF, D)."""

import numpy as np
import pytest
import xarray as xr

from simlib.analysis import (
    MSD,
    VACF,
    NotComputedError,
    fit_diffusion,
    green_kubo_diffusion,
    langevin_free_msd,
    langevin_free_vacf,
)


def random_walk(n_frames, n, d, seed, step=1.0):
    rng = np.random.default_rng(seed)
    return 5.0 + np.cumsum(rng.normal(scale=step, size=(n_frames, n, d)), axis=0)


@pytest.fixture(scope="module")
def langevin():
    """Free Langevin particles, the course's semi-implicit Euler-Maruyama step.

    zeta = m = T = 1, dt = 0.01, 4000 particles in 2D, equilibrium start,
    frames every 0.1 t0 for 20 t0.
    """
    rng = np.random.default_rng(2024)
    n, d, dt, stride, n_frames = 4000, 2, 0.01, 10, 200
    kT, zeta, m = 1.0, 1.0, 1.0
    v = rng.normal(scale=np.sqrt(kT / m), size=(n, d))
    x = np.zeros((n, d))
    pos, vel = np.empty((n_frames, n, d)), np.empty((n_frames, n, d))
    for f in range(n_frames):
        pos[f], vel[f] = x, v
        for _ in range(stride):
            v += -zeta * v * dt / m + np.sqrt(2 * zeta * kT * dt) / m * rng.normal(size=(n, d))
            x += v * dt
    return {"pos": pos, "vel": vel, "frame_dt": dt * stride, "kT": kT, "zeta": zeta, "m": m, "d": d}


@pytest.mark.parametrize("mode", ["fft", "direct"])
@pytest.mark.parametrize("d", [1, 2, 3])
def test_straight_line_motion_is_exact(mode, d):
    rng = np.random.default_rng(d)
    n_frames, n, dt = 40, 7, 0.5
    x0, vel = rng.uniform(-10, 10, size=(n, d)), rng.normal(size=(n, d))
    t = dt * np.arange(n_frames)
    pos = x0 + t[:, None, None] * vel
    res = MSD(dt, mode=mode, per_particle=True).compute(pos)
    assert np.allclose(res.lag_time, t, rtol=0, atol=1e-14)
    np.testing.assert_allclose(res.msd, np.mean(np.sum(vel**2, axis=1)) * t**2, rtol=1e-11, atol=1e-12)
    ds = res.dataset
    np.testing.assert_allclose(ds["msd_particle"].values, np.sum(vel**2, axis=1) * t[:, None] ** 2,
                               rtol=1e-11, atol=1e-12)
    assert ds["msd"].attrs["units"] == "a^2" and ds.attrs["dim"] == d


def test_fft_equals_direct():
    pos = random_walk(300, 40, 3, seed=1, step=0.3)
    fft = MSD(0.1, mode="fft", per_particle=True, n_blocks=4).compute(pos).dataset
    direct = MSD(0.1, mode="direct", per_particle=True, n_blocks=4).compute(pos).dataset
    for name in ("msd", "msd_block", "msd_particle"):
        scale = np.abs(direct[name].values).max()
        assert np.abs(fft[name].values - direct[name].values).max() <= 1e-10 * scale
    vel = np.random.default_rng(2).normal(size=(300, 40, 3))
    a = VACF(0.1, mode="fft").compute(vel).vacf
    b = VACF(0.1, mode="direct").compute(vel).vacf
    assert np.abs(a - b).max() <= 1e-10 * np.abs(b).max()


def test_msd_matches_freud():
    freud = pytest.importorskip("freud")
    L = 30.0
    pos = random_walk(100, 50, 2, seed=3)
    padded = np.concatenate([pos, np.zeros(pos.shape[:2] + (1,))], axis=-1)
    ref = freud.msd.MSD(freud.box.Box.from_box([L, L]), mode="window").compute(padded).msd
    ours = MSD(1.0).compute(pos).msd
    # freud works in single precision
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-5)


def test_langevin_msd_matches_exact_formula(langevin):
    lv = langevin
    res = MSD(lv["frame_dt"]).compute(lv["pos"])
    ds = res.dataset
    exact = langevin_free_msd(res.lag_time, lv["kT"], lv["zeta"], lv["m"], lv["d"])
    err = ds["msd_block"].std("block", ddof=1).values / np.sqrt(ds.attrs["n_blocks"])
    # every lag within 5 block standard errors (10 blocks of 400 particles);
    # the O(dt) discretisation bias is < 1 % and well inside that.
    assert np.all(np.abs(res.msd - exact)[1:] < 5 * err[1:])
    # the ballistic start (t = 0.1, MSD ~ d T t^2 / m) to 2 % (noise ~0.5 %)
    assert res.msd[1] == pytest.approx(exact[1], rel=0.02)


def test_langevin_diffusion_coefficient(langevin):
    lv = langevin
    expected = lv["kT"] / lv["zeta"]
    fit = fit_diffusion(MSD(lv["frame_dt"]).compute(lv["pos"]))  # default window [5, 10] t0
    assert fit.t_min == pytest.approx(0.25 * 19.9) and fit.n_blocks == 10
    # statistical error ~1.5 %: require it small and D within 4 of them
    assert fit.D_err < 0.03
    assert abs(fit.D - expected) < 4 * fit.D_err
    gk = green_kubo_diffusion(VACF(lv["frame_dt"]).compute(lv["vel"]), t_max=8.0)
    assert gk.t_max == pytest.approx(8.0)
    assert gk.D_err < 0.03
    assert abs(gk.D - expected) < 4 * gk.D_err


def test_langevin_vacf(langevin):
    lv = langevin
    res = VACF(lv["frame_dt"]).compute(lv["vel"])
    exact = langevin_free_vacf(res.lag_time, lv["kT"], lv["zeta"], lv["m"], lv["d"])
    # C(0) = d T / m; the Euler step heats by 1/(1 - dt/2) = +0.5 %; noise ~0.5 %
    assert res.vacf[0] == pytest.approx(exact[0], rel=0.02)
    assert np.all(np.abs(res.vacf[:30] - exact[:30]) < 0.05)


def test_fit_diffusion_on_exact_line():
    d, D = 3, 0.7
    t = 0.05 * np.arange(101)
    blocks = 2 * d * D * t[:, None] * np.array([0.9, 1.0, 1.1]) + 0.3
    ds = xr.Dataset(
        {"msd": ("time", blocks.mean(axis=1)), "msd_block": (("time", "block"), blocks)},
        coords={"time": t}, attrs={"dim": d, "dt": 0.05},
    )
    fit = fit_diffusion(ds, t_min=1.0, t_max=4.0)
    assert fit.D == pytest.approx(D, rel=1e-12)
    assert fit.intercept == pytest.approx(0.3, rel=1e-10)
    assert fit.D_err == pytest.approx(np.std(D * np.array([0.9, 1.0, 1.1]), ddof=1) / np.sqrt(3), rel=1e-10)
    assert fit.n_points == 61
    with pytest.raises(ValueError, match="fewer than 2"):
        fit_diffusion(ds, t_min=3.0, t_max=2.0)


def test_green_kubo_on_exponential():
    d, dt = 2, 0.01
    t = dt * np.arange(2001)
    c = d * 1.5 * np.exp(-t / 0.4)  # integral 0.6 d
    blocks = np.stack([c, c], axis=1)
    ds = xr.Dataset({"vacf": ("time", c), "vacf_block": (("time", "block"), blocks)},
                    coords={"time": t}, attrs={"dim": d, "dt": dt})
    gk = green_kubo_diffusion(ds)
    assert gk.t_max == pytest.approx(10.0)
    assert gk.D == pytest.approx(0.6, rel=1e-4)  # trapezoid error ~ dt^2 / (12 tau^2)
    assert gk.running_D[0] == 0.0 and gk.D_err == 0.0


def test_green_kubo_matched_to_an_msd_fit_is_that_fit():
    """MSD(t) = 2 d int_0^t (t - s) C(s) ds, so the Green-Kubo counterpart of an MSD fit is exact."""
    d, dt, tau, D = 2, 0.01, 0.4, 0.6
    t = dt * np.arange(2001)
    c = d * (D / tau) * np.exp(-t / tau)
    blocks = c[:, None] * np.array([0.95, 1.05])
    vacf = xr.Dataset({"vacf": ("time", c), "vacf_block": (("time", "block"), blocks)},
                      coords={"time": t}, attrs={"dim": d, "dt": dt})
    lags = 0.05 * np.arange(61)
    msd = 2 * d * D * (lags - tau * (1 - np.exp(-lags / tau)))
    msd_ds = xr.Dataset({"msd": ("time", msd), "msd_block": (("time", "block"), msd[:, None] * np.array([0.95, 1.05]))},
                        coords={"time": lags}, attrs={"dim": d, "dt": 0.05})
    # an early window, where the running integral is still rising: the fit is well below D
    fit = fit_diffusion(msd_ds, t_min=0.2, t_max=1.0)
    assert fit.D < 0.85 * D
    gk = green_kubo_diffusion(vacf, msd_fit=fit)
    assert gk.D == pytest.approx(fit.D, rel=1e-4)  # trapezoid error ~ dt^2 / tau^2
    assert gk.D_err == pytest.approx(fit.D_err, rel=1e-3)
    assert gk.msd_window == (fit.t_min, fit.t_max) and gk.t_max == pytest.approx(1.0)
    assert green_kubo_diffusion(vacf, t_max=1.0).D > 1.1 * gk.D  # the plain integral is not that fit
    with pytest.raises(ValueError, match="short of the MSD fit window"):
        green_kubo_diffusion(vacf.isel(time=slice(0, 50)), msd_fit=fit)


def test_green_kubo_matched_agrees_with_msd_of_a_langevin_run(langevin):
    lv = langevin
    fit = fit_diffusion(MSD(lv["frame_dt"]).compute(lv["pos"]), t_min=0.5, t_max=3.0)
    gk = green_kubo_diffusion(VACF(lv["frame_dt"]).compute(lv["vel"]), msd_fit=fit)
    # the same particles: MSD and VACF noise are correlated, so this is tighter than the errors
    assert abs(gk.D - fit.D) < 2.576 * np.hypot(gk.D_err, fit.D_err)


def test_langevin_formulas_limits():
    d, kT, zeta, m = 3, 2.0, 4.0, 0.5
    short = 1e-5
    assert langevin_free_msd(short, kT, zeta, m, d) == pytest.approx(d * kT / m * short**2, rel=1e-4)
    slope = (langevin_free_msd(2000.0, kT, zeta, m, d) - langevin_free_msd(1000.0, kT, zeta, m, d)) / 1000.0
    assert slope == pytest.approx(2 * d * kT / zeta, rel=1e-12)
    assert langevin_free_vacf(0.0, kT, zeta, m, d) == pytest.approx(d * kT / m)
    with pytest.raises(ValueError, match="friction"):
        langevin_free_msd(1.0, 1.0, 0.0, 1.0, 2)


def test_bad_arguments_and_early_reads():
    with pytest.raises(ValueError, match="mode"):
        MSD(0.1, mode="window")
    with pytest.raises(ValueError, match="dt"):
        VACF(-1.0)
    with pytest.raises(ValueError, match="n_blocks"):
        MSD(0.1, n_blocks=0)
    with pytest.raises(ValueError, match=r"positions must have shape \(n_frames, N, d\)"):
        MSD(0.1).compute(np.zeros((10, 3)))
    with pytest.raises(ValueError, match="at least 2 frames"):
        MSD(0.1).compute(np.zeros((1, 3, 2)))
    res = MSD(0.1)
    for name in ("msd", "lag_time", "dataset"):
        with pytest.raises(NotComputedError, match="compute"):
            getattr(res, name)
    with pytest.raises(NotComputedError):
        VACF(0.1).vacf
