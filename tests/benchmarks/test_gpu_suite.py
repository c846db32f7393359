"""``benchmarks/gpu_suite.py --smoke`` runs end to end on the CPU and writes what it prints."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_gpu_suite_smoke_writes_json_and_table(tmp_path):
    out, table = tmp_path / "suite.json", tmp_path / "suite.md"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "gpu_suite.py"),
            "--smoke",
            "--json",
            str(out),
            "--markdown",
            str(table),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(out.read_text())
    assert figures["smoke"] is True and figures["device"] == "cpu"
    for key in (
        "batched_structure_steps_per_s",
        "serial_structure_steps_per_s",
        "host_ms_per_structure_step",
        "gan_batch_s",
        "gan_batch_published_s",
        "gan_batch_tf32_s",
        "gan_batch_bfloat16_s",
        "sample_s",
        "clean_s",
        "md_batched_run_steps_per_s",
        "md_serial_run_steps_per_s",
        "chgnet_batched_per_s",
        "chgnet_serial_per_s",
    ):
        assert figures[key] > 0, key
    text = table.read_text()
    assert text in result.stdout
    assert text.count("\n") == 12  # header, rule and ten rows
    # on a node without CUDA, jobs left on 'auto' run on the CPU
    assert figures["auto_device"] == "relax/GAN cpu, CHGNet cpu"
    assert f"{figures['gan_batch_s'] * 1000:.1f}" in text
