"""Every output class at paper scale, stored on the MongoDB server the way jobflow stores a
job's output (the maker's ``data`` fields to GridFS), stays under MongoDB's 16 MB document limit.

Paper scale (SPEC §7): labels of 950 relaxations, 15,484 training frames, relaxation chunks of
500 structures, 3,200 relaxed structures per energy document, GAN runs of 100,000 epochs, 1,000
generated structures, evaluations of 1,000 structures per set. What sits in the document is
built at that scale; data-store parts are built at that scale where a test can afford it
(structures, losses) and smaller where it cannot (trajectory steps, extxyz text), since they
leave the document whole. The 420-step VASP TaskDoc is tests/vasp/test_large_tasks.py.
"""

from __future__ import annotations

import bson
import numpy as np
import pymongo
import pytest
from jobflow.core.schemas import JobStoreDocument
from monty.json import jsanitize

from cryin_flows.analysis.results import (
    BondCounts,
    DatasetSummary,
    EnergySummary,
    EvaluationSettings,
    FingerprintDistance,
    MotifRow,
    RdfCurve,
)
from cryin_flows.analysis.statistics import Interval, Stats
from cryin_flows.interfaces.interface_set import InterfaceSet
from cryin_flows.launchpad.stores import get_job_store
from cryin_flows.makers.evaluation import EvaluateMaker
from cryin_flows.makers.gan import GanGenerateMaker, GanTrainMaker
from cryin_flows.makers.potentials import FramesMaker, InterfaceEnergyMaker, LabelMaker, RelaxMaker
from cryin_flows.potentials.labelling import LabelSettings, RelaxationTrajectory
from cryin_flows.potentials.relax import RelaxSettings
from cryin_flows.schemas.common import FileRef
from cryin_flows.schemas.evaluation import EvaluationDoc
from cryin_flows.schemas.gan import GanGenerateDoc, GanTrainDoc
from cryin_flows.schemas.potentials import EnergyDoc, FrameSetDoc, LabelDoc, RelaxDoc
from cryin_flows.settings import get_settings

pytestmark = pytest.mark.mongodb
LIMIT = 16 * 1024 * 1024
SIZES: dict[str, tuple[float, float]] = {}  # class -> (document MB, data-store MB), printed


def structures(template, n: int, seed: int = 0) -> InterfaceSet:
    rng = np.random.default_rng(seed)
    frac = rng.random((n, template.n_atoms, 3))
    infos = [
        {
            "energy": -1262.0 + rng.normal(),
            "interface_energy": rng.normal(0, 0.2),
            "converged": True,
        }
        for _ in range(n)
    ]
    return InterfaceSet(template.lattice_matrix, template.species, frac, infos, "h" * 64)


def file_ref(name: str) -> FileRef:
    return FileRef(path=f"/scratch/study/{name}", sha256="0" * 64, size_bytes=1000)


def store_as_jobflow_does(job, output, store, db) -> tuple[int, int]:
    """What ``Job.run`` does with an output; returns (document bytes, data-store bytes)."""
    save = {k: "output" if v is True else v for k, v in job._kwargs.items()}
    document = JobStoreDocument(
        uuid=job.uuid,
        index=1,
        output=jsanitize(output, strict=True, enum_values=True, allow_bson=True),
        completed_at="2026-11-22T00:00:00",
        metadata={},
        hosts=[],
        name=job.name,
    )
    store.update(document, key=["uuid", "index"], save=save)  # refused by the server if > 16 MB
    raw = db["outputs"].find_one({"uuid": job.uuid})
    blobs = db["outputs_data.files"].find({"metadata.job_uuid": job.uuid})
    return len(bson.encode(raw)), sum(b["length"] for b in blobs)


@pytest.fixture
def server_store(mongodb_database):
    uri, database = mongodb_database
    store = get_job_store(get_settings(mongodb_uri=uri, mongodb_database=database))
    store.connect()
    return store, pymongo.MongoClient(uri)[database]


def check(name: str, job, output, server_store, data_fields: set[str]) -> None:
    store, db = server_store
    size, data = store_as_jobflow_does(job, output, store, db)
    SIZES[name] = (size / 1e6, data / 1e6)
    print(f"{name}: document {size / 1e6:.3f} MB, data store {data / 1e6:.1f} MB")
    assert size < LIMIT / 4, f"{name}: {size / 1e6:.1f} MB"
    raw = db["outputs"].find_one({"uuid": job.uuid})["output"]
    for field in data_fields:  # the large parts are references into GridFS
        assert raw[field]["store"] == "data" and raw[field]["blob_uuid"], field


