"""Green-Kubo from a resolved VACF: the flag, the on-the-fly accumulator, the stage hook.

The bug of issue 13: Green-Kubo integrated from velocities sampled every 0.5 t0 (the
trajectory interval) gives D 2-16x too large in the LJ liquid, because the VACF has
structure well below 0.5 t0. Such a VACF must be flagged (or refused); a VACF sampled
every few MD steps must give the MSD's D.
"""

import math

import numpy as np
import pytest
import xarray as xr

import simlib
from simlib.analysis import (
    MSD,
    VACF,
    OnTheFlyVACF,
    UnresolvedVACFError,
    fit_diffusion,
    green_kubo_diffusion,
)
from simlib.pipeline.postprocess import analyse_run
from simlib.pipeline.runs import provenance_record, setpoint
from simlib.pipeline.stages import StageError, run_stage


def damped_cosine(h, tau=0.3, omega=6.0, t_end=6.0, d=2):
    """A liquid-like VACF with structure below 0.5 t0; its integral is tau / (1 + omega^2 tau^2)."""
    t = h * np.arange(int(round(t_end / h)) + 1)
    c = d * np.exp(-t / tau) * np.cos(omega * t)
    ds = xr.Dataset({"vacf": ("time", c), "vacf_block": (("time", "block"), np.stack([c, c], axis=1))},
                    coords={"time": t}, attrs={"dim": d, "dt": h})
    return ds, tau / (1.0 + (omega * tau) ** 2)


def test_coarse_sampling_is_flagged_and_fine_sampling_is_exact():
    fine, exact = damped_cosine(0.01)
    gk = green_kubo_diffusion(fine)
    assert gk.resolved and gk.sampling_interval == 0.01
    assert gk.D == pytest.approx(exact, rel=2e-3)
    coarse, _ = damped_cosine(0.5)
    bad = green_kubo_diffusion(coarse)
    assert not bad.resolved and bad.sampling_interval == 0.5
    assert abs(bad.D - exact) > 0.5 * exact  # the wrong number the flag protects against
    with pytest.raises(UnresolvedVACFError, match=r"sampled every 0.5 t0 is not resolved"):
        green_kubo_diffusion(coarse, require_resolved=True)


def test_on_the_fly_vacf_equals_the_all_origin_vacf():
    rng = np.random.default_rng(4)
    v = np.cumsum(rng.normal(size=(60, 30, 2)), axis=0) * 0.1
    acc = OnTheFlyVACF(0.05, window=40 * 0.05, origin_every=1, n_blocks=3)
    for frame in v:
        acc.add(frame)
    ref = VACF(0.05, mode="direct", n_blocks=3).compute(v).vacf[:41]
    np.testing.assert_allclose(acc.vacf, ref, rtol=1e-12, atol=1e-14)
    assert acc.dataset.attrs["sampling_interval"] == 0.05


def test_on_the_fly_vacf_continues_exactly_from_a_saved_state():
    rng = np.random.default_rng(5)
    v = rng.normal(size=(50, 12, 3))
    whole = OnTheFlyVACF(0.1, window=2.0, origin_every=3)
    first = OnTheFlyVACF(0.1, window=2.0, origin_every=3)
    for k, frame in enumerate(v):
        whole.add(frame)
        if k < 23:
            first.add(frame)
    second = OnTheFlyVACF(0.1, window=2.0, origin_every=3)
    second.set_state(first.get_state())
    for frame in v[23:]:
        second.add(frame)
    np.testing.assert_array_equal(second.vacf, whole.vacf)
    with pytest.raises(ValueError, match="different window"):
        OnTheFlyVACF(0.1, window=3.0, origin_every=3).set_state(first.get_state())


@pytest.fixture(scope="module")
def lj_liquid():
    """2D LJ at the course's density 0.64 and T* = 1.0 (N = 256), Langevin dt = 0.01.

    Velocities are accumulated every 2 steps on the fly; positions and velocities are
    also kept every 0.5 t0, as the pipeline's trajectory does.
    """
    state = simlib.initial_state(256, simlib.Box.cube(20.0, 2), seed=3)
    pot = simlib.Potential("lj", r_cut=2.5)
    simlib.Simulation(state, pot, simlib.Langevin(kT=5.0, dt=0.01)).run(500)
    sim = simlib.Simulation(state, pot, simlib.Langevin(kT=1.0, dt=0.01))
    sim.run(1000)
    acc = OnTheFlyVACF(0.02, window=3.0)
    pos, vel = [], []
    for _ in range(80):  # 40 t0
        sim.run(50, every=2, callback=acc)
        pos.append(state.unwrapped_positions())
        vel.append(state.velocities.copy())
    return acc, np.array(pos), np.array(vel)


