"""A tiny study (Lennard-Jones reference, a few structures, an epoch or two) run once."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from cryin_flows.cli import app

# every stage runs, on numbers small enough for a test (about a minute on 2 cores)
TINY_STUDY = {
    "template": {"system": "lsc-lco"},  # the paper's system (the demo's is the small companion)
    "dataset": {
        "n_label": 3,
        "n_label_exchanged": 1,
        "label": {
            "calculator": "ase.calculators.lj:LennardJones",
            "calculator_kwargs": {"sigma": 2.2, "epsilon": 0.02, "rc": 5.0},
            "settings": {"stage1_steps": 2, "stage2_max_steps": 8},
            "n_per_bulk": 1,
        },
    },
    "potential": {"batch_sizes": [4], "train": {"settings": {"max_epochs": 2, "patience": 2}}},
    # one round of active learning, labelled by the same Lennard-Jones reference
    "refine": {
        "rounds": 1,
        "n": 2,
        "relax": {"settings": {"max_steps": 5}},
        "label": {
            "calculator": "ase.calculators.lj:LennardJones",
            "calculator_kwargs": {"sigma": 2.2, "epsilon": 0.02, "rc": 5.0},
            "settings": {"stage2_max_steps": 3},
            "workers": 1,
        },
        "train": {"settings": {"max_epochs": 1, "patience": 1}},
    },
    "training_set": {
        "n_random": 8,
        "chunk": 4,
        "relax": {"settings": {"max_steps": 5}},
        # 5 steps converge nothing: keep them all, the paper's lowest-at-−0.4 rule
        "energy": {"training_set_size": 6, "converged_only": False, "lowest_gamma": -0.4},
    },
    "gan_sweep": {
        "bond_weights": [0.05],
        "train": {"config": {"epochs": 1, "batch_size": 4}},
        "generate": {"n": 4},
        "relax": {"settings": {"max_steps": 5}},
    },
    # the stage's plumbing on Lennard-Jones energies (CHGNet's numbers: tests/stability)
    "stability": {
        "energies": {
            "calculator": "ase.calculators.lj:LennardJones",
            "energy_scheme": "none",
            "settings": {"max_steps": 3},
        }
    },
    "evaluation": {"settings": {"n_resamples": 20}},
    # the demo preset's transport stage runs MD of at least 1.5 ps windows: too long for a
    # tiny study on every engine; tests/dynamics runs the stage's makers and wiring
    "transport": {"enabled": False},
}


def write_tiny_study(path: Path, stability: bool = True, refine: bool = True) -> Path:
    """The tiny study settings as a YAML file (the ``--config`` of ``cryin demo/submit``).
    ``stability`` False leaves the stability stage out and ``refine`` False the active-learning
    round (tests of an engine on a real queue, where each job costs a queue job's start: the
    local and FireWorks runs keep both)."""
    settings = dict(TINY_STUDY)
    if not stability:
        settings["stability"] = {"enabled": False}
    if not refine:
        settings["refine"] = {**TINY_STUDY["refine"], "rounds": 0}
    path.write_text(yaml.safe_dump(settings))
    return path


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory):
    """(project dir, CLI output) of ``cryin demo --config tiny.yaml`` on an embedded store."""
    root = tmp_path_factory.mktemp("tiny_study")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CRYIN_CONFIG_FILE", str(root / "none.yaml"))
        mp.setenv("JOBFLOW_CONFIG_FILE", str(root / "none.yaml"))
        mp.chdir(root)
        config = write_tiny_study(root / "tiny.yaml")
        result = CliRunner().invoke(
            app, ["demo", "--config", str(config), "--project-dir", str(root / "proj")]
        )
    assert result.exit_code == 0, result.output
    return root / "proj", result.output
