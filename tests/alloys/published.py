"""Dismai-Bench's published alloy scripts, restated loop for loop with pymatgen, pandas and
scipy, as the independent side of the parity tests (ertekin-research-group/Dismai-Bench,
benchmark/alloy; MIT licence). Slow on purpose: nothing here is vectorised or shared with the
package."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pymatgen.core import Lattice, PeriodicSite, Structure
from scipy.spatial.distance import euclidean

# utils/main.py: the dimers' lengths (Å) as the script writes them
DIMER_LENGTHS = [2.545584, 3.6, 4.409082, 5.091169, 5.6921, 6.235383, 6.734983]
MULTIPLICITY = [1, 6, 3, 12, 6, 12, 4, 24]
PAIR_KEYS = ["Cr, Cr", "Cr, Fe", "Cr, Ni", "Fe, Fe", "Fe, Ni", "Ni, Ni"]


def reference_lattice() -> Structure:
    """alloy_ref_struc.extxyz: 4x4x4 conventional FCC cells, a = 3.6 Å."""
    unit = Structure(
        Lattice.cubic(3.6), ["Fe"] * 4, [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]]
    )
    return unit * (4, 4, 4)


def equivalent_dimers() -> list[np.ndarray]:
    """Per shell 1..7, the vectors from an atom to its partners (symop.find_eq_clust),
    found here from an ideal lattice's neighbours and scaled to the script's lengths."""
    ideal = reference_lattice()
    shells = []
    for length in DIMER_LENGTHS:
        vectors = [
            nb.coords - ideal[0].coords
            for nb in ideal.get_neighbors(ideal[0], 7.0)
            if abs(nb.nn_distance - length) < 0.01
        ]
        vectors = np.array([v / np.linalg.norm(v) * length for v in vectors])
        shells.append(vectors[np.lexsort(vectors.T[::-1])])
    return shells


def rotated_basis(struc: Structure, margin: float = 0.4) -> np.ndarray:
    """main.py's get_rotated_basis_vectors."""
    for atom_idx in range(len(struc)):
        nb_all = struc.get_neighbors(struc[atom_idx], 3.6 + margin)
        dist_all = np.array([struc[atom_idx].distance_from_point(nb.coords) for nb in nb_all])
        idx_filter = np.where(dist_all >= 3.6 - margin)[0]
        if len(idx_filter) != 6:
            continue
        nb_2nn = [nb_all[i] for i in idx_filter[np.abs(dist_all[idx_filter] - 3.6).argsort()]]
        a_new = nb_2nn[0].coords - struc[atom_idx].coords
        a_new /= np.linalg.norm(a_new)
        for idx_nb in range(1, 6):
            b_new = nb_2nn[idx_nb].coords - struc[atom_idx].coords
            b_new /= np.linalg.norm(b_new)
            if np.abs(np.arccos(np.dot(a_new, b_new)) - np.pi / 2) <= 0.0175:
                return np.array([a_new, b_new, np.cross(a_new, b_new)])
    raise ValueError("no basis")


def cluster_count(struc: Structure, margin: float = 0.8) -> list[dict[str, float]]:
    """main.py + count.py: per cluster (0NN..7NN) the dict of rounded counts."""
    basis = rotated_basis(struc)
    lat = struc.lattice.matrix
    trans = np.vstack(lat).T
    inv = np.linalg.inv(trans)
    out = [{}]
    for k in range(len(struc)):
        key = struc[k].specie.symbol
        out[0][key] = out[0].get(key, 0) + 1
    out[0] = {k: np.around(v / (len(struc) * 1), decimals=5) for k, v in out[0].items()}
    for vectors in equivalent_dimers():
        rotated = vectors @ basis
        rotated = (
            rotated
            / np.linalg.norm(rotated, axis=1)[:, None]
            * np.linalg.norm(vectors, axis=1)[:, None]
        )
        targets, owners = [], []
        for j in range(len(struc)):
            for v in rotated:
                frac = np.around(inv @ (struc[j].coords + v), decimals=3) % 1
                targets.append(
                    PeriodicSite(
                        "H", trans @ frac + 1e-06, struc.lattice, coords_are_cartesian=True
                    )
                )
                owners.append(j)
        centre, found, _, dist = struc.get_neighbor_list(margin, targets)
        nearest: dict[int, tuple[float, int]] = {}
        for c, f, d in zip(centre, found, dist, strict=True):
            if c not in nearest or d < nearest[c][0]:
                nearest[c] = (d, f)
        counts: dict[str, int] = {}
        for t, j in enumerate(owners):
            if t in nearest:
                spec = sorted([struc[j].specie.symbol, struc[nearest[t][1]].specie.symbol])
                key = ", ".join(spec)
                counts[key] = counts.get(key, 0) + 1
        out.append({k: np.around(v / (len(struc) * 2), decimals=5) for k, v in counts.items()})
    return out


