"""Private helpers shared by the analysis modules.

Input checking in one place and the "read before compute" error.
"""

import numpy as np


class NotComputedError(RuntimeError):
    """A result property was read before ``compute`` was called."""


def require_computed(obj, name):
    """Raise :class:`NotComputedError` unless ``obj`` has been computed."""
    if not getattr(obj, "_computed", False):
        cls = type(obj).__name__
        raise NotComputedError(f"{cls}.{name} is not available yet: call {cls}.compute(...) first")


def check_positive(name, value, integer=False):
    """Return ``value`` as a positive finite float (or int >= 1), else ValueError."""
    if integer:
        if isinstance(value, bool) or int(value) != value or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        return int(value)
    value = float(value)
    if not np.isfinite(value) or value <= 0.0:
        raise ValueError(f"{name} must be positive and finite, got {value!r}")
    return value


def check_box(box, dim=None):
    """Box side lengths as a contiguous float64 array of shape (d,), d in {2, 3}."""
    lengths = np.ascontiguousarray(np.asarray(box, dtype=np.float64).reshape(-1))
    if lengths.size not in (2, 3):
        raise ValueError(f"box must hold 2 or 3 side lengths [length], got shape {np.shape(box)}")
    if not np.all(np.isfinite(lengths)) or np.any(lengths <= 0.0):
        raise ValueError(f"box side lengths must be positive and finite, got {lengths.tolist()}")
    if dim is not None and lengths.size != dim:
        raise ValueError(f"box has {lengths.size} side lengths but points have d = {dim}")
    return lengths


def check_points(points, box):
    """Positions wrapped into [0, L) as contiguous float64 (N, d), plus the box.

    ``points`` must have shape (N, d) with d equal to ``len(box)``; positions
    outside the box are wrapped (periodic images are equivalent).
    """
    pos = np.asarray(points, dtype=np.float64)
    if pos.ndim != 2 or pos.shape[1] not in (2, 3):
        raise ValueError(f"points must have shape (N, d) with d = 2 or 3, got {pos.shape}")
    if pos.shape[0] < 1:
        raise ValueError("points must hold at least one particle")
    if not np.all(np.isfinite(pos)):
        raise ValueError("points contain non-finite values")
    lengths = check_box(box, pos.shape[1])
    pos = np.ascontiguousarray(np.mod(pos, lengths))
    pos[pos >= lengths] = 0.0  # np.mod may return L for tiny negative inputs
    return pos, lengths


def check_trajectory(name, array):
    """A trajectory as contiguous float64 of shape (n_frames, N, d), d in {1, 2, 3}."""
    arr = np.asarray(array, dtype=np.float64)
    if arr.ndim != 3 or arr.shape[2] not in (1, 2, 3):
        raise ValueError(f"{name} must have shape (n_frames, N, d) with d in (1, 2, 3), got {arr.shape}")
    if arr.shape[0] < 2 or arr.shape[1] < 1:
        raise ValueError(f"{name} needs at least 2 frames and 1 particle, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains non-finite values")
    return np.ascontiguousarray(arr)
