"""Counter-based random numbers (Threefry-2x64-20) for numba kernels.

Every random number in simlib is a pure function of ``(seed, stream, counter)``.
There is no hidden generator state: the "RNG state" of a simulation is its seed
and its step counter, both stored in :class:`simlib.state.State`. This is what
makes a run split by a checkpoint bit-identical to an uninterrupted one, and it
lets a future multi-threaded kernel draw the same numbers for any thread count,
because particle ``i`` at step ``s`` always uses counter ``(s, i)``.

Threefry-2x64 with 20 rounds is the generator of Salmon et al., "Parallel random
numbers: as easy as 1, 2, 3" (SC'11); it passes BigCrush. It is checked here
against the Random123 known-answer vectors (``tests/test_rng.py``).
"""

import numpy as np
from numba import njit

# Streams keep the numbers used for different purposes independent.
STREAM_LANGEVIN = 1
STREAM_METROPOLIS = 2
STREAM_DIAMETERS = 3
STREAM_VELOCITIES = 4
STREAM_PLACEMENT = 5

_PARITY = np.uint64(0x1BD11BDAA9FC1A22)
_TWO_M52 = 1.0 / 4503599627370496.0


@njit(inline="always", cache=True)
def _rotl(x, r):
    return (x << np.uint64(r)) | (x >> np.uint64(64 - r))


@njit(forceinline=True, cache=True)
def threefry2x64(c0, c1, k0, k1):
    """Threefry-2x64-20 block cipher: counter ``(c0, c1)``, key ``(k0, k1)``.

    All four arguments and both results are ``uint64``.
    """
    k2 = _PARITY ^ k0 ^ k1
    x0 = c0 + k0
    x1 = c1 + k1
    # 20 rounds; rotations 16,42,12,31,16,32,24,21; key injection every 4 rounds
    x0 += x1; x1 = _rotl(x1, 16) ^ x0  # noqa: E702
    x0 += x1; x1 = _rotl(x1, 42) ^ x0  # noqa: E702
    x0 += x1; x1 = _rotl(x1, 12) ^ x0  # noqa: E702
    x0 += x1; x1 = _rotl(x1, 31) ^ x0  # noqa: E702
    x0 += k1; x1 += k2 + np.uint64(1)  # noqa: E702
    x0 += x1; x1 = _rotl(x1, 16) ^ x0  # noqa: E702
    x0 += x1; x1 = _rotl(x1, 32) ^ x0  # noqa: E702
    x0 += x1; x1 = _rotl(x1, 24) ^ x0  # noqa: E702
    x0 += x1; x1 = _rotl(x1, 21) ^ x0  # noqa: E702
    x0 += k2; x1 += k0 + np.uint64(2)  # noqa: E702
    x0 += x1; x1 = _rotl(x1, 16) ^ x0  # noqa: E702
    x0 += x1; x1 = _rotl(x1, 42) ^ x0  # noqa: E702
    x0 += x1; x1 = _rotl(x1, 12) ^ x0  # noqa: E702
    x0 += x1; x1 = _rotl(x1, 31) ^ x0  # noqa: E702
    x0 += k0; x1 += k1 + np.uint64(3)  # noqa: E702
    x0 += x1; x1 = _rotl(x1, 16) ^ x0  # noqa: E702
    x0 += x1; x1 = _rotl(x1, 32) ^ x0  # noqa: E702
    x0 += x1; x1 = _rotl(x1, 24) ^ x0  # noqa: E702
    x0 += x1; x1 = _rotl(x1, 21) ^ x0  # noqa: E702
    x0 += k1; x1 += k2 + np.uint64(4)  # noqa: E702
    x0 += x1; x1 = _rotl(x1, 16) ^ x0  # noqa: E702
    x0 += x1; x1 = _rotl(x1, 42) ^ x0  # noqa: E702
    x0 += x1; x1 = _rotl(x1, 12) ^ x0  # noqa: E702
    x0 += x1; x1 = _rotl(x1, 31) ^ x0  # noqa: E702
    x0 += k2; x1 += k0 + np.uint64(5)  # noqa: E702
    return x0, x1


@njit(inline="always", cache=True)
def to_unit_open(word):
    """Map a uint64 to a double in the open interval (0, 1) (52 random bits).

    ``(m + 0.5) / 2^52`` with ``m < 2^52`` is exact in a double, so neither 0 nor 1
    can occur (with 53 bits the largest word would round to exactly 1.0).
    """
    return ((word >> np.uint64(12)) + 0.5) * _TWO_M52


@njit(forceinline=True, cache=True)
def uniform_pair(seed, stream, c0, c1):
    """Two independent uniforms in (0, 1) for counter ``(c0, c1)``."""
    w0, w1 = threefry2x64(np.uint64(c0), np.uint64(c1), np.uint64(seed), np.uint64(stream))
    return to_unit_open(w0), to_unit_open(w1)


@njit(forceinline=True, cache=True)
def normal_pair(seed, stream, c0, c1):
    """Two independent standard normal numbers (Box-Muller) for counter ``(c0, c1)``."""
    u0, u1 = uniform_pair(seed, stream, c0, c1)
    radius = np.sqrt(-2.0 * np.log(u0))
    angle = 2.0 * np.pi * u1
    return radius * np.cos(angle), radius * np.sin(angle)


@njit(cache=True)
def _fill_normal(out, seed, stream, c0):
    flat = out.ravel()
    n = flat.size
    for k in range((n + 1) // 2):
        g0, g1 = normal_pair(seed, stream, c0, k)
        flat[2 * k] = g0
        if 2 * k + 1 < n:
            flat[2 * k + 1] = g1


@njit(cache=True)
def _fill_uniform(out, seed, stream, c0):
    flat = out.ravel()
    n = flat.size
    for k in range((n + 1) // 2):
        u0, u1 = uniform_pair(seed, stream, c0, k)
        flat[2 * k] = u0
        if 2 * k + 1 < n:
            flat[2 * k + 1] = u1


def check_seed(seed):
    """Return ``seed`` as a Python int in [0, 2**63), or raise ValueError naming it."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    if not 0 <= seed < 2**63:
        raise ValueError(f"seed must be in [0, 2**63), got {seed}")
    return seed


def normal_array(shape, seed, stream, counter=0):
    """Standard normal numbers of ``shape``, a pure function of (seed, stream, counter)."""
    out = np.empty(shape, dtype=np.float64)
    _fill_normal(out, check_seed(seed), stream, counter)
    return out


def uniform_array(shape, seed, stream, counter=0):
    """Uniform numbers in (0, 1) of ``shape``, a pure function of (seed, stream, counter)."""
    out = np.empty(shape, dtype=np.float64)
    _fill_uniform(out, check_seed(seed), stream, counter)
    return out