def test_lj_green_kubo_agrees_with_msd_only_when_resolved(lj_liquid):
    acc, pos, vel = lj_liquid
    fit = fit_diffusion(MSD(0.5).compute(pos), t_min=3.0, t_max=15.0)
    gk = green_kubo_diffusion(acc, t_max=3.0)
    assert gk.resolved and gk.sampling_interval == 0.02
    assert abs(gk.D - fit.D) <= 4.0 * math.hypot(gk.D_err, fit.D_err), (gk.D, gk.D_err, fit.D, fit.D_err)
    coarse = green_kubo_diffusion(VACF(0.5).compute(vel))
    assert not coarse.resolved and coarse.first_lag_ratio < 0.5
    assert coarse.D > 1.5 * fit.D  # the wrong number of issue 13


STAGE = {"method": "langevin", "kT": 1.0, "dt": 0.01, "duration": 4.0, "thermo_every": 0.1,
         "trajectory_every": 0.5, "vacf_every": 0.02, "vacf_window": 1.0, "vacf_start": 1.0}
SYSTEM = {"n": 64, "box": 10.0, "dim": 2, "seed": 3}
POT = {"kind": "lj", "r_cut": 2.5}


def run(tmp, name, stage=STAGE, **kw):
    out = {k: tmp / f"{name}_{k}.nc" for k in ("state", "thermo", "trajectory", "vacf")}
    record = provenance_record("x", setpoint("lj", stage, POT, SYSTEM), {})
    run_stage(stage, POT, SYSTEM, out["state"], out["thermo"], out["trajectory"], vacf_out=out["vacf"],
              log=lambda m: None, config=record, **kw)
    return out


def test_stage_writes_the_vacf_and_the_summary_uses_it(tmp_path):
    out = run(tmp_path, "a")
    with xr.open_dataset(out["vacf"]) as ds:
        assert ds.attrs["sampling_interval"] == 0.02 and ds.attrs["simlib_kind"] == "vacf"
        assert int(ds["origins"].values[-1]) > 0 and ds.sizes["time"] == 51
    fine, _ = analyse_run(out["thermo"], out["trajectory"], expected_run="x", vacf_path=out["vacf"])
    assert np.isfinite(fine["D_green_kubo"]) and fine["vacf_sampling_interval"] == 0.02
    assert fine["D_green_kubo_note"] == ""
    coarse, _ = analyse_run(out["thermo"], out["trajectory"], expected_run="x")
    assert math.isnan(coarse["D_green_kubo"]) and coarse["vacf_sampling_interval"] == 0.5
    assert coarse["D_green_kubo_note"].startswith("refused: VACF sampled every 0.5 t0 is not resolved")


def test_stage_vacf_is_bit_identical_after_a_kill(tmp_path):
    whole = run(tmp_path, "whole")

    class Kill(BaseException):
        pass

    lines = []

    def kill_after_second_checkpoint(message):
        lines.append(message)
        if sum("checkpoint at step" in m for m in lines) == 2:
            raise Kill

    out = {k: tmp_path / f"cut_{k}.nc" for k in ("state", "thermo", "trajectory", "vacf")}
    args = (STAGE, POT, SYSTEM, out["state"], out["thermo"], out["trajectory"])
    with pytest.raises(Kill):
        run_stage(*args, vacf_out=out["vacf"], checkpoint_seconds=0.0, progress_lines=1000,
                  log=kill_after_second_checkpoint)
    assert not out["vacf"].exists()
    resumed = []
    run_stage(*args, vacf_out=out["vacf"], log=resumed.append)
    assert any("resuming from checkpoint" in m for m in resumed)
    with xr.open_dataset(whole["vacf"]) as a, xr.open_dataset(out["vacf"]) as b:
        np.testing.assert_array_equal(a["vacf_block"].values, b["vacf_block"].values)


def test_stage_vacf_keys_are_checked(tmp_path):
    with pytest.raises(StageError, match="vacf_every is required when the rule writes a VACF"):
        run(tmp_path, "b", stage={k: v for k, v in STAGE.items() if not k.startswith("vacf")})
    with pytest.raises(StageError, match="vacf_every is set but no vacf output"):
        run_stage(STAGE, POT, SYSTEM, tmp_path / "s.nc", tmp_path / "t.nc", tmp_path / "tr.nc", log=lambda m: None)
    with pytest.raises(StageError, match="vacf_window is longer than the stage"):
        run(tmp_path, "c", stage={**STAGE, "vacf_window": 3.5})
    with pytest.raises(StageError, match="unknown key"):
        run_stage({"method": "metropolis", "kT": 1.0, "sweeps": 10, "vacf_every": 1}, POT, SYSTEM,
                  tmp_path / "s.nc", tmp_path / "t.nc", log=lambda m: None)
