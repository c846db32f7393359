"""The alloy metrics against Dismai-Bench's published scripts, restated in ``published.py``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pymatgen.core import Lattice, Structure

from cryin_flows.alloys.expansion import SPECIES, column_names
from cryin_flows.alloys.lattice import FCCLattice
from cryin_flows.analysis.alloy import alloy_metrics, snap_to_lattice, structure_metrics
from cryin_flows.errors import ConfigurationError
from tests.alloys import published

LATTICE = FCCLattice()


def _random_occupation(rng) -> np.ndarray:
    return rng.permutation(np.repeat(np.arange(3, dtype=np.int8), [51, 154, 51]))


def _generated(rng, shift=(0.0, 0.0, 0.0), noise=0.25, missing=6, extra=5) -> Structure:
    """A GAN-like structure: a random alloy displaced by ``noise`` Å (per component, so a few
    atoms leave their sites), ``missing`` atoms gone, ``extra`` atoms anywhere, all shifted."""
    occ = _random_occupation(rng)
    keep = np.sort(rng.choice(len(occ), len(occ) - missing, replace=False))
    pos = LATTICE.positions[keep] + rng.normal(0, noise, (len(keep), 3)) + np.asarray(shift)
    species = [SPECIES[k] for k in occ[keep]]
    pos = np.vstack([pos, rng.uniform(0, LATTICE.length, (extra, 3))])
    species += list(rng.choice(SPECIES, extra))
    return Structure(Lattice.cubic(LATTICE.length), species, pos, coords_are_cartesian=True)


def _published_frames(structures) -> tuple[pd.DataFrame, ...]:
    return published.analyze([published.cluster_count(s) for s in structures])


@pytest.mark.parametrize("translate", [False, True])
def test_cleaning_counts_energies_and_sro_are_the_published_ones(translate):
    rng = np.random.default_rng(3)
    shift = (0.9, -0.6, 1.3) if translate else (0.0, 0.0, 0.0)
    generated = [_generated(rng, shift) for _ in range(2)]
    ours, theirs, vacancies = [], [], []
    for s in generated:
        occupation, n_vacant = snap_to_lattice(s, LATTICE, translate=translate)
        clean, n_published = published.remove_atoms_not_on_lattice(s, translate)
        assert n_vacant == n_published > 0
        ours.append(occupation)
        theirs.append(clean)
        vacancies.append(n_vacant)
    mine = structure_metrics(np.stack(ours), np.array(vacancies), LATTICE)
    df, df_prob, energy, sro = _published_frames(theirs)
    assert list(df.columns) == column_names()
    np.testing.assert_allclose(mine.counts, df.to_numpy(), rtol=0, atol=1e-9)
    np.testing.assert_allclose(mine.probabilities, df_prob.to_numpy(), rtol=0, atol=1e-9)
    np.testing.assert_allclose(mine.energy, energy.to_numpy(), rtol=0, atol=1e-9)
    for name in sro.columns:
        np.testing.assert_allclose(mine.sro[name], sro[name].to_numpy(), rtol=0, atol=1e-9)


def test_counts_of_a_full_lattice_match_the_published_counting():
    """No cleaning: a random order on the ideal lattice, counted both ways."""
    occupation = _random_occupation(np.random.default_rng(0))
    structure = Structure(
        Lattice.cubic(LATTICE.length),
        [SPECIES[k] for k in occupation],
        LATTICE.positions,
        coords_are_cartesian=True,
    )
    df, *_ = _published_frames([structure])
    mine = structure_metrics(occupation[None], lattice=LATTICE)
    np.testing.assert_allclose(mine.counts, df.to_numpy(), rtol=0, atol=1e-9)
    # every atom has 6 first-shell dimers: the shell's six pair counts add up to 6
    assert mine.counts[0, 3:9].sum() == pytest.approx(6.0, abs=1e-4)


def test_d_cluster_vacancies_and_rejected_share_are_the_published_ones():
    rng = np.random.default_rng(5)
    training = structure_metrics(np.stack([_random_occupation(rng) for _ in range(12)]))
    occ = np.stack([_random_occupation(rng) for _ in range(9)])
    occ[[1, 4, 5], [3, 7, 100]] = -1  # three structures with a vacancy
    generated = structure_metrics(occ)
    ours = alloy_metrics(training, generated, n_generated=10, n_resamples=300)
    columns = column_names()
    rejected, d, v = published.get_alloy_metrics(
        pd.DataFrame(training.probabilities, columns=columns),
        pd.DataFrame(generated.probabilities, columns=columns),
        generated.vacancies,
        n_strucs_ori=10,
        n_reps=300,
    )
    assert ours.rejected_percent == pytest.approx(rejected, abs=1e-12)
    for interval, expected in ((ours.d_cluster, d), (ours.vacancy_percent, v)):
        assert (interval.value, interval.low, interval.high) == pytest.approx(expected, abs=1e-12)
    assert ours.vacancy_percent.value == pytest.approx(100 * 3 / 9)


def test_an_atom_off_every_site_is_a_vacancy_and_bad_input_is_named():
    occupation = _random_occupation(np.random.default_rng(1))
    positions = LATTICE.positions.copy()
    positions[10] += [0.9, 0.0, 0.0]  # 0.9 Å from its site and 1.6+ Å from any other
    structure = Structure(
        Lattice.cubic(LATTICE.length),
        [SPECIES[k] for k in occupation],
        positions,
        coords_are_cartesian=True,
    )
    snapped, vacancies = snap_to_lattice(structure, LATTICE)
    assert vacancies == 1 and snapped[10] == -1
    assert (np.delete(snapped, 10) == np.delete(occupation, 10)).all()
    with pytest.raises(ConfigurationError, match="not on a site"):
        LATTICE.site_index(positions)
