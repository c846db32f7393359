"""VASP DFT+U input sets of the study (SPEC.md §2), on atomate2's VaspInputGenerator.

Every preset: PBE PAW (Li_sv, Sc_sv, Co, Cl, O; Mg_pv, S for the companion systems), Dudarev
DFT+U with U(Co) = 4.0 eV and no U elsewhere, LMAXMIX 4, spin-polarised with low-spin Co3+
starting moments, and an absolute EDIFF of 1e-6 eV (a per-atom EDIFF is too loose for force
labels of 264-atom cells). Everything can be overridden with ``user_incar_settings`` etc., as
with any atomate2 generator, so atomate2 powerups apply.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

from atomate2.vasp.sets.base import VaspInputGenerator
from pymatgen.core import Structure
from pymatgen.io.vasp import Kpoints

from cryin_flows.errors import ConfigurationError
from cryin_flows.interfaces.template import InterfaceTemplate

POTCARS = {"Li": "Li_sv", "Sc": "Sc_sv", "Co": "Co", "Cl": "Cl", "O": "O", "Mg": "Mg_pv", "S": "S"}
HUBBARD_U = {"Co": 4.0}  # eV, Dudarev; Materials Project uses 3.32 for Co
MAGMOM = {"Co": 0.6}  # low-spin Co3+ start; all other species start at 0
# Bulk k-point meshes of the paper (SPEC §2): style, mesh
BULK_KPOINTS = {
    "LiCoO2": ("Gamma", (9, 9, 1)),
    "Li3ScCl6": ("Monkhorst", (6, 4, 6)),
    "Li2O": ("Monkhorst", (6, 6, 6)),
    "LiCl": ("Monkhorst", (6, 6, 6)),
    "MgS": ("Monkhorst", (6, 6, 6)),
    "Li": ("Monkhorst", (8, 8, 8)),
}

COMMON_INCAR = {
    "GGA": "PE",
    "METAGGA": None,
    "PREC": "Accurate",
    "ALGO": "Normal",
    "EDIFF": 1e-6,
    "EDIFF_PER_ATOM": None,
    "ISPIN": 2,
    "ISMEAR": 0,
    "SIGMA": 0.05,
    "LASPH": True,
    "LDAU": True,
    "LDAUTYPE": 2,
    "LMAXMIX": 4,
    "LWAVE": False,
    "LCHARG": False,
    "NELM": 200,
    "KSPACING": None,
    "LMIXTAU": None,
    "LAECHG": False,
    "LVTOT": False,
    "LELF": False,
}

PRESETS: dict[str, dict] = {
    "bulk": {"ENCUT": 520, "ISIF": 3, "IBRION": 2, "NSW": 200, "EDIFFG": -0.001},
    "stage1": {"ENCUT": 374.3, "ISIF": 2, "IBRION": 2, "NSW": 50, "EDIFFG": -0.1, "LREAL": "Auto"},
    "stage2": {"ENCUT": 450, "ISIF": 2, "IBRION": 2, "NSW": 500, "EDIFFG": -0.1, "LREAL": "Auto"},
    "rerelax": {"ENCUT": 450, "ISIF": 2, "IBRION": 2, "NSW": 500, "EDIFFG": -0.1, "LREAL": "Auto"},
}


def check_preset(preset: str) -> str:
    """The preset name, or a clear error listing the presets."""
    if preset not in PRESETS:
        raise ConfigurationError(f"unknown VASP preset {preset!r}; choose from {list(PRESETS)}")
    return preset


@dataclass
class CryinVaspSetGenerator(VaspInputGenerator):
    """The study's DFT+U inputs for one preset: bulk, stage1, stage2 or rerelax.

    Interface presets use Γ only and a fixed cell; ``stage1`` moves only the atoms whose
    ``selective_dynamics`` site property is True (see ``with_region_dynamics``).
    """

    preset: str = "stage2"
    user_potcar_settings: dict = field(default_factory=lambda: dict(POTCARS))
    sort_structure: bool = False  # keep the template's atom order
    force_gamma: bool = True
    auto_ismear: bool = False  # Gaussian smearing 0.05 eV throughout, as set above

    def __post_init__(self) -> None:
        check_preset(self.preset)
        config = {k: dict(v) if isinstance(v, dict) else v for k, v in self.config_dict.items()}
        incar = dict(config.get("INCAR", {}))
        for key, value in {**COMMON_INCAR, **PRESETS[self.preset]}.items():
            if value is None:
                incar.pop(key, None)
            else:
                incar[key] = value
        # element-keyed: pymatgen turns these into per-species lists for the structure
        incar["LDAUU"] = {el: HUBBARD_U.get(el, 0.0) for el in POTCARS}
        incar["LDAUL"] = {el: 2 if el in HUBBARD_U else -1 for el in POTCARS}
        incar["LDAUJ"] = dict.fromkeys(POTCARS, 0.0)
        incar["MAGMOM"] = {el: MAGMOM.get(el, 0.0) for el in POTCARS}
        config["INCAR"] = incar
        self.config_dict = config
        with warnings.catch_warnings():  # the paper's POTCARs are chosen on purpose (SPEC §2)
            warnings.filterwarnings("ignore", message="Overriding POTCARs")
            super().__post_init__()

    def get_input_set(self, structure: Structure | None = None, *args, **kwargs):
        """As atomate2's, but only ``stage1`` keeps selective dynamics: later stages move all."""
        if (
            structure is not None
            and self.preset != "stage1"
            and "selective_dynamics" in structure.site_properties
        ):
            structure = structure.copy()
            structure.remove_site_property("selective_dynamics")
        return super().get_input_set(structure, *args, **kwargs)

    @property
    def kpoints_updates(self) -> Kpoints | dict:
        """Γ only for interfaces; the paper's mesh for known bulks, else 64 per Å⁻³."""
        if self.preset != "bulk":
            return Kpoints.gamma_automatic((1, 1, 1))
        formula = self.structure.composition.reduced_formula if self.structure else ""
        if formula in BULK_KPOINTS:
            style, mesh = BULK_KPOINTS[formula]
            if style == "Gamma":
                return Kpoints.gamma_automatic(mesh)
            return Kpoints.monkhorst_automatic(mesh)
        return {"reciprocal_density": 64}


