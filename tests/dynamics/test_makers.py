"""The transport makers run as jobs on the embedded store: MD (trajectories in the data
store, read back), its analysis with figures, and the percolation barrier."""

import numpy as np
import pytest
from jobflow import Flow, run_locally
from pymatgen.core import Lattice, Structure

from cryin_flows.analysis.report import transport_section
from cryin_flows.dynamics.diffusion import TransportFit
from cryin_flows.dynamics.md import MDSettings
from cryin_flows.dynamics.percolation import PESSettings
from cryin_flows.launchpad.queries import query_outputs
from cryin_flows.launchpad.stores import embedded_job_store, load_output
from cryin_flows.makers.dynamics import MDMaker, PercolationMaker, TransportMaker

LJ = "ase.calculators.lj:LennardJones"
LJ_KW = {"sigma": 2.4, "epsilon": 0.02, "rc": 6.0}


def _fluid(seed=0, n=24, box=9.5):
    """A Lennard-Jones 'LiCl' fluid on a jittered grid (no overlaps)."""
    rng = np.random.default_rng(seed)
    grid = np.stack(np.meshgrid(*[np.arange(3)] * 3, indexing="ij"), -1).reshape(-1, 3)[:n]
    frac = (grid + 0.5 + rng.uniform(-0.1, 0.1, grid.shape)) / 3
    return Structure(Lattice.cubic(box), ["Li", "Cl"] * (n // 2), frac)


def test_md_then_transport_through_the_store(tmp_path):
    settings = MDSettings(
        temperatures=[600.0, 1200.0], thermalise_ps=0.1, berendsen_tau_fs=50.0, production_ps=2.4,
        frame_fs=20.0, min_atoms=1, sphere_diameter=0.0, relax_max_steps=10, device="cpu",
    )  # fmt: skip
    md = MDMaker(calculator=LJ, calculator_kwargs=LJ_KW, settings=settings, label="fluid").make(
        _fluid()
    )
    fit = TransportFit(window_ps=1.2, fit_start_ps=1.0, fit_end_ps=1.2)
    transport = TransportMaker(fit=fit, figures_dir=str(tmp_path / "fig")).make(md.output)
    store = embedded_job_store(tmp_path / "store")
    run_locally(Flow([md, transport]), store=store, create_folders=True, ensure_success=True)
    md_doc, doc = load_output(md.uuid, store), load_output(transport.uuid, store)
    (row,) = query_outputs(store, "md")  # `cryin query md`
    assert row["temperatures"] == [600.0, 1200.0] and row["label"] == "fluid"
    assert "fluid" in query_outputs(store, "transport")[0]["summary"]
    trajectories = md_doc.trajectories
    assert len(trajectories) == 2 and trajectories[0].positions.shape == (121, 24, 3)
    assert md_doc.device == "cpu" and md_doc.production_ps == pytest.approx(2.4)
    (fluid,) = doc.structures
    cold, hot = fluid.runs
    # a hotter LJ fluid diffuses faster; each run has two windows
    assert hot.diffusivity.D > cold.diffusivity.D > 0
    assert len(hot.diffusivity.windows) == 2
    assert fluid.arrhenius.activation_energy > 0
    assert {"msd", "arrhenius"} <= set(doc.figures)
    assert doc.sets[0].label == "fluid" and doc.sets[0].n_structures == 1
    # the study report's section: the set's row and the figures, embedded
    html = transport_section(doc)
    assert "<td>fluid</td><td>600</td><td>1</td>" in html
    assert html.count("data:image/png;base64") == len(doc.figures)


def test_percolation_job_on_a_channel(tmp_path):
    # Cl atoms on a simple cubic lattice: Li between them percolates along every axis alike
    structure = Structure(Lattice.cubic(3.6), ["Cl", "Li"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    maker = PercolationMaker(
        calculator=LJ, calculator_kwargs={"sigma": 2.0, "epsilon": 0.01, "rc": 5.0},
        settings=PESSettings(spacing=0.45, min_distance=1.2), figures_dir=str(tmp_path),
    )  # fmt: skip
    responses = run_locally(maker.make(structure), create_folders=True, ensure_success=True)
    doc = next(iter(responses.values()))[1].output
    assert doc.grid == [8, 8, 8] and doc.n_evaluated < 512
    assert doc.barriers[0] == pytest.approx(doc.barriers[1]) == pytest.approx(doc.barriers[2])
    assert doc.passes == (doc.barrier < 0.5) and doc.figure.size_bytes > 0
