"""Counter-based random numbers (Threefry-2x64-20) for numba kernels.

Every random number in simlib is a pure function of ``(seed, stream, counter)``.
There is no hidden generator state: the "RNG state" of a simulation is its seed
and its step counter, both stored in :class:`simlib.state.State`. This is what
makes a run split by a checkpoint bit-identical to an uninterrupted one, and it
lets a future multi-threaded kernel draw the same numbers for any thread count,
because particle ``i`` at step ``s`` always uses counter ``(s, i)``.

Threefry-2x64 with 20 rounds is the generator of Salmon et al., "Parallel random
numbers: as easy as 1, 2, 3" (SC'11); it passes BigCrush. It is checked here
against the Random123 known-answer vectors (``tests/test_rng.py``). Normal numbers
come from a ziggurat fed by the same words.
"""

import numpy as np

from ._kernels import inlined, njit

# Streams keep the numbers used for different purposes independent.
STREAM_LANGEVIN = 1
STREAM_METROPOLIS = 2
STREAM_DIAMETERS = 3
STREAM_VELOCITIES = 4
STREAM_PLACEMENT = 5
STREAM_CHECKERBOARD = 6

_PARITY = np.uint64(0x1BD11BDAA9FC1A22)
# Threefry-2x64's rotation constants
_R12, _R16, _R21, _R24, _R31, _R32, _R42 = (np.uint64(r) for r in (12, 16, 21, 24, 31, 32, 42))
_TWO_M52 = 1.0 / 4503599627370496.0


@inlined
def _rotl(x, r):
    """``x`` rotated left by ``r`` bits (both ``uint64``, so one compiled version serves
    every rotation; a literal ``r`` would compile one per constant)."""
    return (x << r) | (x >> (np.uint64(64) - r))


@njit(forceinline=True)
def threefry2x64(c0, c1, k0, k1):
    """Threefry-2x64-20 block cipher: counter ``(c0, c1)``, key ``(k0, k1)``.

    All four arguments and both results are ``uint64``.
    """
    k2 = _PARITY ^ k0 ^ k1
    x0 = c0 + k0
    x1 = c1 + k1
    # 20 rounds; rotations 16,42,12,31,16,32,24,21; key injection every 4 rounds
    x0 += x1; x1 = _rotl(x1, _R16) ^ x0  # noqa: E702
    x0 += x1; x1 = _rotl(x1, _R42) ^ x0  # noqa: E702
    x0 += x1; x1 = _rotl(x1, _R12) ^ x0  # noqa: E702
    x0 += x1; x1 = _rotl(x1, _R31) ^ x0  # noqa: E702
    x0 += k1; x1 += k2 + np.uint64(1)  # noqa: E702
    x0 += x1; x1 = _rotl(x1, _R16) ^ x0  # noqa: E702
    x0 += x1; x1 = _rotl(x1, _R32) ^ x0  # noqa: E702
    x0 += x1; x1 = _rotl(x1, _R24) ^ x0  # noqa: E702
    x0 += x1; x1 = _rotl(x1, _R21) ^ x0  # noqa: E702
    x0 += k2; x1 += k0 + np.uint64(2)  # noqa: E702
    x0 += x1; x1 = _rotl(x1, _R16) ^ x0  # noqa: E702
    x0 += x1; x1 = _rotl(x1, _R42) ^ x0  # noqa: E702
    x0 += x1; x1 = _rotl(x1, _R12) ^ x0  # noqa: E702
    x0 += x1; x1 = _rotl(x1, _R31) ^ x0  # noqa: E702
    x0 += k0; x1 += k1 + np.uint64(3)  # noqa: E702
    x0 += x1; x1 = _rotl(x1, _R16) ^ x0  # noqa: E702
    x0 += x1; x1 = _rotl(x1, _R32) ^ x0  # noqa: E702
    x0 += x1; x1 = _rotl(x1, _R24) ^ x0  # noqa: E702
    x0 += x1; x1 = _rotl(x1, _R21) ^ x0  # noqa: E702
    x0 += k1; x1 += k2 + np.uint64(4)  # noqa: E702
    x0 += x1; x1 = _rotl(x1, _R16) ^ x0  # noqa: E702
    x0 += x1; x1 = _rotl(x1, _R42) ^ x0  # noqa: E702
    x0 += x1; x1 = _rotl(x1, _R12) ^ x0  # noqa: E702
    x0 += x1; x1 = _rotl(x1, _R31) ^ x0  # noqa: E702
    x0 += k2; x1 += k0 + np.uint64(5)  # noqa: E702
    return x0, x1


@njit(forceinline=True)
def to_unit_open(word):
    """Map a uint64 to a double in the open interval (0, 1) (52 random bits).

    ``(m + 0.5) / 2^52`` with ``m < 2^52`` is exact in a double, so neither 0 nor 1
    can occur (with 53 bits the largest word would round to exactly 1.0).
    """
    # through int64: a uint64-to-double conversion is a branchy sequence on x86-64
    return (np.float64(np.int64(word >> np.uint64(12))) + 0.5) * _TWO_M52


