"""Import a trained GaussianAvatars head (`point_cloud.ply` + `flame_param.npz`) as a Facecast avatar package.

Needs the FLAME model the run was trained with (flame2023.pkl from flame.is.tue.mpg.de, or a .npz made by
`facecast convert-flame`); the head is rebuilt with GaussianAvatars' teeth, shape and static offset.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", help="the training output directory (holding point_cloud.ply and flame_param.npz, "
                                        "or point_cloud/iteration_<n>/ with both)")
    parser.add_argument("--flame", required=True, help="FLAME model: flame2023.pkl or a converted .npz")
    parser.add_argument("-o", "--output", required=True, help="package to write: AVATAR.zip or a directory")
    parser.add_argument("--id", default=None, help="avatar id (default: the run directory's name)")
    parser.add_argument("--name", default=None, help="display name")


def run(args: argparse.Namespace) -> int:
    from ..avatar.gaussian_avatars import import_gaussian_avatars

    avatar = import_gaussian_avatars(args.run_dir, args.flame, args.output, avatar_id=args.id, name=args.name)
    g = avatar.gaussians
    print(f"wrote {args.output}: avatar {avatar.id!r}, {g.count} Gaussians (SH degree {g.sh_degree}), "
          f"{avatar.head.vertex_count} vertices, {len(avatar.head.faces)} triangles, "
          f"{avatar.expression_count} expressions, idle loop of {avatar.idle.shape[0]} frames")
    return 0
