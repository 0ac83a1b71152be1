"""Periodic box: wrapping with image counters and the minimum-image convention."""

import numpy as np
import pytest
from numba import njit

from simlib import Box
from simlib.geometry import min_image, wrap_coordinate


def _wrap(box, x):
    pos = np.array(x, dtype=np.float64).reshape(-1, box.dim).copy()
    img = np.zeros(pos.shape, dtype=np.int64)
    before = pos.copy()
    box.wrap(pos, img)
    return before, pos, img


def _check_wrapped(box, before, pos, img):
    L = box.lengths
    assert np.all(pos >= 0.0), pos[pos < 0.0]
    assert np.all(pos < L), pos[pos >= L]
    # x + n L reproduces the input up to the rounding of one subtraction: a couple of
    # ulps of max(|x|, L). (A coordinate like -1e-17 cannot be represented in [0, L)
    # except as 0 or L - ulp, so exact equality is impossible there.)
    scale = np.maximum(np.abs(before), L)
    assert np.all(np.abs(box.unwrap(pos, img) - before) <= 4.0 * np.spacing(scale))


@pytest.mark.parametrize("lengths", [(10.0, 10.0), (7.3, 12.9, 5.1)])
def test_wrap_special_values_stay_in_box_and_keep_unwrapped_position(lengths):
    box = Box(lengths)
    L = box.lengths[0]
    specials = [0.0, -0.0, -1e-17, -1e-300, 1e-17, L, -L, 2 * L, -3 * L, np.nextafter(L, 0.0),
                np.nextafter(L, 2 * L), -1e-320, 1e6 + 0.3, -1e6 - 0.3, 0.5 * L]
    for value in specials:
        before, pos, img = _wrap(box, np.full(box.dim, value))
        _check_wrapped(box, before, pos, img)


def test_wrap_smallest_negative_subnormal_stays_in_box():
    box = Box.cube(10.0, 2)
    before, pos, img = _wrap(box, [[-np.nextafter(0.0, 1.0), -2e-323]])
    _check_wrapped(box, before, pos, img)


def test_wrap_exact_multiples_give_zero_and_count_images():
    box = Box.cube(10.0, 2)
    before, pos, img = _wrap(box, [[10.0, -10.0], [20.0, -30.0], [0.0, 9.0]])
    assert np.array_equal(pos, [[0.0, 0.0], [0.0, 0.0], [0.0, 9.0]])
    assert np.array_equal(img, [[1, -1], [2, -3], [0, 0]])


def test_wrap_tiny_negative_goes_to_zero_not_to_L():
    # floor(-1e-17 / L) = -1 and -1e-17 + L rounds to L, which is outside [0, L)
    box = Box.cube(10.0, 2)
    before, pos, img = _wrap(box, [[-1e-17, -1e-300]])
    assert np.array_equal(pos, [[0.0, 0.0]]) and np.array_equal(img, [[0, 0]])


def test_wrap_random_values_and_accumulates_images():
    box = Box((4.0, 6.5, 9.25))
    gen = np.random.default_rng(0)
    x = gen.uniform(-100.0, 100.0, size=(2000, 3))
    before, pos, img = _wrap(box, x)
    _check_wrapped(box, before, pos, img)
    assert np.array_equal(img, np.floor(before / box.lengths).astype(np.int64))
    # wrapping again after a displacement keeps accumulating images
    shift = gen.uniform(-30.0, 30.0, size=x.shape)
    moved = pos + shift
    target = box.unwrap(pos, img) + shift
    box.wrap(moved, img)
    assert np.all((moved >= 0) & (moved < box.lengths))
    assert np.allclose(box.unwrap(moved, img), target, rtol=0, atol=1e-12)


@njit
def kernel_wrap(x, img, box):
    """:func:`wrap_coordinate` on every coordinate, as the kernels wrap a moved particle."""
    n, d = x.shape
    for i in range(n):
        for k in range(d):
            x[i, k], shift = wrap_coordinate(x[i, k], box[k])
            img[i, k] += shift


def test_box_wrap_gives_the_kernels_bits():
    """``Box.wrap`` (numpy, for positions given from Python) and the kernels' wrap agree
    bit for bit, at the round-off cases too."""
    box = Box((4.0, 6.5, 9.25))
    L = box.lengths
    gen = np.random.default_rng(3)
    x = gen.uniform(-100.0, 100.0, size=(3000, 3))
    x[:1000] = gen.uniform(0.0, 1.0, size=(1000, 3)) * L  # already inside
    specials = [0.0, -0.0, -1e-17, -1e-300, -1e-320, 1e-17, np.nextafter(L[0], 0.0), L[0], -L[0], 3 * L[0],
                np.nextafter(L[0], 2 * L[0]), 1e6 + 0.3, -1e6 - 0.3, -np.nextafter(0.0, 1.0)]
    x[1000:1000 + len(specials), 0] = specials
    images = gen.integers(-5, 5, size=x.shape)
    pos, img = x.copy(), images.copy()
    box.wrap(pos, img)
    kernel_pos, kernel_img = x.copy(), images.copy()
    kernel_wrap(kernel_pos, kernel_img, L)
    assert np.array_equal(pos.view(np.int64), kernel_pos.view(np.int64))
    assert np.array_equal(img, kernel_img)


