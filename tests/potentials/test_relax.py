import json

import numpy as np
import pytest
import torch
from ase.build import bulk
from ase.optimize import FIRE
from jobflow import run_locally

from cryin_flows.errors import ConfigurationError
from cryin_flows.interfaces.interface_set import InterfaceSet
from cryin_flows.launchpad.stores import get_job_store, load_output
from cryin_flows.makers.potentials import RelaxMaker
from cryin_flows.potentials.m3gnet import ase_calculator, load_potential
from cryin_flows.potentials.relax import BatchedPotential, RelaxSettings, relax_batch
from cryin_flows.settings import get_settings


def rattled_set(n=5, rattle=0.12):
    """LiCl cells rattled by ``rattle`` Å (one value, or one per cell)."""
    amplitudes = np.broadcast_to(np.asarray(rattle, dtype=float), (n,))
    frames = []
    for i in range(n):
        atoms = bulk("LiCl", "rocksalt", a=5.2, cubic=True)
        atoms.rattle(amplitudes[i], seed=100 + i)
        frames.append(atoms.get_scaled_positions())
    return InterfaceSet(np.array(atoms.cell), atoms.get_chemical_symbols(), np.array(frames))


def test_in_flight_batching_matches_one_by_one_ase(tiny_potential):
    """Six structures through two slots: each converges at its own step and a waiting one
    takes its slot; every record must match ase.optimize.FIRE run on that structure alone."""
    structures = rattled_set(6, rattle=[0.02, 0.15, 0.05, 0.2, 0.1, 0.0])
    # the tiny potential is almost flat (~1 meV/Å on these cells): a threshold well below
    settings = RelaxSettings(fmax=1e-4, max_steps=300, max_atoms=2 * 8 + 7)
    assert settings.slots(8, torch.device("cpu")) == 2
    relaxed, records = relax_batch(structures, load_potential(tiny_potential), settings)
    calculator = ase_calculator(tiny_potential)
    for i, record in enumerate(records):
        atoms = structures.atoms(i)
        atoms.calc = calculator
        optimizer = FIRE(atoms, logfile=None, maxstep=0.2)
        converged = optimizer.run(fmax=1e-4, steps=300)
        assert record["converged"] == converged
        # float32 forces summed in another order may cross the threshold one step apart
        assert abs(record["steps"] - optimizer.nsteps) <= 1
        assert record["final_energy"] == pytest.approx(atoms.get_potential_energy(), abs=1e-4)
        start = structures.atoms(i)
        start.calc = calculator
        assert record["initial_energy"] == pytest.approx(start.get_potential_energy(), abs=1e-4)
        if record["converged"]:
            assert record["max_force"] <= 1e-4
    assert len({r["steps"] for r in records}) >= 4  # slots were refilled at different steps
    assert relaxed.infos[0]["energy"] == records[0]["final_energy"]


def test_unconverged_structures_are_kept_and_marked(tiny_potential):
    relaxed, records = relax_batch(
        rattled_set(3), load_potential(tiny_potential), RelaxSettings(fmax=1e-6, max_steps=2)
    )
    assert len(relaxed) == 3 and all(r["steps"] == 2 and not r["converged"] for r in records)
    assert all(info["converged"] is False for info in relaxed.infos)


def test_kill_and_resume(tiny_potential, tmp_path):
    structures = rattled_set(4)
    pot = load_potential(tiny_potential)
    settings = RelaxSettings(max_steps=300)
    full, full_records = relax_batch(structures, pot, settings)
    path = tmp_path / "relax.jsonl"
    # a run that was killed after two structures, mid-way through writing a third line
    lines = [
        json.dumps({**r, "frac_coords": full.frac_coords[r["index"]].tolist()})
        for r in full_records[:2]
    ]
    path.write_text("\n".join(lines) + "\n" + lines[1][:40])
    seen = []
    _resumed, records = relax_batch(
        structures, pot, settings, results_path=path, progress=seen.append
    )
    assert seen[0] == 2  # the two finished ones were taken from the file
    assert [r["index"] for r in records] == [0, 1, 2, 3]
    for a, b in zip(records, full_records, strict=True):
        assert a["final_energy"] == pytest.approx(b["final_energy"], abs=1e-8)
    indices = [
        json.loads(line)["index"]
        for line in path.read_text().splitlines()
        if line.strip().endswith("}")
    ]
    assert sorted(set(indices)) == [0, 1, 2, 3]
    assert len(indices) == len(set(indices))  # no structure written twice