def with_region_dynamics(structure: Structure, template: InterfaceTemplate) -> Structure:
    """A copy whose interface-region atoms may move (selective dynamics), the slabs fixed.

    The region is found from the structure's own geometry (``InterfaceTemplate.locate_region``).
    """
    mobile = template.region_mask(structure.cart_coords)
    if not mobile.any():
        raise ConfigurationError("the template's region holds no atoms: nothing would move")
    out = structure.copy()
    out.add_site_property("selective_dynamics", [[bool(m)] * 3 for m in mobile])
    return out


def write_inputs(
    structure: Structure,
    preset: str,
    out_dir: str | Path,
    template: InterfaceTemplate | None = None,
    potcar_spec: bool | None = None,
    **overrides,
) -> Path:
    """INCAR, KPOINTS, POSCAR and POTCAR (or POTCAR.spec without POTCARs) into ``out_dir``.

    ``stage1`` needs the interface ``template`` to find the region for its selective dynamics.
    ``potcar_spec`` None: write real POTCARs when pymatgen finds them (PMG_VASP_PSP_DIR),
    else POTCAR.spec.
    """
    check_preset(preset)
    if preset == "stage1":
        if template is None:
            raise ConfigurationError("preset 'stage1' needs the interface template (its region)")
        structure = with_region_dynamics(structure, template)
    if potcar_spec is None:
        potcar_spec = not potcars_available()
    generator = CryinVaspSetGenerator(preset=preset, **overrides)
    input_set = generator.get_input_set(structure, potcar_spec=potcar_spec)
    out = Path(out_dir)
    input_set.write_input(out)
    return out


def potcars_available() -> bool:
    """Whether pymatgen is configured with a POTCAR directory (PMG_VASP_PSP_DIR)."""
    from pymatgen.core import SETTINGS

    directory = SETTINGS.get("PMG_VASP_PSP_DIR")
    return bool(directory) and Path(directory).is_dir()


def require_potcars() -> None:
    """Raise a clear error when a real VASP run is attempted without POTCARs."""
    if not potcars_available():
        raise ConfigurationError(
            "no POTCAR directory: set PMG_VASP_PSP_DIR in ~/.config/.pmgrc.yaml (pymatgen's "
            "usual configuration) to the folder holding POT_GGA_PAW_PBE_54 with Li_sv, Sc_sv, "
            "Co, Cl, O; inputs can still be written with POTCAR.spec"
        )