def _brute_minimum_image(dr, L):
    # the shortest of the 7^d nearby images, found by enumeration
    best = None
    shifts = np.arange(-3, 4)
    grids = np.meshgrid(*[shifts] * len(L), indexing="ij")
    offsets = np.stack([g.ravel() for g in grids], axis=1) * L
    cand = dr[:, None, :] + offsets[None, :, :]
    best = np.argmin(np.sum(cand**2, axis=2), axis=1)
    return cand[np.arange(len(dr)), best]


@pytest.mark.parametrize("lengths", [(10.0, 7.0), (5.0, 8.0, 11.0)])
def test_minimum_image_is_the_shortest_image(lengths):
    box = Box(lengths)
    L = box.lengths
    gen = np.random.default_rng(1)
    dr = gen.uniform(-2.5, 2.5, size=(5000, box.dim)) * L
    mi = box.minimum_image(dr)
    assert np.all(np.abs(mi) <= 0.5 * L + 1e-12)
    assert np.allclose(mi, _brute_minimum_image(dr, L), rtol=0, atol=1e-12)
    # differs from dr by whole box lengths
    n = (dr - mi) / L
    assert np.allclose(n, np.rint(n), rtol=0, atol=1e-9)


@njit
def kernel_min_image(dx, length, half_length):
    """:func:`min_image` compiled as the kernels inline it (it has no Python entry)."""
    return min_image(dx, length, half_length)


def test_a_helper_without_python_entry_raises_when_called_from_python():
    """Helpers inlined into the kernels compile no Python entry; a call from Python
    raises, naming the helper, instead of jumping to an entry that does not exist."""
    with pytest.raises(TypeError, match="simlib.geometry.min_image .*py_func"):
        min_image(1.0, 10.0, 5.0)
    assert min_image.py_func(6.0, 10.0, 5.0) == -4.0


@pytest.mark.parametrize("lengths", [(10.0, 7.0), (5.0, 8.0, 11.0)])
def test_kernel_min_image_on_wrapped_coordinates(lengths):
    """The numba helper used by every pair loop: one conditional shift for wrapped x."""
    box = Box(lengths)
    L = box.lengths
    gen = np.random.default_rng(2)
    xi = gen.uniform(0.0, 1.0, size=(4000, box.dim)) * L
    xj = gen.uniform(0.0, 1.0, size=(4000, box.dim)) * L
    # include the box edges exactly: 0 and the largest double below L
    xi[:4] = 0.0
    xj[:4] = np.nextafter(L, 0.0)
    xj[4:8] = 0.0
    xi[4:8] = np.nextafter(L, 0.0)
    got = np.empty_like(xi)
    for k in range(box.dim):
        for m in range(len(xi)):
            got[m, k] = kernel_min_image(xi[m, k] - xj[m, k], L[k], 0.5 * L[k])
    expected = _brute_minimum_image(xi - xj, L)
    assert np.allclose(got, expected, rtol=0, atol=1e-12)
    # edge particles are a hair apart, not a box length apart
    assert np.all(np.abs(got[:8]) < 1e-12)
    # antisymmetric, so pair forces cancel exactly
    back = np.array([[kernel_min_image(xj[m, k] - xi[m, k], L[k], 0.5 * L[k]) for k in range(box.dim)]
                     for m in range(len(xi))])
    assert np.array_equal(back, -got)


def test_box_properties():
    box = Box((2.0, 3.0, 4.0))
    assert box.dim == 3 and box.volume == 24.0
    assert Box.cube(5.0, 2).volume == 25.0
    with pytest.raises((ValueError, TypeError)):
        box.lengths[0] = 1.0  # read-only: a Box is immutable


@pytest.mark.parametrize("lengths", [(-1.0, 5.0), (0.0, 5.0), (np.inf, 5.0), (np.nan, 5.0), (5.0,),
                                     (1.0, 2.0, 3.0, 4.0)])
def test_bad_box_raises_value_error_naming_box(lengths):
    with pytest.raises(ValueError, match="box"):
        Box(lengths)
