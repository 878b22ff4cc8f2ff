"""Convert a FLAME model file (generic_model.pkl, flame2023.pkl) into a pickle-free .npz with the same keys.

Only numpy, scipy.sparse and chumpy data are accepted from the pickle; anything else is refused.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", help="FLAME model: a .pkl from flame.is.tue.mpg.de or an already converted .npz")
    parser.add_argument("output", help="the .npz to write (keys v_template f shapedirs posedirs J_regressor "
                                       "weights kintree_table)")


def run(args: argparse.Namespace) -> int:
    from ..avatar.flame import convert_flame, flame_head, read_flame_file

    shapes = convert_flame(args.input, args.output)
    head = flame_head(read_flame_file(args.output), what=args.output)  # prove the result loads as a head
    listing = ", ".join(f"{k} {tuple(v)}" for k, v in shapes.items())
    print(f"wrote {args.output}: {listing}; {head.vertex_count} vertices, {head.expression_count} expressions")
    return 0
