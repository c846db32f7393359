"""Random-interface generation speed: vectorised fill vs a plain per-atom Python loop.

Prints structures per second for generating 1,000 LSC|LCO interfaces on one core, the same
for a baseline that checks every candidate against every atom in pure Python, and the ratio.
Target (issue 2): >= 50 structures/s.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from cryin_flows.interfaces.random_fill import RandomInterfaceGenerator  # noqa: E402
from cryin_flows.interfaces.template import build_interface_template  # noqa: E402


def baseline_structure(gen: RandomInterfaceGenerator, seed: int, index: int) -> list:
    """The same random sequential addition, one candidate and one atom pair at a time."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))
    lat = gen.lattice.tolist()
    c = lat[2][2]
    thickness = float(rng.uniform(*gen.thickness_range))
    shift = rng.random(2)
    film = gen.near_film_frac + np.array([shift[0], shift[1], (gen.z_low + thickness) / c])
    atoms = [
        (tuple(p), int(k))
        for p, k in zip(gen.near_sub_frac, gen.kind[gen.near_sub_atoms], strict=True)
    ]
    atoms += [(tuple(p), int(k)) for p, k in zip(film, gen.near_film_kind, strict=True)]
    dmin = gen.dmin.tolist()
    for atom in gen.region_idx:
        kind = int(gen.kind[atom])
        while True:
            x, y, z = rng.random(3)
            z = gen.z_low / c + thickness / c * z
            ok = True
            for (px, py, pz), other in atoms:
                dx = x - px
                dy = y - py
                dx -= round(dx)
                dy -= round(dy)
                cx = dx * lat[0][0] + dy * lat[1][0]
                cy = dy * lat[1][1]
                cz = (z - pz) * c
                if math.sqrt(cx * cx + cy * cy + cz * cz) < dmin[kind][other]:
                    ok = False
                    break
            if ok:
                atoms.append(((x, y, z), kind))
                break
    return atoms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000, help="structures for the vectorised fill")
    parser.add_argument("--n-baseline", type=int, default=50, help="structures for the baseline")
    args = parser.parse_args()

    template = build_interface_template("lsc-lco")
    gen = RandomInterfaceGenerator(template)
    gen.generate(5, seed=99)  # warm-up

    start = time.perf_counter()
    gen.generate(args.n, seed=0)
    fast = args.n / (time.perf_counter() - start)

    start = time.perf_counter()
    for i in range(args.n_baseline):
        baseline_structure(gen, 0, i)
    slow = args.n_baseline / (time.perf_counter() - start)

    print(f"vectorised fill : {fast:8.1f} structures/s ({args.n} structures, 1 thread)")
    print(f"per-atom loop   : {slow:8.1f} structures/s ({args.n_baseline} structures)")
    print(f"speed-up        : {fast / slow:8.1f}x")
    print(f"target >= 50/s  : {'met' if fast >= 50 else 'NOT met'}")


if __name__ == "__main__":
    main()
