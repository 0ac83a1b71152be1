"""Periodic boxes: minimum image, wrapping with image counters, unwrapping.

Units: reduced Lennard-Jones units throughout simlib. Lengths are in units of the
particle diameter ``a`` ([length]), energies in ``eps`` ([energy]), masses in ``m``,
time in ``t0 = sqrt(m a^2 / eps)`` ([time]) and ``k_B = 1``.

Positions are kept wrapped into ``[0, L)`` in every dimension, together with integer
image counters, so that the unwrapped position ``x + n L`` (needed for diffusion) is
always available exactly.
"""

from dataclasses import dataclass

import numpy as np

from ._kernels import inlined


@dataclass(frozen=True)
class Box:
    """Orthorhombic periodic box.

    Parameters
    ----------
    lengths : array_like of float, shape (d,)
        Box side lengths [length]; ``d`` is 2 or 3.
    """

    lengths: np.ndarray

    def __post_init__(self):
        lengths = np.array(self.lengths, dtype=np.float64).reshape(-1)
        if lengths.size not in (2, 3):
            raise ValueError(f"box: need 2 or 3 side lengths, got {lengths.size}")
        if not np.all(np.isfinite(lengths)) or np.any(lengths <= 0):
            raise ValueError(f"box: side lengths must be positive and finite, got {lengths.tolist()}")
        lengths.setflags(write=False)
        object.__setattr__(self, "lengths", lengths)

    @classmethod
    def cube(cls, side, dim):
        """A square (``dim=2``) or cubic (``dim=3``) box of side ``side`` [length]."""
        return cls(np.full(_check_dim(dim), _check_side(side)))

    @property
    def dim(self):
        return self.lengths.size

    @property
    def volume(self):
        """Area in 2D, volume in 3D [length^d]."""
        return float(np.prod(self.lengths))

    def minimum_image(self, dr):
        """Minimum-image displacement vectors, shape like ``dr`` (..., d)."""
        dr = np.asarray(dr, dtype=np.float64)
        return dr - self.lengths * np.rint(dr / self.lengths)

    def wrap(self, positions, images):
        """Wrap ``positions`` (N, d) into [0, L) in place, updating ``images`` (N, d) int64:
        :func:`wrap_coordinate` on every coordinate, in numpy (same bits)."""
        outside = ~((positions >= 0.0) & (positions < self.lengths))
        if not outside.any():
            return
        rows, dims = np.nonzero(outside)
        length = self.lengths[dims]
        x = positions[rows, dims]
        shift = np.floor(x / length)
        x = x - shift * length
        # round-off: floor can leave x == L, and x / L can round to -0.0 for subnormal x < 0
        over = x >= length
        x[over] -= length[over]
        shift[over] += 1.0
        x[x < 0.0] = 0.0
        positions[rows, dims] = x
        images[rows, dims] += shift.astype(np.int64)

    def unwrap(self, positions, images):
        """Unwrapped positions ``x + n L``, shape (N, d)."""
        return positions + images * self.lengths


def _check_dim(dim):
    if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (int, np.integer)) or dim not in (2, 3):
        raise ValueError(f"box dim must be the integer 2 or 3, got {dim!r}")
    return int(dim)


def _check_side(side):
    if isinstance(side, (bool, np.bool_)) or not isinstance(side, (int, float, np.integer, np.floating)):
        raise ValueError(f"box side must be a number, got {side!r}")
    if not (np.isfinite(side) and side > 0):
        raise ValueError(f"box side must be a positive finite number, got {side!r}")
    return float(side)


@inlined
def wrap_coordinate(x, length):
    """``(x', n)`` with ``x' = x - n L`` in ``[0, L)``; ``n`` is the image shift (int64)."""
    if 0.0 <= x < length:
        return x, np.int64(0)
    shift = np.floor(x / length)
    x -= shift * length
    # round-off: floor can leave x == L, and x / L can round to -0.0 for subnormal x < 0
    if x >= length:
        x -= length
        shift += 1.0
    if x < 0.0:
        x = 0.0
    return x, np.int64(shift)


@inlined
def min_image(dx, length, half_length):
    """Minimum-image component of ``dx = x_i - x_j`` for two *wrapped* coordinates.

    Both coordinates lie in ``[0, L)``, so ``|dx| < L`` and one conditional shift
    suffices; it is faster than ``rint`` and gives the same bits.
    """
    if dx > half_length:
        return dx - length
    if dx < -half_length:
        return dx + length
    return dx


@inlined
def box_sides(box, three_d):
    """``(lx, ly, lz, hx, hy, hz)``: box sides and half sides (``lz = 1`` in 2D), read
    once before a pair loop."""
    lx, ly = box[0], box[1]
    lz = box[2] if three_d else 1.0
    return lx, ly, lz, 0.5 * lx, 0.5 * ly, 0.5 * lz


@inlined
def separation(dx, dy, dz, lx, ly, lz, hx, hy, hz, three_d):
    """Minimum-image ``(dx, dy, dz, r^2)`` from the coordinate differences of two wrapped
    positions (``dz = 0`` in 2D). Scalars only, so a pair loop can call it at no cost."""
    dx = min_image(dx, lx, hx)
    dy = min_image(dy, ly, hy)
    r2 = dx * dx + dy * dy
    if three_d:
        dz = min_image(dz, lz, hz)
        r2 += dz * dz
    else:
        dz = 0.0
    return dx, dy, dz, r2
