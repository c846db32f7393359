"""a-Si site metrics: the package against the published scripts' approach (issue 24, item 6).

For the same a-Si blocks, in the same run:

* published: matminer's ``CrystalNNFingerprint.featurize`` site by site (the 61 "ops"
  values, ``cation_anion=False``), the bond-angle script's own CrystalNN site by site, and
  vasppy's RDF of the 2x2x2 supercell, one structure after another in one process;
* package: ``silicon_features`` — one Voronoi tessellation per structure shared by the motif
  and angle CrystalNNs, the RDF from a neighbour list — in 1 process and in ``--workers``.

Prints seconds per structure of each, the ratios, and the largest difference of any value
(the speed-up must not change one). ``--json FILE`` writes the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np


def published(atoms_list) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from matminer.featurizers.site.fingerprint import CrystalNNFingerprint
    from pymatgen.io.ase import AseAtomsAdaptor
    from vasppy.rdf import RadialDistributionFunction

    from tests.amorphous.test_metrics import OP_TYPES, _published_angles

    cnn = CrystalNNFingerprint(op_types=OP_TYPES, cation_anion=False)
    motifs, rdfs, angles = [], [], []
    for atoms in atoms_list:
        structure = AseAtomsAdaptor.get_structure(atoms)
        motifs.append(np.mean([cnn.featurize(structure, j) for j in range(len(structure))], axis=0))
        angles.append(_published_angles(structure))
        supercell = structure.copy()
        supercell.make_supercell(2)
        every = list(range(len(supercell)))
        rdfs.append(RadialDistributionFunction(structures=[supercell], indices_i=every).rdf)
    return np.array(motifs), np.array(rdfs), np.array(angles)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("blocks", type=Path, help="extxyz of a-Si blocks")
    parser.add_argument("--n", type=int, default=8, help="blocks measured")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from ase.io import read

    from cryin_flows.analysis.amorphous import silicon_features

    warnings.simplefilter("ignore")
    blocks = read(args.blocks, index=f":{args.n}")
    silicon_features(blocks[:1], workers=1)  # imports and first-call costs
    start = time.perf_counter()
    theirs = published(blocks)
    t_published = (time.perf_counter() - start) / len(blocks)
    timings = {}
    for workers in sorted({1, args.workers}):
        start = time.perf_counter()
        ours = silicon_features(blocks, workers=workers)
        timings[workers] = (time.perf_counter() - start) / len(blocks)
    differences = {
        "motif": float(np.abs(ours.motif_means - theirs[0]).max()),
        "rdf": float(np.abs(ours.rdf - theirs[1]).max()),
        "angles": float(np.abs(ours.angles - theirs[2]).max()),
    }
    figures = {
        "blocks": len(blocks),
        "atoms": len(blocks[0]),
        "seconds_per_structure": {
            "published": t_published,
            **{f"package_{w}": t for w, t in timings.items()},
        },
        "ratio": {f"package_{w}": t_published / t for w, t in timings.items()},
        "max_difference": differences,
    }
    print(
        f"{len(blocks)} blocks of {len(blocks[0])} atoms: published {t_published:.2f} s per "
        + ", ".join(f"package x{w} {t:.2f} s ({t_published / t:.1f}x)" for w, t in timings.items())
        + f"; largest difference {max(differences.values()):.1e}"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
