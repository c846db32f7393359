"""The Dismai-Bench makers as jobflow jobs on the embedded store."""

from __future__ import annotations

from pathlib import Path

from jobflow import Flow, run_locally

from cryin_flows.alloys.dataset import AlloySetSettings
from cryin_flows.alloys.montecarlo import MonteCarloSettings
from cryin_flows.bench.alloy import AlloyDatasetSettings
from cryin_flows.bench.common import ScoreOptions
from cryin_flows.launchpad.stores import get_job_store, load_output
from cryin_flows.makers.bench import AlloyDatasetMaker, BenchScoreMaker


def test_alloy_dataset_then_score_in_one_flow(tmp_path):
    settings = AlloyDatasetSettings(
        temperatures=[1500.0],
        monte_carlo=MonteCarloSettings(n_chains=2, passes=300, anneal_passes=0),
        sets=AlloySetSettings(size=30, burn_in_passes=50, narrow_width=0.3),
    )
    dataset = AlloyDatasetMaker(settings=settings, work_dir=str(tmp_path / "sets")).make()
    score = BenchScoreMaker(
        system="alloy", options=ScoreOptions(n_resamples=100), work_dir=str(tmp_path / "score")
    ).make(dataset.output.files["1500K_wide"].path, dataset.output.files["1500K_narrow"].path)
    store = get_job_store()
    run_locally(Flow([dataset, score]), store=store, ensure_success=True)
    data = load_output(dataset.uuid, store)
    assert Path(data.files["1500K_wide"].path).stat().st_size == data.files["1500K_wide"].size_bytes
    assert data.summary["1500K_narrow"]["pool"] < data.summary["1500K_wide"]["pool"]
    result = load_output(score.uuid, store)
    assert result.system == "alloy" and result.metrics["vacancy_percent"]["value"] == 0
    assert result.metrics["d_cluster"]["value"] < 0.05  # two sets of one run
    assert Path(result.figures["sro"].path).exists()