@njit(forceinline=True)
def uniform_pair(seed, stream, c0, c1):
    """Two independent uniforms in (0, 1) for counter ``(c0, c1)``."""
    w0, w1 = threefry2x64(np.uint64(c0), np.uint64(c1), np.uint64(seed), np.uint64(stream))
    return to_unit_open(w0), to_unit_open(w1)


# Ziggurat tables for the standard normal (Marsaglia & Tsang 2000, with Doornik's 2005
# fix: the layer index and the uniform come from disjoint bits of the word). 128 layers
# of area _ZIG_V each; _ZIG_X[i] is the right edge of layer i (_ZIG_X[0] the width of
# the base layer's equal-area rectangle, _ZIG_X[128] = 0), _ZIG_RATIO[i] the part of
# layer i inside the density everywhere.
_ZIG_LAYERS = 128
_ZIG_R = 3.442619855899
_ZIG_V = 9.91256303526217e-3


def _ziggurat_tables():
    x = np.zeros(_ZIG_LAYERS + 1)
    f = np.exp(-0.5 * _ZIG_R * _ZIG_R)
    x[0] = _ZIG_V / f
    x[1] = _ZIG_R
    for i in range(2, _ZIG_LAYERS):
        x[i] = np.sqrt(-2.0 * np.log(_ZIG_V / x[i - 1] + f))
        f = np.exp(-0.5 * x[i] * x[i])
    return x, x[1:] / x[:-1]


_ZIG_X, _ZIG_RATIO = _ziggurat_tables()


@inlined
def _signed_unit(word):
    """The top 52 bits of ``word`` as a double in the open interval (-1, 1)."""
    return 2.0 * to_unit_open(word) - 1.0


@njit(no_cpython_wrapper=True)
def _ziggurat_rare(word, seed, stream, c0, c1, component):
    """The ziggurat's rejection steps (about 1 % of draws). Their extra random words come
    from the same counter under keys that no first draw uses (bits above 32 set), so a
    number stays a pure function of ``(seed, stream, counter, component)``."""
    attempt = np.uint64(0)
    while True:
        layer = word & np.uint64(_ZIG_LAYERS - 1)
        u = _signed_unit(word)
        if abs(u) < _ZIG_RATIO[layer]:
            return u * _ZIG_X[layer]
        attempt += np.uint64(1)
        key = stream | ((component + np.uint64(1)) << np.uint64(32)) | (attempt << np.uint64(40))
        e0, e1 = threefry2x64(c0, c1, seed, key)
        if layer == 0:
            # the tail beyond R (Marsaglia 1964), a rejection sampler of its own: retried
            # until accepted (restarting the ziggurat instead would thin the tail)
            while True:
                a = -np.log(to_unit_open(e0)) / _ZIG_R
                b = -np.log(to_unit_open(e1))
                if 2.0 * b > a * a:
                    return _ZIG_R + a if u > 0.0 else -(_ZIG_R + a)
                attempt += np.uint64(1)
                key = stream | ((component + np.uint64(1)) << np.uint64(32)) | (attempt << np.uint64(40))
                e0, e1 = threefry2x64(c0, c1, seed, key)
        x = u * _ZIG_X[layer]
        f_outer = np.exp(-0.5 * (_ZIG_X[layer] * _ZIG_X[layer] - x * x))
        f_inner = np.exp(-0.5 * (_ZIG_X[layer + 1] * _ZIG_X[layer + 1] - x * x))
        if f_inner + to_unit_open(e0) * (f_outer - f_inner) < 1.0:
            return x
        word = e1


@njit(inline="always")
def ziggurat_normal(word, seed, stream, c0, c1, component):
    """The standard normal that ``word``, the Threefry word ``component`` (0 or 1) of
    counter ``(c0, c1)``, gives: :func:`normal_pair` split, for callers that draw the
    words themselves (in a vectorised loop)."""
    layer = word & np.uint64(_ZIG_LAYERS - 1)
    u = _signed_unit(word)
    if abs(u) < _ZIG_RATIO[layer]:
        return u * _ZIG_X[layer]
    # all uint64, so one compiled rejection step serves every stream and component
    return _ziggurat_rare(word, np.uint64(seed), np.uint64(stream), np.uint64(c0), np.uint64(c1), np.uint64(component))


@njit(forceinline=True)
def normal_pair(seed, stream, c0, c1):
    """Two independent standard normal numbers for counter ``(c0, c1)`` (ziggurat).

    One Threefry block gives both in about 99 % of calls; the rest draw more blocks
    (:func:`_ziggurat_rare`). A ziggurat costs a table look-up and a multiplication
    where Box-Muller costs a logarithm, a square root, a sine and a cosine.
    """
    w0, w1 = threefry2x64(np.uint64(c0), np.uint64(c1), np.uint64(seed), np.uint64(stream))
    return ziggurat_normal(w0, seed, stream, c0, c1, 0), ziggurat_normal(w1, seed, stream, c0, c1, 1)


@njit
def _fill_normal(out, seed, stream, c0):
    flat = out.ravel()
    n = flat.size
    for k in range((n + 1) // 2):
        g0, g1 = normal_pair(seed, stream, c0, k)
        flat[2 * k] = g0
        if 2 * k + 1 < n:
            flat[2 * k + 1] = g1


@njit
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