def remove_atoms_not_on_lattice(struc: Structure, translate: bool, margin: float = 0.8):
    """remove_atoms_not_on_lattice_cryingan.py (translate=False) / _diffcsp.py (True):
    the cleaned structure and its vacancy count."""
    ref = reference_lattice()
    if translate:
        origin = PeriodicSite("H", [1e-06, 1e-06, 1e-06], ref.lattice)
        _, idx, _, dist = struc.get_neighbor_list(5, [origin])
        frac = ref.frac_coords + struc[idx[dist.argmin()]].frac_coords - origin.frac_coords
        ref = Structure(ref.lattice, ref.species, frac % 1.0)
    clean = Structure(ref.lattice, [], [])
    for site in ref:
        _, idx, _, dist = struc.get_neighbor_list(margin, [site])
        if len(idx) > 0:
            clean.append(struc[idx[dist.argmin()]].specie, site.frac_coords)
    return clean.get_sorted_structure(), len(ref) - len(clean)


def analyze(cluster_count_all: list[list[dict]]) -> tuple[pd.DataFrame, ...]:
    """analyze_cluster_count.py: counts, probabilities, energies and SRO as DataFrames."""
    from cryin_flows.alloys.expansion import ClusterExpansion

    df = pd.DataFrame()
    keys = [["Cr", "Fe", "Ni"]] + [PAIR_KEYS] * 7
    for j in range(8):
        for key in keys[j]:
            df[(str(j) + "NN_" + key).replace(", ", "-")] = [
                c[j].get(key, 0.0) for c in cluster_count_all
            ]
    df_prob = df.copy()
    col = 3
    for j in range(1, 8):
        for _ in range(6):
            df_prob.iloc[:, col] /= MULTIPLICITY[j]
            col += 1
    ce = ClusterExpansion.bundled()
    energy = (df * np.array(ce.eci)).sum(axis=1) + ce.constant
    sro = pd.DataFrame()
    for j in (1, 2):
        pf = f"{j}NN_"
        sro[pf + "Fe-Ni"] = 1 - 0.5 * (
            df[pf + "Fe-Ni"]
            / (2 * df[pf + "Fe-Fe"] + df[pf + "Cr-Fe"] + df[pf + "Fe-Ni"])
            / df["0NN_Ni"]
            + df[pf + "Fe-Ni"]
            / (2 * df[pf + "Ni-Ni"] + df[pf + "Cr-Ni"] + df[pf + "Fe-Ni"])
            / df["0NN_Fe"]
        )
        sro[pf + "Cr-Fe"] = 1 - 0.5 * (
            df[pf + "Cr-Fe"]
            / (2 * df[pf + "Cr-Cr"] + df[pf + "Cr-Ni"] + df[pf + "Cr-Fe"])
            / df["0NN_Fe"]
            + df[pf + "Cr-Fe"]
            / (2 * df[pf + "Fe-Fe"] + df[pf + "Fe-Ni"] + df[pf + "Cr-Fe"])
            / df["0NN_Cr"]
        )
        sro[pf + "Cr-Ni"] = 1 - 0.5 * (
            df[pf + "Cr-Ni"]
            / (2 * df[pf + "Cr-Cr"] + df[pf + "Cr-Fe"] + df[pf + "Cr-Ni"])
            / df["0NN_Ni"]
            + df[pf + "Cr-Ni"]
            / (2 * df[pf + "Ni-Ni"] + df[pf + "Fe-Ni"] + df[pf + "Cr-Ni"])
            / df["0NN_Cr"]
        )
        sro[pf + "Fe-Fe"] = (
            1
            - 2
            * df[pf + "Fe-Fe"]
            / (2 * df[pf + "Fe-Fe"] + df[pf + "Fe-Ni"] + df[pf + "Cr-Fe"])
            / df["0NN_Fe"]
        )
        sro[pf + "Cr-Cr"] = (
            1
            - 2
            * df[pf + "Cr-Cr"]
            / (2 * df[pf + "Cr-Cr"] + df[pf + "Cr-Ni"] + df[pf + "Cr-Fe"])
            / df["0NN_Cr"]
        )
        sro[pf + "Ni-Ni"] = (
            1
            - 2
            * df[pf + "Ni-Ni"]
            / (2 * df[pf + "Ni-Ni"] + df[pf + "Fe-Ni"] + df[pf + "Cr-Ni"])
            / df["0NN_Ni"]
        )
    return df, df_prob, energy, sro


def get_alloy_metrics(df_prob_train, df_prob_gen, vac_count, n_strucs_ori, n_reps=1000, seed=7):
    """get_alloy_metrics.py: (rejected %, (d, low, high), (vacancy %, low, high))."""

    def interval(stat, boot):
        low_p, high_p = np.percentile(boot, 2.5), np.percentile(boot, 97.5)
        return stat, stat - (high_p - stat), stat + (stat - low_p)

    rejected = 100.0 - (len(df_prob_gen) / n_strucs_ori * 100)
    rng = np.random.default_rng(seed)
    idx = np.arange(len(df_prob_gen))
    avg_train = df_prob_train.mean()
    boot = [
        euclidean(avg_train, df_prob_gen.iloc[rng.choice(idx, size=len(idx), replace=True)].mean())
        for _ in range(n_reps)
    ]
    d = interval(euclidean(avg_train, df_prob_gen.mean()), boot)
    rng = np.random.default_rng(seed)
    df_vac = pd.DataFrame({"vac_count": vac_count})
    boot = [
        (df_vac.iloc[rng.choice(idx, size=len(idx), replace=True)].vac_count > 0).mean() * 100
        for _ in range(n_reps)
    ]
    v = interval((df_vac.vac_count > 0).mean() * 100, boot)
    return rejected, d, v
