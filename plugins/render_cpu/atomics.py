"""An atomic counter for numba kernels: workers of one parallel loop take the next item from it."""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def fetch_add(typingctx, arr, i, value):
    """Atomically add ``value`` to ``arr[i]`` (a 1-D int64 array) and return the value it had before.

    Monotonic ordering: enough for handing out indices, since nothing else is published through it.
    """
    if not (isinstance(arr, types.Array) and arr.dtype == types.int64 and arr.ndim == 1):
        return None
    sig = types.int64(arr, types.intp, types.int64)

    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        ptr = cgutils.get_item_pointer2(context, builder, data=ary.data, shape=cgutils.unpack_tuple(builder, ary.shape),
                                        strides=cgutils.unpack_tuple(builder, ary.strides),
                                        layout=signature.args[0].layout, inds=[args[1]], wraparound=False)
        return builder.atomic_rmw("add", ptr, args[2], "monotonic")

    return sig, codegen
