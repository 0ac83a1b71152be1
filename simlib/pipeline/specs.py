"""Stage specs to engine objects: the checks a stage runs first, without its file I/O.

:func:`make_method` and :func:`make_potential` turn the plain dicts of a stage spec
(keys in :mod:`simlib.pipeline.stages`) into engine objects or a :class:`StageError`
naming the key. The stage runner uses them, and so does the config check, which runs
when Snakemake reads the workflow: this module therefore imports only the engine's
method and potential classes, not netCDF or the analyses.
"""

import math

from ..integrators import Langevin, VelocityVerlet
from ..mc import Metropolis
from ..potentials import Potential

METHOD_KEYS = {
    "langevin": {"method", "kT", "dt", "friction", "scheme", "limit", "duration", "vacf_every", "vacf_window",
                 "vacf_start"},
    "nve": {"method", "dt", "duration", "vacf_every", "vacf_window", "vacf_start"},
    "metropolis": {"method", "kT", "move_size", "sweeps", "tune_acceptance", "checkerboard"},
}
COMMON_KEYS = {"thermo_every", "trajectory_every", "skin"}


class StageError(ValueError):
    """A stage spec is invalid; the message names the key."""


def make_potential(spec):
    """A :class:`Potential` from ``{"kind", "r_cut", "epsilon", "tail_correction", "shift"}``."""
    allowed = {"kind", "r_cut", "epsilon", "tail_correction", "shift"}
    unknown = set(spec) - allowed
    if unknown:
        raise StageError(f"potential: unknown key(s) {sorted(unknown)}")
    return Potential(**spec)


def make_method(spec, where="stage"):
    """The method object and run length (steps or sweeps) of a stage spec."""
    method = spec.get("method")
    if method not in METHOD_KEYS:
        raise StageError(f"{where}.method must be one of {sorted(METHOD_KEYS)}, got {method!r}")
    unknown = set(spec) - METHOD_KEYS[method] - COMMON_KEYS
    if unknown:
        raise StageError(f"{where}: unknown key(s) {sorted(unknown)} for method {method!r}")
    try:
        if method == "metropolis":
            obj = Metropolis(kT=spec["kT"], move_size=spec.get("move_size", 0.15),
                             checkerboard=spec.get("checkerboard", False))
            length = whole_steps(spec["sweeps"], 1, f"{where}.sweeps")
            unit = 1.0
        else:
            if method == "langevin":
                obj = Langevin(
                    kT=spec["kT"], dt=spec.get("dt", 0.01), friction=spec.get("friction", 1.0),
                    scheme=spec.get("scheme", "euler"), limit=spec.get("limit"),
                )
            else:
                obj = VelocityVerlet(dt=spec.get("dt", 0.001))
            length = whole_steps(spec["duration"], obj.dt, f"{where}.duration")
            unit = obj.dt
    except KeyError as err:
        raise StageError(f"{where}: missing key {err.args[0]!r} for method {method!r}") from None
    except ValueError as err:
        raise StageError(f"{where}: {err}") from None
    thermo = spec.get("thermo_every")
    thermo_steps = max(1, length // 100) if thermo is None else whole_steps(thermo, unit, f"{where}.thermo_every")
    traj = spec.get("trajectory_every")
    traj_steps = None if traj is None else whole_steps(traj, unit, f"{where}.trajectory_every")
    if length % thermo_steps:
        raise StageError(
            f"{where}.thermo_every ({thermo_steps} steps) must divide the stage length ({length} steps)"
        )
    if traj_steps is not None and traj_steps % thermo_steps:
        raise StageError(
            f"{where}.trajectory_every ({traj_steps} steps) must be a multiple of thermo_every ({thermo_steps} steps)"
        )
    return obj, length, thermo_steps, traj_steps


def whole_steps(value, unit, name):
    """``value / unit`` as a positive whole number, or StageError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise StageError(f"{name} must be a positive number, got {value!r}")
    steps = value / unit
    whole = int(round(steps))
    if whole < 1 or not math.isclose(steps, whole, rel_tol=1e-9, abs_tol=1e-9):
        raise StageError(f"{name} = {value} is not a whole number of steps of {unit}; allowed: multiples of {unit}")
    return whole
