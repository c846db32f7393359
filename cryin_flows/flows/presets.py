"""Study presets, YAML files and ``--set`` overrides, applied to the study maker's fields.

A preset is a nested mapping of the fields of ``CryinGanStudyMaker`` and its sub-makers
(``{"training_set": {"n_random": 24}}``); ``paper`` is the makers' defaults. Values are checked
against each field's type and settings models validate their own fields, so an unknown or bad
setting is named by its full path.
"""

from __future__ import annotations

import copy
import dataclasses
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from cryin_flows.errors import ConfigurationError
from cryin_flows.flows.study import CryinGanStudyMaker
from cryin_flows.utils import parse_key_value

# one relaxation setting for active learning, the training set and the generated structures
_DEMO_RELAX = {"settings": {"fmax": 0.1, "max_steps": 200}}
# generated structures stop sooner: at this GAN size none converges in 200 steps either (92 s of
# the demo's time went to finding that out), and the time is better spent on the potential
_DEMO_GENERATED_RELAX = {"settings": {"fmax": 0.1, "max_steps": 100}}
# one set of training settings for the first training and the fine-tuning rounds
_DEMO_TRAINING = {"batch_size": 4, "energy_weight": 10.0, "accelerator": "cpu"}

# Chosen by measurement (issue 15; docs/getting-started.md): the 80-atom Li2O(110)|LiCl(110)
# companion system with a Li4Cl4 region; 8 CHGNet relaxations (2 worker processes), every 2nd
# step a frame, plus 8 close contacts per relaxation (without them relaxations fall through the
# repulsive wall); an M3GNet of 32 units and 2 blocks with its energy term weighted up (at 16
# units and 1 block its relaxations ended 300 meV/atom above CHGNet's energy for them); then two
# rounds of active learning, without which they still ended 74-198 meV/atom above it.
DEMO_PRESET: dict[str, Any] = {
    "preset": "demo",
    "template": {"system": "li2o-licl"},
    "dataset": {
        "n_label": 8,
        "n_label_exchanged": 0,  # the paper's exchanges are of Sc, Co and O: not in this system
        "label": {
            "calculator": "chgnet",
            "settings": {"stage1_steps": 3, "stage2_max_steps": 40},
            "n_per_bulk": 4,
            "n_contacts": 8,
            "workers": 2,
        },
        "frames": {"first_step": 1, "every": 2, "fractions": (0.6, 0.2, 0.2)},
    },
    "potential": {
        "learning_rates": (2e-3,),
        "batch_sizes": (4,),
        "train": {
            "settings": {
                **_DEMO_TRAINING,
                "units": 32,
                "nblocks": 2,
                "cutoff": 4.0,
                "threebody_cutoff": 3.0,
                "max_epochs": 20,
                "patience": 20,
            }
        },
    },
    # active learning: 2 rounds of 8 relaxations with the potential, their end points labelled
    # by 8-step CHGNet relaxations (every 2nd step a frame), 8 epochs of fine-tuning each
    "refine": {
        "rounds": 2,
        "n": 8,
        "relax": _DEMO_RELAX,
        "label": {"calculator": "chgnet", "workers": 2},
        "frames": {"every": 2},
        "train": {"settings": {**_DEMO_TRAINING, "max_epochs": 8, "patience": 8}},
    },
    "training_set": {
        "n_random": 24,
        "chunk": 12,
        "relax": _DEMO_RELAX,
        # 24 structures spread over ~0.3 J/m²: the lowest at −0.1 puts the γ̃ = 0 cut inside
        "energy": {"training_set_size": 12, "lowest_gamma": -0.1},
        # are the potential's minima CHGNet's? (issue 15: at this size, they are not)
        "check": {"calculator": "chgnet", "n": 8},
    },
    "gan_sweep": {
        "bond_weights": (0.0, 0.05),
        "seeds": (0,),
        "train": {
            "config": {"epochs": 50, "batch_size": 4, "gen_interval": 1, "checkpoint_every": 25}
        },
        "generate": {"n": 8},
        "relax": _DEMO_GENERATED_RELAX,
    },
    # Li transport (seed 003, stage iii): 2 lowest-γ̃ structures of the training set and of one
    # GAN run, 3 ps at 800 K each after 0.4 ps of Berendsen; D from 1.5 ps windows (1-1.5 ps
    # slopes; the paper's 15 ps windows need 100 ps runs)
    "transport": {
        "enabled": True,
        "sets": ("training", "cryingan λ=0.05 seed=0"),
        "md": {
            "n_structures": 2,
            "settings": {
                "temperatures": [800.0],
                "thermalise_ps": 0.4,
                "berendsen_tau_fs": 100.0,
                "production_ps": 3.0,
                "frame_fs": 10.0,
                "relax_max_steps": 50,
            },
        },
        "analysis": {"fit": {"window_ps": 1.5, "fit_start_ps": 1.0, "fit_end_ps": 1.5}},
    },
    "evaluation": {
        "settings": {
            "n_resamples": 200,
            "rdf_pairs": [("Li", "O"), ("Li", "Cl"), ("Li", "Li")],
        }
    },
}
PRESETS: dict[str, dict[str, Any]] = {"paper": {"preset": "paper"}, "demo": DEMO_PRESET}


