"""A VASP stand-in for tests and dry runs: reads the inputs, relaxes with a cheap calculator,
writes VASP-format outputs that pymatgen and custodian parse.

Run it as the VASP command (``python -m cryin_flows.vasp.standin``). It honours NSW, IBRION
(-1 = single point), EDIFFG (negative: force threshold, eV/Å) and selective dynamics, and writes
vasprun.xml, OSZICAR, OUTCAR, CONTCAR and vasp.out. The calculator is
``CRYIN_STANDIN_CALCULATOR`` ("package.module:Class", default Lennard-Jones) with keyword
arguments from ``CRYIN_STANDIN_KWARGS`` (JSON). ``CRYIN_STANDIN_ERROR=zbrent`` makes the first
run fail the way VASP does, so custodian's handlers can be watched at work.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
from ase.constraints import FixAtoms
from ase.optimize import LBFGS
from pymatgen.core import Structure
from pymatgen.io.ase import AseAtomsAdaptor
from pymatgen.io.vasp import Incar, Kpoints, Poscar

from cryin_flows.potentials.calculators import get_calculator
from cryin_flows.units import ase_stress_to_vasp

DEFAULT_CALCULATOR = "ase.calculators.lj:LennardJones"
ERROR_MESSAGES = {
    "zbrent": " ZBRENT: fatal error in bracketing\n"
    "     please rerun with smaller EDIFF, or copy CONTCAR\n     to POSCAR and continue",
}


def _fmt(values) -> str:
    return " ".join(f"{float(v):16.8f}" for v in np.ravel(values))


def _structure_xml(name: str | None, lattice: np.ndarray, frac: np.ndarray, sd=None) -> str:
    attr = f' name="{name}"' if name else ""
    rows = "".join(f"    <v>{_fmt(v)} </v>\n" for v in lattice)
    rec = np.linalg.inv(lattice).T
    rec_rows = "".join(f"    <v>{_fmt(v)} </v>\n" for v in rec)
    pos = "".join(f"   <v>{_fmt(p)} </v>\n" for p in frac)
    selective = ""
    if sd is not None:
        flags = "".join(
            "   <v>" + " ".join("T" if f else "F" for f in row) + " </v>\n" for row in sd
        )
        selective = f'  <varray type="logical" name="selective">\n{flags}  </varray>\n'
    return (
        f'<structure{attr}>\n <crystal>\n  <varray name="basis">\n{rows}  </varray>\n'
        f'  <i name="volume">{abs(np.linalg.det(lattice)):16.8f} </i>\n'
        f'  <varray name="rec_basis">\n{rec_rows}  </varray>\n </crystal>\n'
        f'  <varray name="positions">\n{pos}  </varray>\n{selective}</structure>\n'
    )


def _param(name: str, value) -> str:
    if isinstance(value, bool):
        return f'<i type="logical" name="{name}"> {"T" if value else "F"}  </i>'
    if isinstance(value, int):
        return f'<i type="int" name="{name}">{value}</i>'
    if isinstance(value, float):
        return f'<i name="{name}">{value:16.8f}</i>'
    if isinstance(value, list):
        kind = ' type="int"' if all(isinstance(v, int) for v in value) else ""
        return f'<v{kind} name="{name}">' + " ".join(str(v) for v in value) + " </v>"
    return f'<i type="string" name="{name}">{escape(str(value))}</i>'


def write_vasprun(
    path: Path, incar: Incar, kpoints: Kpoints, poscar: Poscar, steps: list, converged: bool
) -> None:
    """A vasprun.xml with one <calculation> per ionic step (energies, forces, stress)."""
    structure = poscar.structure
    symbols = [s.specie.symbol for s in structure]
    types = list(dict.fromkeys(symbols))
    lattice = structure.lattice.matrix
    sd = poscar.selective_dynamics
    potcars = Path("POTCAR.spec").read_text().split() if Path("POTCAR.spec").exists() else types
    atoms_rows = "".join(f"    <rc><c>{s}</c><c>{types.index(s) + 1}</c></rc>\n" for s in symbols)
    type_rows = "".join(
        f"    <rc><c>{symbols.count(t)}</c><c>{t}</c><c>1.0</c><c>1.0</c>"
        f"<c>  PAW_PBE {p} 01Jan2000</c></rc>\n"
        for t, p in zip(types, potcars, strict=False)
    )
    incar_xml = "".join(f" {_param(k, v)}\n" for k, v in incar.items())
    params = {
        "NELM": int(incar.get("NELM", 60)),
        "ISPIN": int(incar.get("ISPIN", 1)),
        "LSORBIT": False,
        "LNONCOLLINEAR": False,
        "NSW": int(incar.get("NSW", 0)),
        "IBRION": int(incar.get("IBRION", -1)),
        "ISIF": int(incar.get("ISIF", 2)),
        "EDIFFG": float(incar.get("EDIFFG", 0.0)),
        "ENCUT": float(incar.get("ENCUT", 400.0)),
        "LDAU": bool(incar.get("LDAU", False)),
        "GGA": str(incar.get("GGA", "PE")),
        "NBANDS": 8,
        "NELECT": 8.0,
        "ISMEAR": int(incar.get("ISMEAR", 0)),
        "SIGMA": float(incar.get("SIGMA", 0.05)),
        "LEPSILON": False,
        "LCHIMAG": False,
        "MAGMOM": [float(m) for m in incar.get("MAGMOM", [0.0] * len(symbols))],
    }
    params_xml = "".join(f"  {_param(k, v)}\n" for k, v in params.items())
    mesh = " ".join(str(int(k)) for k in kpoints.kpts[0])
    n_spin = params["ISPIN"]
    bands = "".join(
        f"     <r> {e:10.4f} {1.0 if e < 0 else 0.0:8.4f} </r>\n"
        for e in (-5.0, -4.0, -3.0, -2.0, 1.0, 2.0, 3.0, 4.0)
    )
    spins = "".join(
        f'   <set comment="spin {s}">\n    <set comment="kpoint 1">\n{bands}    </set>\n   </set>\n'
        for s in range(1, n_spin + 1)
    )
    eigen = (
        '<eigenvalues>\n <array>\n  <dimension dim="1">band</dimension>\n'
        '  <dimension dim="2">kpoint</dimension>\n  <dimension dim="3">spin</dimension>\n'
        "  <field>eigene</field>\n  <field>occ</field>\n  <set>\n"
        f"{spins}  </set>\n </array>\n</eigenvalues>\n"
    )
    calcs = []
    for energy, forces, stress, frac in steps:
        e = (
            f'  <energy>\n   <i name="e_fr_energy">{energy:16.8f} </i>\n'
            f'   <i name="e_wo_entrp">{energy:16.8f} </i>\n'
            f'   <i name="e_0_energy">{energy:16.8f} </i>\n  </energy>\n'
        )
        calcs.append(
            "<calculation>\n <scstep>\n"
            + e
            + " </scstep>\n"
            + _structure_xml(None, lattice, frac, sd)
            + ' <varray name="forces">\n'
            + "".join(f"  <v>{_fmt(f)} </v>\n" for f in forces)
            + " </varray>\n"
            + ' <varray name="stress">\n'
            + "".join(f"  <v>{_fmt(r)} </v>\n" for r in stress)
            + " </varray>\n"
            + e
            + "</calculation>\n"
        )
    # electronic structure of the last step: a gapped insulator, Fermi level 0
    calcs[-1] = calcs[-1].replace("</calculation>\n", eigen + "</calculation>\n")
    text = (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n<modeling>\n <generator>\n'
        '  <i name="program" type="string">vasp </i>\n'
        '  <i name="version" type="string">6.4.2 cryin-standin </i>\n'
        '  <i name="subversion" type="string">standin </i>\n'
        '  <i name="platform" type="string">LinuxGNU </i>\n'
        '  <i name="date" type="string">2026 01 01 </i>\n'
        '  <i name="time" type="string">00:00:00 </i>\n </generator>\n'
        f" <incar>\n{incar_xml} </incar>\n"
        f' <kpoints>\n  <generation param="Gamma">\n   <v type="int" name="divisions">{mesh} </v>\n'
        '   <v name="usershift">0 0 0 </v>\n  </generation>\n'
        '  <varray name="kpointlist">\n   <v> 0.0 0.0 0.0 </v>\n  </varray>\n'
        '  <varray name="weights">\n   <v> 1.0 </v>\n  </varray>\n </kpoints>\n'
        f" <parameters>\n{params_xml} </parameters>\n"
        f" <atominfo>\n  <atoms>{len(symbols)}</atoms>\n  <types>{len(types)}</types>\n"
        '  <array name="atoms">\n   <dimension dim="1">ion</dimension>\n'
        '   <field type="string">element</field>\n   <field type="int">atomtype</field>\n'
        f"   <set>\n{atoms_rows}   </set>\n  </array>\n"
        '  <array name="atomtypes">\n   <dimension dim="1">type</dimension>\n'
        '   <field type="int">atomspertype</field>\n   <field type="string">element</field>\n'
        "   <field>mass</field>\n   <field>valence</field>\n"
        '   <field type="string">pseudopotential</field>\n'
        f"   <set>\n{type_rows}   </set>\n  </array>\n </atominfo>\n"
        + _structure_xml("initialpos", lattice, structure.frac_coords, sd)
        + "".join(calcs)
        + _structure_xml("finalpos", lattice, steps[-1][3], sd)
        + ' <dos>\n  <i name="efermi">      0.00000000 </i>\n </dos>\n</modeling>\n'
    )
    path.write_text(text)


def run(directory: str | Path = ".") -> int:
    """One stand-in VASP run in ``directory``; returns the exit status."""
    directory = Path(directory)
    os.chdir(directory)
    out = open("vasp.out", "w")  # noqa: SIM115 - closed below, written as the run goes
    try:
        out.write(" running on    1 total cores (cryin stand-in)\n vasp.6.4.2 cryin-standin\n")
        missing = [f for f in ("INCAR", "POSCAR", "KPOINTS") if not Path(f).exists()]
        if missing:
            out.write(f" ERROR: missing input files {missing}\n")
            return 1
        error = os.environ.get("CRYIN_STANDIN_ERROR", "")
        marker = Path(".standin_error_done")
        if error and not marker.exists():
            marker.write_text(error)
            out.write(ERROR_MESSAGES.get(error, f" ERROR: {error}") + "\n")
            return 1
        incar = Incar.from_file("INCAR")
        kpoints = Kpoints.from_file("KPOINTS")
        poscar = Poscar.from_file("POSCAR")
        atoms = AseAtomsAdaptor.get_atoms(poscar.structure)
        atoms.info.clear()
        if poscar.selective_dynamics is not None:
            fixed = [i for i, f in enumerate(poscar.selective_dynamics) if not any(f)]
            atoms.set_constraint(FixAtoms(indices=fixed))
        kwargs = json.loads(os.environ.get("CRYIN_STANDIN_KWARGS", "{}"))
        atoms.calc = get_calculator(
            os.environ.get("CRYIN_STANDIN_CALCULATOR", DEFAULT_CALCULATOR), **kwargs
        )
        steps: list = []

        def record() -> None:
            stress = ase_stress_to_vasp(atoms.get_stress(voigt=False))
            steps.append(
                (
                    atoms.get_potential_energy(),
                    atoms.get_forces(),
                    stress,
                    atoms.get_scaled_positions(wrap=False),
                )
            )
            out.write(f" {len(steps):4d} F= {steps[-1][0]:.8E} E0= {steps[-1][0]:.8E}\n")

        nsw, ibrion = int(incar.get("NSW", 0)), int(incar.get("IBRION", -1))
        ediffg = float(incar.get("EDIFFG", 10 * float(incar.get("EDIFF", 1e-4))))
        converged = True
        if nsw <= 0 or ibrion < 0:
            record()
        else:
            # L-BFGS: a cheap stand-in for VASP's conjugate gradient (no N x N Hessian)
            optimizer = LBFGS(atoms, logfile=None, maxstep=0.1)
            optimizer.attach(record, interval=1)
            fmax = abs(ediffg) if ediffg < 0 else 0.05
            converged = bool(optimizer.run(fmax=fmax, steps=nsw - 1))
        write_vasprun(Path("vasprun.xml"), incar, kpoints, poscar, steps, converged)
        with open("OSZICAR", "w") as handle:
            handle.write(
                "       N       E                     dE             d eps       ncg     "
                "rms          rms(c)\n"
            )
            for k, (energy, *_rest) in enumerate(steps, start=1):
                handle.write(f"DAV:   1    {energy:.8E}   {energy:.5E}   0.0E+00     8   0.0E+00\n")
                handle.write(
                    f"{k:4d} F= {energy:.8E} E0= {energy:.8E}  d E =0.000000E+00  mag=     0.0000\n"
                )
        final = Structure(poscar.structure.lattice, poscar.structure.species, steps[-1][3])
        Poscar(final, selective_dynamics=poscar.selective_dynamics).write_file("CONTCAR")
        with open("OUTCAR", "w") as handle:
            handle.write(" vasp.6.4.2 cryin-standin\n")
            handle.write(
                "   k-points           NKPTS =      1   k-points in BZ     NKDIM =      1"
                "   number of bands    NBANDS=      8\n"
            )
            handle.write(
                f"   number of dos      NEDOS =    301   number of ions     NIONS = "
                f"{len(atoms):6d}\n"
            )
            handle.write("   total plane-waves  NPLWV =   10000\n")
            handle.write(" E-fermi :   0.0000     XC(G=0):  -8.0000     alpha+bet : -5.0000\n")
            handle.write(f"   IBRION = {ibrion:6d}    ionic relax: 0-MD 1-quasi-New 2-CG\n")
            handle.write(
                f"   ISPIN  = {int(incar.get('ISPIN', 1)):6d}    spin polarized calculation?\n"
            )
            handle.write(
                " k-point     1 :       0.0000    0.0000    0.0000  plane waves:     1000\n"
            )
            for energy, forces, *_ in steps:
                drift = np.asarray(forces).sum(axis=0)
                handle.write(f"  total drift:                      {_fmt(drift)}\n")
                handle.write(f"  free  energy   TOTEN  =     {energy:.8f} eV\n")
            handle.write(
                f"  energy  without entropy=     {steps[-1][0]:.8f}  "
                f"energy(sigma->0) =     {steps[-1][0]:.8f}\n"
            )
            handle.write(" General timing and accounting informations for this job:\n")
            handle.write(" ========================================================\n")
            handle.write("                  Total CPU time used (sec):        0.100\n")
            handle.write("                            User time (sec):        0.100\n")
            handle.write("                          System time (sec):        0.000\n")
            handle.write("                         Elapsed time (sec):        0.100\n")
            handle.write("                   Maximum memory used (kb):       1000.\n")
            handle.write("                   Average memory used (kb):          N/A\n")
        out.write(
            " reached required accuracy - stopping structural energy minimisation\n"
            if converged
            else " stand-in stopped at NSW\n"
        )
        return 0
    finally:
        out.close()


def main() -> None:
    """Entry point: run in the current directory."""
    sys.exit(run("."))


if __name__ == "__main__":
    main()