def test_label_doc_of_950_relaxations(template, server_store):
    n_atoms = template.n_atoms
    trajectories = [
        RelaxationTrajectory(
            species=template.species,
            lattice=template.lattice_matrix,
            positions=np.zeros((1, n_atoms, 3)),
            energies=[-1262.0],
            forces=np.zeros((1, n_atoms, 3)),
            stresses=np.zeros((1, 6)),
            stage=[2],
            converged=True,
            label=f"{k // 100}-{k}",
        )
        for k in range(950)
    ]
    doc = LabelDoc(
        calculator="vasp",
        settings=LabelSettings(),
        n_relaxations=950,
        n_converged=900,
        n_steps=150_000,
        trajectories=trajectories,
    )
    job = LabelMaker().make(None, template)
    check("LabelDoc (950 relaxations)", job, doc, server_store, {"trajectories"})


def test_frame_set_of_15484_frames(server_store):
    labels = [f"{k // 100}-{k}" for k in range(950)]
    doc = FrameSetDoc(
        counts={"train": 12_400, "val": 1_550, "test": 1_534},
        relaxations={"train": labels[:760], "val": labels[760:855], "test": labels[855:]},
        n_bulk_frames=8,
        files={s: file_ref(f"{s}.extxyz") for s in ("train", "val", "test")},
        first_step=5,
        every=10,
        seed=0,
        frames_extxyz={s: "264\nLattice=...\n" * 2000 for s in ("train", "val", "test")},
    )
    job = FramesMaker().make(None)
    check("FrameSetDoc (15,484 frames)", job, doc, server_store, {"frames_extxyz"})


def test_relaxation_chunk_of_500(template, server_store):
    records = [
        {
            "index": i,
            "steps": 412,
            "initial_energy": -1250.123456,
            "final_energy": -1262.654321,
            "max_force": 0.0499,
            "converged": True,
        }
        for i in range(500)
    ]
    doc = RelaxDoc(
        potential_dir="/scratch/study/potential",
        settings=RelaxSettings(),
        n_structures=500,
        n_converged=480,
        steps=Stats(min=30, mean=400, max=1000),
        records=records,
        results_file="/scratch/study/relaxations/x.jsonl",
        structures=structures(template, 500),
    )
    job = RelaxMaker().make(None, "/scratch/study/potential")
    check("RelaxDoc (500 structures)", job, doc, server_store, {"structures"})


def test_energy_doc_of_3200(template, server_store):
    all_structures = structures(template, 3200, seed=1)
    doc = EnergyDoc(
        e_ref=-4.78,
        area=template.area,
        interface_energy=Stats(min=-0.4, mean=0.0, max=0.6),
        fraction_below_0=0.48,
        fraction_below_minus_0_2=0.1,
        max_gamma=0.0,
        n_training_set=1500,
        template_hash="h" * 64,
        structures=all_structures,
        training_set=structures(template, 1500, seed=2),
    )
    job = InterfaceEnergyMaker().make(None, template)
    check("EnergyDoc (3,200 + 1,500)", job, doc, server_store, {"structures", "training_set"})


def test_gan_run_of_100000_epochs(server_store):
    from cryin_flows.gan.config import GanConfig
    from cryin_flows.gan.training import LOG_FIELDS

    epochs = 100_000
    rng = np.random.default_rng(0)
    losses = {name: rng.normal(size=epochs).tolist() for name in LOG_FIELDS}  # every column
    losses["epoch"] = [float(e) for e in range(1, epochs + 1)]
    doc = GanTrainDoc(
        run_dir="/scratch/study/gan",
        generator=file_ref("generator.pt"),
        checkpoint=file_ref("checkpoint.pt"),
        config=GanConfig(epochs=epochs),
        epochs=epochs,
        n_train=1500,
        n_atoms=264,
        dataset_hash="d" * 64,
        final_losses={k: v[-1] for k, v in losses.items()},
        losses=losses,
    )
    job = GanTrainMaker().make(None)
    check("GanTrainDoc (100,000 epochs)", job, doc, server_store, {"losses"})