def _merge(base: dict, update: dict) -> dict:
    """``base`` with ``update`` merged in, nested dicts key by key."""
    out = copy.deepcopy(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """``["gan_sweep.seeds=[0]", "training_set.n_random=40"]`` -> nested dict (YAML values)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, value = parse_key_value(pair, "override", "training_set.n_random=40")
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigurationError(f"override {pair!r}: {part} is set twice")
        node[leaf] = value
    return out


def _validation_message(path: str, exc: ValidationError) -> str:
    errors = []
    for error in exc.errors():
        where = ".".join([path, *(str(part) for part in error["loc"])]).strip(".")
        errors.append(f"{where}: {error['msg']}")
    return "; ".join(errors)


def configure(obj: Any, values: dict[str, Any], path: str = "") -> Any:
    """A copy of the dataclass maker ``obj`` with ``values`` (nested by field) applied.

    Sub-makers are configured recursively, settings models re-validated with the merged
    values, and any other field validated against its type hint.
    """
    if not isinstance(values, dict):
        raise ConfigurationError(f"{path or 'study settings'}: expected a mapping of settings")
    names = [f.name for f in dataclasses.fields(obj)]
    hints = typing.get_type_hints(type(obj))
    changes = {}
    for key, value in values.items():
        where = f"{path}.{key}" if path else str(key)
        if key not in names:
            raise ConfigurationError(
                f"unknown setting {where!r}; {type(obj).__name__} has: {', '.join(names)}"
            )
        current = getattr(obj, key)
        if dataclasses.is_dataclass(current) and isinstance(value, dict):
            changes[key] = configure(current, value, where)
        elif isinstance(current, BaseModel) and isinstance(value, dict):
            try:
                changes[key] = type(current).model_validate(_merge(current.model_dump(), value))
            except ValidationError as exc:
                raise ConfigurationError(
                    f"invalid setting {_validation_message(where, exc)}"
                ) from None
        else:
            if isinstance(current, dict) and isinstance(value, dict):
                value = _merge(current, value)
            try:
                changes[key] = TypeAdapter(hints[key]).validate_python(value)
            except ValidationError as exc:
                raise ConfigurationError(
                    f"invalid setting {_validation_message(where, exc)}"
                ) from None
    return dataclasses.replace(obj, **changes)


def load_study(
    preset: str = "demo",
    config_file: str | Path | None = None,
    overrides: list[str] | None = None,
) -> CryinGanStudyMaker:
    """The study maker of a preset, then a YAML file of settings, then ``key=value`` overrides."""
    if preset not in PRESETS:
        raise ConfigurationError(f"unknown preset {preset!r}; choose from {sorted(PRESETS)}")
    values = copy.deepcopy(PRESETS[preset])
    source = ""
    if config_file is not None:
        path = Path(config_file)
        if not path.is_file():
            raise ConfigurationError(f"{path}: study settings file does not exist")
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ConfigurationError(f"{path}: not valid YAML ({exc})") from None
        if not isinstance(loaded, dict):
            raise ConfigurationError(f"{path}: expected a mapping of study settings")
        values = _merge(values, loaded)
        source = f" (preset {preset}, then {path}, then --set)"
    values = _merge(values, parse_overrides(overrides or []))
    try:
        return configure(CryinGanStudyMaker(), values)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{exc}{source}") from None