def test_relax_maker_and_bad_inputs(tiny_potential, tmp_path):
    store = get_job_store(get_settings(project_dir=tmp_path / "proj"))
    job = RelaxMaker(
        settings=RelaxSettings(max_steps=50), results_path=str(tmp_path / "r.jsonl")
    ).make(rattled_set(2), tiny_potential)
    run_locally(job, store=store, log=False, ensure_success=True)
    doc = load_output(job.uuid, store)
    assert doc.n_structures == 2 and len(doc.records) == 2
    assert len((tmp_path / "r.jsonl").read_text().splitlines()) == 2
    with pytest.raises(ConfigurationError, match="not a saved potential directory"):
        load_potential(tmp_path / "nothing")
    li2o = InterfaceSet(np.eye(3) * 4.6, ["Li", "O"], np.array([[[0, 0, 0], [0.5, 0.5, 0.5]]]))
    with pytest.raises(ConfigurationError, match=r"no parameters for \['O'\]"):
        relax_batch(li2o, load_potential(tiny_potential))


def test_one_batched_potential_relaxes_sets_of_other_cells(tiny_potential):
    """Verlet lists belong to one cell: reusing the potential on a set with another lattice
    (and another atom count) must give what a fresh one gives."""
    first = rattled_set(2)
    other = rattled_set(2)
    other = InterfaceSet(other.lattice * 1.03, other.species, other.frac_coords)
    bigger = InterfaceSet(
        np.diag([5.2, 5.2, 10.4]),
        other.species * 2,
        np.concatenate(
            [other.frac_coords * [1, 1, 0.5], other.frac_coords * [1, 1, 0.5] + [0, 0, 0.5]], axis=1
        ),
    )
    settings = RelaxSettings(fmax=1e-4, max_steps=20, max_atoms=64)
    shared = BatchedPotential(load_potential(tiny_potential))
    relax_batch(first, shared, settings)
    for structures in (other, bigger):
        _, reused = relax_batch(structures, shared, settings)
        _, fresh = relax_batch(structures, load_potential(tiny_potential), settings)
        for a, b in zip(reused, fresh, strict=True):
            assert a["steps"] == b["steps"]
            assert a["final_energy"] == pytest.approx(b["final_energy"], abs=1e-5)


def test_batched_potential_gives_matgls_own_numbers(tiny_potential):
    """On 64-atom cells rattled so that atoms have different numbers of neighbours, whose
    neighbour lists vesin hands back out of source order (M3GNet's three-body indexer needs
    them in it), with an M3GNet whose three-body terms count, in training mode as a new (or
    matgl-loaded) potential is: ``BatchedPotential`` infers in inference mode (1.6x faster
    steps, benchmarks/bench_inference.py) and gives what matgl's own ASE calculator gives."""
    from matgl.apps.pes import Potential
    from matgl.ext.ase import PESCalculator
    from matgl.models import M3GNet

    assert not load_potential(tiny_potential).training
    torch.manual_seed(0)
    model = M3GNet(element_types=("Cl", "Li"), units=16, nblocks=1, is_intensive=False)
    potential = Potential(model=model, calc_stresses=True)
    with torch.no_grad():  # weights that make the three-body terms count (a fresh model's
        for weight in potential.parameters():  # barely move the forces)
            weight.normal_(0.0, 0.3)
    assert potential.training
    atoms = []
    for seed in (1, 2):
        cell = bulk("LiCl", "rocksalt", a=5.2, cubic=True).repeat((2, 2, 2))
        cell.rattle(0.3, seed=seed)
        atoms.append(cell)
    reference = PESCalculator(potential)
    expected = []
    for a in atoms:
        a.calc = reference
        expected.append((a.get_potential_energy() / len(a), a.get_forces()))
    positions = torch.as_tensor(np.array([a.positions for a in atoms]), dtype=torch.float64)
    lattice = torch.as_tensor(np.asarray(atoms[0].cell), dtype=torch.float64)
    batched = BatchedPotential(potential, "cpu")
    assert not batched.potential.training
    energies, forces = batched(positions, lattice, atoms[0].get_chemical_symbols())
    for (energy, force), k in zip(expected, range(2), strict=True):
        assert float(energies[k]) / len(atoms[k]) == pytest.approx(energy, abs=1e-6)
        np.testing.assert_allclose(forces[k].numpy(), force, atol=1e-5)


def test_tensor_three_body_indices_are_matgls_loop_ones():
    """The tensor port put in place of matgl's per-atom loop gives its indices, bond pair for
    bond pair, on source-ordered edges with atoms of 0 to 11 bonds."""
    from matgl.graph import _compute

    from cryin_flows.potentials.m3gnet import tensor_threebody_indices

    tensor_threebody_indices()
    tensor_threebody_indices()  # idempotent: still one port over the loop
    patched = _compute._compute_3body_indices
    assert patched.tensor_port and not getattr(patched.loop, "tensor_port", False)
    generator = torch.Generator().manual_seed(0)
    n_atoms = 40
    counts = torch.randint(0, 12, (n_atoms,), generator=generator)
    src = torch.repeat_interleave(torch.arange(n_atoms), counts)
    dst = torch.randint(0, n_atoms, (len(src),), generator=generator)
    edges = torch.stack([src, dst])
    for found, expected in zip(patched(edges, n_atoms), patched.loop(edges, n_atoms), strict=True):
        if isinstance(expected, torch.Tensor):
            assert torch.equal(found.long(), expected.long())
        else:
            assert found == expected
