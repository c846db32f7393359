"""Stress units and signs, in one place.

ASE: eV/Å³, tensile positive. VASP: kbar, compressive positive. matgl and the paper's
parity plots: GPa, compressive negative (tensile positive, as ASE).
"""

from __future__ import annotations

import numpy as np
from ase.units import GPa

EV_PER_A3_IN_GPA = 1.0 / GPa  # 160.2177 GPa per eV/Å³
KBAR_IN_GPA = 0.1


def ase_stress_to_gpa(stress_ev_a3) -> np.ndarray:
    """ASE stress (eV/Å³) in GPa, same sign."""
    return np.asarray(stress_ev_a3, dtype=float) * EV_PER_A3_IN_GPA


def vasp_stress_to_gpa(stress_kbar) -> np.ndarray:
    """VASP stress (kbar, compressive positive) in GPa, compressive negative."""
    return np.asarray(stress_kbar, dtype=float) * -KBAR_IN_GPA


def vasp_stress_to_ase(stress_kbar) -> np.ndarray:
    """VASP's 3x3 stress (kbar) as ASE Voigt stress (eV/Å³): xx, yy, zz, yz, xz, xy."""
    s = vasp_stress_to_gpa(stress_kbar) / EV_PER_A3_IN_GPA
    return np.array([s[0, 0], s[1, 1], s[2, 2], s[1, 2], s[0, 2], s[0, 1]])


def ase_stress_to_vasp(stress_ev_a3) -> np.ndarray:
    """ASE stress (eV/Å³, any shape) in VASP's kbar, compressive positive."""
    return -ase_stress_to_gpa(stress_ev_a3) / KBAR_IN_GPA
