"""Scalar helpers that LLVM vectorises: fused multiply-add, 2^(−n) by exponent bits, e^(−s), a cache hint.

numba has no vector types; a fixed 8-iteration loop of branch-free float32 code becomes AVX2 code once
every call in it is one LLVM instruction (numba's own ``min``/``max`` and ``math.exp`` are calls).
These are inlined into the kernels of :mod:`.raster` (numba's cache does not see edits here: delete
``plugins/render_cpu/__pycache__/raster*.nbi`` and ``*.nbc`` after changing this file).
"""

from __future__ import annotations

import numba as nb
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

HALF = np.float32(0.5)
ONE = np.float32(1.0)
LOG2E = np.float32(1.4426950408889634)
LN2_HI = np.float32(0.693359375)  # ln 2 = LN2_HI + LN2_LO; n·LN2_HI is exact for the small n used here
LN2_LO = np.float32(-2.12194440e-4)
# e^x ≈ 1 + x + x²·(P5 + P4·x + P3·x² + P2·x³ + P1·x⁴) on |x| ≤ ln2/2 (Cephes expf's coefficients; its
# x⁵ term dropped, which costs < 0.1 ulp more): e^(−s) within 4 ulp (2.4e-7 relative) on [0, 6]
P1 = np.float32(1.3981999507e-3)
P2 = np.float32(8.3334519073e-3)
P3 = np.float32(4.1665795894e-2)
P4 = np.float32(1.6666665459e-1)
P5 = np.float32(5.0000001201e-1)


@intrinsic
def fma(typingctx, a, b, c):
    """a·b + c rounded once (llvm.fma.f32 → vfmadd)."""
    sig = types.float32(types.float32, types.float32, types.float32)

    def codegen(context, builder, signature, args):
        f32 = ir.FloatType()
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(f32, [f32, f32, f32]), "llvm.fma.f32")
        return builder.call(fn, args)

    return sig, codegen


@intrinsic
def exp2_neg_int(typingctx, n):
    """2^(−n) for an int32 0 ≤ n ≤ 126: the float's exponent field, built directly."""
    sig = types.float32(types.int32)

    def codegen(context, builder, signature, args):
        i32 = ir.IntType(32)
        bits = builder.shl(builder.sub(ir.Constant(i32, 127), args[0]), ir.Constant(i32, 23))
        return builder.bitcast(bits, ir.FloatType())

    return sig, codegen


@intrinsic
def lowest_bit(typingctx, x):
    """The index of the lowest set bit of an int64 that is not 0 (llvm.cttz → tzcnt)."""
    sig = types.int64(types.int64)

    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(i64, [i64, ir.IntType(1)]), "llvm.cttz.i64")
        return builder.call(fn, [args[0], ir.Constant(ir.IntType(1), 1)])

    return sig, codegen


@intrinsic
def prefetch_row(typingctx, arr, i):
    """Ask the cache for row ``i`` of a 2-D C array (llvm.prefetch; changes no result)."""
    sig = types.void(arr, i)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        index = context.cast(builder, args[1], signature.args[1], types.intp)
        ptr = cgutils.get_item_pointer2(context, builder, data=ary.data, shape=cgutils.unpack_tuple(builder, ary.shape),
                                        strides=cgutils.unpack_tuple(builder, ary.strides), layout=aryty.layout,
                                        inds=[index, ir.Constant(ir.IntType(64), 0)], wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
                                            "llvm.prefetch.p0")
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen


# The kernels take exp's constants (and their own) as one tuple of runtime values that starts with
# EXP_CONSTANTS: LLVM then keeps them in registers or on the stack, where as literals it re-materialises
# each one from the constant pool at every use (a 64-bit address load and a broadcast): ~6% of a frame.
K_LOG2E, K_HALF, K_LN2_HI, K_LN2_LO, K_P1, K_P2, K_P3, K_P4, K_P5, K_ONE = range(10)
EXP_CONSTANTS = (LOG2E, HALF, LN2_HI, LN2_LO, P1, P2, P3, P4, P5, ONE)


@nb.njit(cache=True, nogil=True, inline="always")
def exp_neg(s, k):
    """e^(−s) in float32 for 0 ≤ s ≤ 6 (see P1..P5), branch-free: s = n·ln2 − x, e^(−s) = 2^(−n)·e^x.

    ``k`` is a tuple that starts with :data:`EXP_CONSTANTS`.
    """
    ni = np.int32(fma(s, k[K_LOG2E], k[K_HALF]))
    n = np.float32(ni)
    x = fma(n, k[K_LN2_LO], fma(n, k[K_LN2_HI], -s))
    z = x * x
    p = fma(fma(z, fma(k[K_P1], x, k[K_P2]), fma(k[K_P3], x, k[K_P4])), x, k[K_P5])  # Estrin: a shorter chain
    return (fma(p, z, x) + k[K_ONE]) * exp2_neg_int(ni)
