"""Li transport resolved over an interface: parts found by the template's rule, and a study
flow whose transport stage runs each set's MD on the GPU category."""

import numpy as np

from cryin_flows.dynamics.analysis import interface_regions
from cryin_flows.flows.transport import TransportFlowMaker
from cryin_flows.interfaces.random_fill import RandomFillSettings, RandomInterfaceGenerator


def test_parts_at_the_start_are_the_rules_and_follow_heights(template):
    structures = RandomInterfaceGenerator(template, RandomFillSettings()).generate(3, seed=5)
    species = np.array(template.species)
    li = np.where(species == "Li")[0]
    n_sub = len(template.substrate_coords)
    for k, start in enumerate(structures.cart_coords()):
        geometry = template.locate_region(start)
        rank = np.empty(len(start), int)
        rank[np.argsort(geometry.heights, kind="stable")] = np.arange(len(start))
        positions = np.stack([start, start])
        positions[1, :, 2] += template.lattice_matrix[2, 2]  # one cell up: the same parts
        masks = interface_regions(template, start, positions, li)
        assert np.array_equal(masks["region"][0], np.isin(li, geometry.indices)), k
        assert np.array_equal(masks["substrate"][0], rank[li] < n_sub), k
        assert np.array_equal(masks["film"][0], ~masks["region"][0] & ~masks["substrate"][0])
        assert all(np.array_equal(m[0], m[1]) for m in masks.values())
        # a region Li lifted 30 Å (across the film) is counted in the film
        moved = positions.copy()
        i = int(np.flatnonzero(masks["region"][0])[0])
        moved[1, li[i], 2] = geometry.heights.max() - 0.5
        assert interface_regions(template, start, moved, li)["film"][1, i]


def test_transport_stage_runs_md_per_set_on_the_gpu_category(template):
    one = RandomInterfaceGenerator(template, RandomFillSettings()).generate(1, seed=0)
    flow = TransportFlowMaker(enabled=True, sets=("training", "gan")).make(
        template, None, {"training": one, "random": one, "gan": one}
    )
    names = {job.name: job.config.manager_config["_category"] for job, _ in flow.iterflow()}
    assert names == {"md training": "gpu", "md gan": "gpu", "transport": "cpu"}


def test_demo_study_runs_transport_on_the_training_set_and_one_gan_run():
    from cryin_flows.flows.presets import load_study

    study = load_study("demo")
    flow = study.make()
    names = [job.name for job, _ in flow.iterflow()]
    assert {"md training", "md cryingan λ=0.05 seed=0", "transport"} <= set(names)
    assert "transport" in flow.output and "transport" not in load_study("paper").make().output
    evaluate = next(job for job, _ in flow.iterflow() if job.name == "evaluate")
    assert evaluate.function_kwargs["transport"].uuid == flow.output["transport"].uuid


def test_a_set_the_study_does_not_make_is_named():
    import pytest

    from cryin_flows.errors import ConfigurationError
    from cryin_flows.flows.presets import load_study

    with pytest.raises(ConfigurationError, match=r"transport.sets names \['nope'\]"):
        load_study("demo", overrides=["transport.sets=[training, nope]"]).make()


def test_closing_table_row_per_set():
    from types import SimpleNamespace

    from cryin_flows.cli.study import transport_rows
    from cryin_flows.dynamics.analysis import SetTransport

    d = {"all": 2e-4, "region across": 1e-5, "region in-plane": 3e-5}
    sets = [
        SetTransport(label=label, temperature=800.0, n_structures=2, D=d,
                     D_sem={k: v / 10 for k, v in d.items()}, framework_msd=0.4)
        for label in ("training", "cryingan")
    ]  # fmt: skip
    rows = transport_rows(SimpleNamespace(sets=sets))
    assert [r[0] for r in rows] == [
        "training: Li D across the region, 800 K",
        "cryingan: Li D across the region, 800 K",
    ]
    assert rows[0][1].startswith("0.100 ± 0.010 Å²/ps (2 structures; in-plane 0.300, all Li 2.000)")
    assert "framework MSD 0.4 Å²" in rows[1][1] and rows[1][2] == ""
