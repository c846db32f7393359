"""Li₃YCl₆ (P-3m1 site model) with CHGNet: D at several temperatures, E_a and σ(300 K), to set
beside paper 003's 0.585 ± 0.033 mS/cm (its P312 polymorph, TensorNet-MatPES) and the
experimental ≈ 0.5 mS/cm (issue 23).

The cell is relaxed (cell and positions, CHGNet), then every temperature runs side by side in
one batched MD (one CHGNet call per step for all) with the package's ``run_md``; the run
checkpoints into ``--out`` and resumes there when started again, so a long run can be spread
over sessions. ``--json FILE`` writes the figures.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--temperatures", default="500,600,700,800")
    parser.add_argument("--supercell", default="auto", help="auto (paper 003's rule) or e.g. 1,1,2")
    parser.add_argument("--thermalise-ps", type=float, default=2.0)
    parser.add_argument("--berendsen-tau-fs", type=float, default=200.0)
    parser.add_argument("--production-ps", type=float, default=30.0)
    parser.add_argument("--window-ps", type=float, default=10.0)
    parser.add_argument("--fit-ps", default="2,10", help="MSD fit range within a window")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/li3ycl6"))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    import numpy as np
    import torch

    from cryin_flows.dynamics.diffusion import (
        TransportFit,
        arrhenius,
        conductivity,
        framework_msd,
        windowed_diffusivity,
    )
    from cryin_flows.dynamics.md import MDSettings, run_md
    from cryin_flows.dynamics.structures import li3ycl6
    from cryin_flows.potentials.calculators import get_calculator
    from cryin_flows.stability.relaxation import PhaseRelaxSettings, relax_structure

    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    relaxed_path = args.out / "relaxed_cell.json"
    if relaxed_path.is_file():
        from pymatgen.core import Structure

        cell = Structure.from_file(relaxed_path)
    else:
        result = relax_structure(
            li3ycl6(), get_calculator("chgnet"), PhaseRelaxSettings(fmax=0.01), "Li3YCl6"
        )
        from pymatgen.core import Structure

        cell = Structure.from_dict(result.structure)
        cell.to(filename=str(relaxed_path))
        print(f"cell relaxed: a = {cell.lattice.a:.3f}, c = {cell.lattice.c:.3f} Å", flush=True)
    if args.supercell != "auto":
        cell = cell * tuple(int(n) for n in args.supercell.split(","))
    temps = [float(t) for t in args.temperatures.split(",")]
    settings = MDSettings(
        temperatures=temps,
        thermalise_ps=args.thermalise_ps,
        berendsen_tau_fs=args.berendsen_tau_fs,
        production_ps=args.production_ps,
        device="cpu",
        **({"min_atoms": 1, "sphere_diameter": 0.0} if args.supercell != "auto" else {}),
    )
    start = time.perf_counter()
    trajectories, device = run_md([cell], "chgnet", settings, args.out / "md", names=["Li3YCl6"])
    seconds = time.perf_counter() - start
    low, high = (float(x) for x in args.fit_ps.split(","))
    fit = TransportFit(window_ps=args.window_ps, fit_start_ps=low, fit_end_ps=high)
    results, rows = [], []
    for t in trajectories:
        start_structure = t.start
        d = windowed_diffusivity(start_structure, t.positions, t.frame_fs, t.temperature, fit=fit)
        sigma, sigma_sem = conductivity(start_structure, d)
        framework = np.array([i for i, s in enumerate(start_structure) if s.specie.symbol != "Li"])
        rows.append(
            {
                "temperature": t.temperature,
                "D_cm2_s": d.D,
                "D_sem": d.D_sem,
                "windows": len(d.windows),
                "sigma_mS_cm": sigma,
                "sigma_sem": sigma_sem,
                "mean_T": float(np.mean(t.temperatures)),
                "framework_msd_A2": framework_msd(t.positions, framework),
            }
        )
        results.append(d)
        print(
            f"{t.temperature:.0f} K (mean {np.mean(t.temperatures):.0f}): D = {d.D:.3e} ± "
            f"{d.D_sem:.1e} cm²/s, σ = {sigma:.2f} ± {sigma_sem:.2f} mS/cm",
            flush=True,
        )
    fitted = arrhenius(trajectories[0].start, results)
    print(
        f"E_a = {fitted.activation_energy:.3f} eV; σ(300 K) = {fitted.sigma_room:.3f} ± "
        f"{fitted.sigma_room_sem:.3f} mS/cm (Arrhenius), {fitted.sigma_room_fixed_ea:.3f} ± "
        f"{fitted.sigma_room_fixed_ea_sem:.3f} (from {fitted.temperatures[0]:.0f} K, E_a 0.5 eV); "
        f"paper 003: 0.585 ± 0.033, experiment ≈ 0.5",
        flush=True,
    )
    figures = {
        "atoms": len(trajectories[0].start),
        "production_ps": trajectories[0].duration_ps,
        "md_seconds_this_call": seconds,
        "device": device,
        "fit": fit.model_dump(),
        "rows": rows,
        "arrhenius": fitted.model_dump(),
    }
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
