"""One loop body, several cached numba kernels: serial and parallel (``prange``), and
specialised to compile-time constants.

With one thread, handing a loop to numba's thread pool costs a thread wake-up per
call (slow on a loaded machine); a serial kernel avoids it. Both kernels are compiled
from the same Python code, so they cannot drift apart. The parallel twin gets its own
name because numba's cache index is keyed by the function's qualified name and
signature, not by its compile flags.
"""

import types as _types

import numba
import numpy as np
from numba import types
from numba.core import cgutils
from numba.core.imputils import impl_ret_new_ref
from numba.core.registry import CPUDispatcher
from numba.extending import intrinsic, lower_builtin, overload, type_callable

ir = cgutils.ir  # llvmlite's IR builder, as numba itself uses it


def njit(*args, **options):
    """``numba.njit`` with simlib's defaults: cached on disk, and without the C-callable
    wrapper numba adds for first-class function use, which simlib never makes (it is
    compile time spent on every kernel for nothing)."""
    options.setdefault("cache", True)
    options.setdefault("no_cfunc_wrapper", True)
    return numba.njit(*args, **options)


class _KernelOnly(CPUDispatcher):
    """A kernel helper compiled without a Python entry: a call from Python would jump to
    an entry that does not exist, so it raises instead."""

    def __call__(self, *args, **kwargs):
        raise TypeError(f"{self.py_func.__module__}.{self.py_func.__name__} is inlined into simlib's kernels "
                        "and has no Python entry; call its .py_func (the same arithmetic in Python)")


def inlined(func):
    """A small helper that kernels call, inlined by LLVM; not callable from Python (no
    Python wrapper is compiled for it, which would cost more than the helper)."""
    helper = njit(forceinline=True, no_cpython_wrapper=True)(func)
    helper.__class__ = _KernelOnly
    return helper


def variant(three_d, parallel, kind=""):
    """The name suffix of a kernel's specialisation, e.g. ``_2d_half_parallel``: one
    naming for every kernel, as numba's cache keys kernels by name."""
    return f"_{3 if three_d else 2}d{kind}{'_parallel' if parallel else ''}"


def specialised(func, suffix, parallel=False, inline="never", **constants):
    """A cached kernel of ``func`` in which the module globals named in ``constants`` take
    the given values. numba freezes globals at compile time, so a branch on such a
    constant (e.g. ``THREE_D``) disappears from the loop instead of being taken on every
    pair. ``suffix`` names the specialisation (numba's cache is keyed by the name)."""
    namespace = dict(func.__globals__)
    namespace.update(constants)
    twin = _types.FunctionType(func.__code__, namespace, func.__name__ + suffix, func.__defaults__,
                              func.__closure__)
    twin.__qualname__ = func.__qualname__ + suffix
    twin.__module__ = func.__module__
    twin.__doc__ = func.__doc__
    return njit(parallel=parallel, inline=inline, cache=True)(twin)


def _prefetch_codegen(context, builder, array_type, array, indices):
    ary = context.make_array(array_type)(context, builder, array)
    pointer = cgutils.get_item_pointer2(context, builder, ary.data, cgutils.unpack_tuple(builder, ary.shape),
                                        cgutils.unpack_tuple(builder, ary.strides), array_type.layout, indices,
                                        wraparound=False)
    byte_pointer = builder.bitcast(pointer, ir.IntType(8).as_pointer())
    i32 = ir.IntType(32)
    function = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(ir.VoidType(), [byte_pointer.type, i32, i32, i32]), "llvm.prefetch.p0i8")
    # read access, keep in all cache levels, data cache
    builder.call(function, [byte_pointer, i32(0), i32(3), i32(1)])
    return context.get_dummy_value()


@intrinsic
def prefetch(typingctx, array, row):
    """Ask the CPU to start loading the cache line of ``array[row, 0]`` (or ``array[row]``)
    now, ahead of its use: ``llvm.prefetch``, which changes timing only, never a value.
    Monte Carlo knows its next particles in advance (counter-based random numbers) and
    would otherwise wait on memory for each one at large N."""
    sig = types.void(array, row)

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        index = context.cast(builder, args[1], signature.args[1], types.intp)
        indices = [index] + [context.get_constant(types.intp, 0)] * (array_type.ndim - 1)
        return _prefetch_codegen(context, builder, array_type, args[0], indices)

    return sig, codegen


@intrinsic
def prefetch_at(typingctx, array, row, column):
    """:func:`prefetch` of ``array[row, column]`` (a 2D array): a later line of a long row."""
    sig = types.void(array, row, column)

    def codegen(context, builder, signature, args):
        indices = [context.cast(builder, args[k], signature.args[k], types.intp) for k in (1, 2)]
        return _prefetch_codegen(context, builder, signature.args[0], args[0], indices)

    return sig, codegen


def empty(shape, dtype):
    """``np.empty(shape, dtype)``, for kernels: numba compiles its own ``np.empty`` once
    for each shape and dtype signature (about 0.1 s each on a cold cache); this one is
    lowered in place. ``shape`` an integer or a tuple of integers, ``dtype`` a numpy
    scalar type such as ``np.int64``."""
    return np.empty(shape, dtype)


def zeros(shape, dtype):
    """``np.zeros(shape, dtype)``, lowered in place as :func:`empty` is."""
    return np.zeros(shape, dtype)


def _array_type(shape, dtype):
    if isinstance(shape, types.Integer):
        ndim = 1
    elif isinstance(shape, types.BaseTuple) and all(isinstance(t, types.Integer) for t in shape):
        ndim = len(shape)
    else:
        return None
    if isinstance(dtype, types.NumberClass):
        return types.Array(dtype.instance_type, ndim, "C")
    if isinstance(dtype, types.DType):
        return types.Array(dtype.dtype, ndim, "C")
    return None


def _register_allocators():
    """Type and lower :func:`empty` and :func:`zeros` in place, from numba's own array
    allocation (internal names, stable for years); with a numba that lacks them, fall
    back to numba's ``np.empty`` and ``np.zeros`` (the same arrays, compiled per
    signature)."""
    try:
        from numba.np.arrayobj import _empty_nd_impl, _parse_empty_args
    except ImportError:
        overload(empty)(lambda shape, dtype: lambda shape, dtype: np.empty(shape, dtype))
        overload(zeros)(lambda shape, dtype: lambda shape, dtype: np.zeros(shape, dtype))
        return

    type_callable(empty)(lambda context: _array_type)
    type_callable(zeros)(lambda context: _array_type)

    def allocate(context, builder, sig, args):
        array_type, shapes = _parse_empty_args(context, builder, sig, args)
        return array_type, _empty_nd_impl(context, builder, array_type, shapes)

    def lower_empty(context, builder, sig, args):
        array_type, array = allocate(context, builder, sig, args)
        return impl_ret_new_ref(context, builder, array_type, array._getvalue())

    def lower_zeros(context, builder, sig, args):
        array_type, array = allocate(context, builder, sig, args)
        cgutils.memset(builder, array.data, builder.mul(array.itemsize, array.nitems), 0)
        return impl_ret_new_ref(context, builder, array_type, array._getvalue())

    for shape_type in (types.Integer, types.BaseTuple):
        lower_builtin(empty, shape_type, types.Any)(lower_empty)
        lower_builtin(zeros, shape_type, types.Any)(lower_zeros)


_register_allocators()
