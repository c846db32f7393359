"""Does active learning give the potential the reference's minima? (issue 15)

Runs the demo preset's dataset, potential and refine stages (``--set`` changes any setting, as
``cryin demo --set`` does) on an embedded store in a temporary folder. Then, for the first
potential and the potential of every round, relaxes the same held-out random interfaces with it
(FIRE to 0.1 eV/Å) and re-scores them by the reference calculator (``check_against_reference``,
what the study's reference check does). Prints, per potential, the test MAE and how far the
reference puts the relaxed structures above the potential's energy for them; the ratio is the
last round's gap against the first potential's, measured in the same run. ``--json FILE``
writes the figures. About 9 minutes on 2 CPU cores with the demo's settings.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--held-out", type=int, default=8, help="structures re-scored")
    parser.add_argument("--seed", type=int, default=5, help="seed of the held-out structures")
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="key=value")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args()

    from jobflow import Flow, run_locally

    from cryin_flows.flows.presets import load_study
    from cryin_flows.interfaces.random_fill import RandomInterfaceGenerator
    from cryin_flows.launchpad.stores import get_job_store, load_output
    from cryin_flows.makers.potentials import M3GNetTrainMaker
    from cryin_flows.potentials.calculators import get_calculator
    from cryin_flows.potentials.check import check_against_reference
    from cryin_flows.potentials.m3gnet import load_potential
    from cryin_flows.potentials.relax import relax_batch
    from cryin_flows.settings import get_settings

    study = load_study("demo", overrides=["refine.rounds=2", *args.overrides])
    stages = study.stages()
    if "refine" not in stages:
        parser.error("refine.rounds is 0: nothing to measure")
    with tempfile.TemporaryDirectory() as tmp:
        store = get_job_store(get_settings(project_dir=Path(tmp)))
        start = time.perf_counter()
        flow = Flow([stages[name] for name in ("dataset", "potential", "refine")])
        run_locally(flow, store=store, log=False, ensure_success=True, root_dir=tmp)
        print(
            f"dataset, potential and {study.refine.rounds} rounds: "
            f"{time.perf_counter() - start:.0f} s"
        )
        docs = {"first training": load_output(stages["potential"].output.uuid, store)}
        for job, _ in stages["refine"].iterflow():
            if isinstance(job.maker, M3GNetTrainMaker):
                docs[job.name] = load_output(job.uuid, store)
        template = load_output(stages["dataset"].jobs[0].output.uuid, store)
        held_out = RandomInterfaceGenerator(template).generate(args.held_out, seed=args.seed)
        reference = get_calculator(study.refine.label.calculator)
        rows = {}
        for name, doc in docs.items():
            relaxed, records = relax_batch(
                held_out, load_potential(doc.potential_dir), study.training_set.relax.settings
            )
            check = check_against_reference(relaxed, reference, args.held_out)
            rows[name] = {
                "test_energy_mae_mev_atom": doc.metrics["test"].energy_mae_mev_atom,
                "test_force_mae_mev_a": doc.metrics["test"].force_mae_mev_a,
                "epochs": doc.epochs,
                "converged": sum(r["converged"] for r in records),
                **check.model_dump(
                    include={
                        "energy_offset_mev_atom",
                        "reference_max_force_mean",
                        "rank_correlation",
                    }
                ),
                "reference_mean_energy": sum(check.reference_energy) / len(held_out),
            }
            row = rows[name]
            rho = row["rank_correlation"]
            print(
                f"{name:22s} test {row['test_energy_mae_mev_atom']:5.1f} meV/atom | "
                f"{row['converged']}/{len(held_out)} converged | reference above the "
                f"potential {row['energy_offset_mev_atom']:+6.1f} meV/atom, largest force "
                f"{row['reference_max_force_mean']:.2f} eV/Å, mean "
                f"{row['reference_mean_energy']:.3f} eV/atom, rank correlation "
                f"{'n/a' if rho is None else f'{rho:.2f}'}"
            )
    first, last = rows["first training"], rows[list(rows)[-1]]
    ratio = abs(last["energy_offset_mev_atom"]) / max(abs(first["energy_offset_mev_atom"]), 1e-9)
    print(f"gap after the last round vs the first potential: {ratio:.2f}x")
    if args.json:
        figures = {"overrides": args.overrides, "potentials": rows, "ratio": ratio}
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