def test_1000_generated_structures(template, server_store):
    doc = GanGenerateDoc(
        model_hash="m" * 64,
        variant="cryingan",
        bond_weight=0.05,
        training_seed=0,
        seed=0,
        n_requested=1000,
        n_generated=1000,
        n_rejected=0,
        rejected_fraction=0.0,
        cleaned=True,
        threshold=1.5,
        close_pairs_before=Stats(min=0, mean=2, max=9),
        fraction_with_close_pairs=0.6,
        structures=structures(template, 1000, seed=3),
    )
    job = GanGenerateMaker().make(None)
    check("GanGenerateDoc (1,000 structures)", job, doc, server_store, {"structures"})


def test_evaluation_of_1000_structures_per_set(template, server_store):
    """Its size does not grow with the structures: summaries, motif rows, curves."""
    names = ["training", "generated", "random", "high energy"]
    iv = Interval(value=0.5, low=0.4, high=0.6)
    edges = np.arange(-0.6, 1.0, 0.05).tolist()
    doc = EvaluationDoc(
        reference="training",
        datasets={
            n: DatasetSummary(
                n_structures=1000,
                n_requested=1000,
                failed_percent=9.0,
                sites_per_element={"Li": 9000, "Sc": 3000, "Co": 100},
                close_pairs_mean=0.0,
                fraction_with_close_pairs=0.0,
                energy=EnergySummary(
                    mean=0.0,
                    fraction_below_0=iv,
                    fraction_below_minus_0_2=iv,
                    histogram_edges=edges,
                    histogram_counts=[30] * (len(edges) - 1),
                ),
                region_gap=Stats(min=4.0, mean=5.0, max=6.0),
                content_hash="c" * 64,
            )
            for n in names
        },
        fingerprint_distances={
            n: {
                el: FingerprintDistance(
                    euclidean=iv, cosine_similarity=iv, cosine_distance=iv, n_sites=9000
                )
                for el in ("Li", "Sc", "Co", "all")
            }
            for n in names[1:]
        },
        motifs={
            el: [
                MotifRow(
                    label=f"motif {k} ({k % 4} O)", element=el, fractions=dict.fromkeys(names, iv)
                )
                for k in range(60)
            ]
            for el in ("Li", "Sc", "Co")
        },
        bond_counts={el: {n: BondCounts(Cl=iv, O=iv) for n in names} for el in ("Li", "Sc")},
        rdfs=[
            RdfCurve(
                pair=p,
                r=np.arange(0.025, 8.0, 0.05).tolist(),
                curves={n: {k: [1.0] * 160 for k in ("g", "low", "high")} for n in names},
            )
            for p in ("Sc-O", "Sc-Sc", "Li-Li")
        ],
        settings=EvaluationSettings(),
        area=template.area,
        e_ref=-4.78,
    )
    job = EvaluateMaker().make(template, None, {})
    check("EvaluationDoc (4 sets of 1,000)", job, doc, server_store, set())


def test_md_doc_of_a_paper_run(template, server_store):
    """One 100 ps production of a 264-atom interface, a frame every 20 fs (5,001 frames):
    positions as compressed float32 in GridFS, read back unchanged."""
    from monty.json import MontyDecoder
    from pymatgen.core import Lattice, Structure

    from cryin_flows.dynamics.md import MDSettings
    from cryin_flows.dynamics.trajectory import Trajectory
    from cryin_flows.makers.dynamics import MDMaker
    from cryin_flows.schemas.dynamics import MDDoc

    rng = np.random.default_rng(0)
    start = Structure(Lattice(template.lattice_matrix), template.species, rng.random((264, 3)))
    positions = (start.cart_coords + rng.normal(0, 0.3, (5001, 264, 3))).astype(np.float32)
    trajectory = Trajectory(
        "#0", 800.0, start.as_dict(), 20.0, positions, np.full(5001, 800.0), np.zeros(5001)
    )
    doc = MDDoc(
        calculator="study potential", settings=MDSettings(), names=["#0"], temperatures=[800.0],
        n_atoms=264, supercell=[1, 1, 1], production_ps=100.0, mean_temperatures=[800.0],
        seconds=1.0, folder="/scratch/md", trajectories=[trajectory],
    )  # fmt: skip
    job = MDMaker().make(start)
    check("MDDoc (one 100 ps run)", job, doc, server_store, {"trajectories"})
    store, _ = server_store
    back = MontyDecoder().process_decoded(store.get_output(job.uuid, load=True))
    assert np.array_equal(back.trajectories[0].positions, positions)
