import json
import shutil
import subprocess

import numpy as np
import pytest

from cryin_flows.analysis import sites as sites_module
from cryin_flows.analysis.evaluate import evaluate
from cryin_flows.analysis.fingerprints import PAPER_OXIDATION_STATES
from cryin_flows.analysis.report import write_report
from cryin_flows.analysis.results import EvaluationSettings
from cryin_flows.analysis.sites import FingerprintCache, fingerprint_dataset, select_sites
from cryin_flows.errors import TemplateMismatchError
from cryin_flows.interfaces.interface_set import InterfaceSet

FAST = {"n_resamples": 50, "workers": 1}


def run(template, datasets, cache_dir, **kw):
    return evaluate(
        datasets, "training", template, EvaluationSettings(**{**FAST, **kw}), cache_dir=cache_dir
    )


def test_identical_datasets_are_at_distance_zero(template, interface_sets, shared_cache):
    train = interface_sets["training"]
    doc = run(template, {"training": train, "copy": train}, shared_cache)
    for element, d in doc.fingerprint_distances["copy"].items():
        assert d.euclidean.value == pytest.approx(0, abs=1e-12), element
        assert d.cosine_similarity.value == pytest.approx(1, abs=1e-12), element
        assert d.cosine_distance.value == pytest.approx(0, abs=1e-12), element
    assert set(doc.fingerprint_distances["copy"]) == {"Li", "Sc", "all"}


def test_metrics_of_two_datasets(template, interface_sets, shared_cache):
    doc = run(template, interface_sets, shared_cache)
    dist = doc.fingerprint_distances["generated"]["Li"]
    assert dist.euclidean.value > 0 and 0 < dist.cosine_similarity.value < 1
    assert dist.cosine_distance.value == pytest.approx(1 - dist.cosine_similarity.value)
    assert dist.n_sites == doc.datasets["generated"].sites_per_element["Li"] > 0
    # region sites: the 9 Li + 3 Sc placed between the planes of every structure
    sites = fingerprint_dataset(
        interface_sets["training"],
        "region",
        template,
        PAPER_OXIDATION_STATES,
        FingerprintCache(shared_cache),
        workers=1,
    )
    assert all(sorted(s.elements) == ["Li"] * 9 + ["Sc"] * 3 for s in sites)
    n = len(interface_sets["training"])
    assert doc.datasets["training"].sites_per_element == {"Li": 9 * n, "Sc": 3 * n, "Co": 0}
    gaps = [info["region_thickness"] for info in interface_sets["training"].infos]
    assert doc.datasets["training"].region_gap.min == pytest.approx(min(gaps))
    assert "resample" in doc.interval_method
    # motif shares of the reference add up to at most 1 and rows are > 1 % of its sites
    li_rows = doc.motifs["Li"]
    assert 0 < sum(r.fractions["training"].value for r in li_rows) <= 1 + 1e-9
    assert all(r.fractions["training"].value > 0.01 for r in li_rows)
    assert all(" O)" in r.label for r in li_rows)
    bonds = doc.bond_counts["Sc"]["training"]
    assert bonds.Cl.value + bonds.O.value > 0
    # energies: e_ref puts the lowest training structure at -0.4 J/m²
    energy = doc.datasets["training"].energy
    assert (
        min(e for e, c in zip(energy.histogram_edges, energy.histogram_counts, strict=False) if c)
        <= -0.4
    )
    assert 0 <= energy.fraction_below_0.value <= 1
    assert sum(energy.histogram_counts) == 6
    assert doc.rdfs[0].pair == "Sc-O" and len(doc.rdfs[0].r) == 160


def test_failed_percent_counts_losses_and_unconverged(template, interface_sets, shared_cache):
    generated = interface_sets["generated"]
    generated.infos[0]["converged"] = False
    try:
        doc = evaluate(
            {"training": interface_sets["training"], "generated": generated},
            "training",
            template,
            EvaluationSettings(**FAST),
            requested={"generated": 8},
            cache_dir=shared_cache,
        )
    finally:
        del generated.infos[0]["converged"]
    assert doc.datasets["generated"].failed_percent == pytest.approx(100 * (3 + 1) / 8)


def test_cache_hit_avoids_recomputation(template, interface_sets, tmp_path, monkeypatch):
    cache = FingerprintCache(tmp_path / "cache")
    first = fingerprint_dataset(interface_sets["training"], "region", template, cache=cache)
    assert cache.misses == 6 and cache.hits == 0

    def boom(self, structure, index):
        raise AssertionError("recomputed a cached structure")

    monkeypatch.setattr(sites_module.SiteFingerprinter, "site", boom)
    again_cache = FingerprintCache(tmp_path / "cache")
    again = fingerprint_dataset(interface_sets["training"], "region", template, cache=again_cache)
    assert again_cache.hits == 6
    assert all(np.array_equal(a.vectors, b.vectors) for a, b in zip(first, again, strict=True))


def test_interrupted_run_resumes(template, interface_sets, tmp_path):
    train = interface_sets["training"]
    half = InterfaceSet(train.lattice, train.species, train.frac_coords[:3], train.infos[:3])
    fingerprint_dataset(half, "region", template, cache=FingerprintCache(tmp_path / "cache"))
    cache = FingerprintCache(tmp_path / "cache")
    fingerprint_dataset(train, "region", template, cache=cache, workers=2)
    assert (cache.hits, cache.misses) == (3, 3)


def test_parallel_equals_serial(template, interface_sets):
    train = interface_sets["training"]
    two = InterfaceSet(train.lattice, train.species, train.frac_coords[:2])
    serial = fingerprint_dataset(two, "region", template, workers=1)
    parallel = fingerprint_dataset(two, "region", template, workers=2)
    assert all(np.array_equal(a.vectors, b.vectors) for a, b in zip(serial, parallel, strict=True))
    all_sites = select_sites(two.species, two.cart_coords()[0], "all")
    assert len(all_sites) == 120  # every Li, Sc, Co
    assert len(serial[0].elements) < len(all_sites)


def test_mismatched_datasets_fail_clearly(template, interface_sets, shared_cache):
    train = interface_sets["training"]
    other = InterfaceSet(train.lattice * 1.02, train.species, train.frac_coords)
    with pytest.raises(TemplateMismatchError, match="'other' has another lattice"):
        run(template, {"training": train, "other": other}, shared_cache)
    shuffled = InterfaceSet(train.lattice, train.species[::-1], train.frac_coords)
    with pytest.raises(TemplateMismatchError, match="another atom order"):
        run(template, {"training": train, "other": shuffled}, shared_cache)


def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_report_renders_in_a_browser(template, interface_sets, shared_cache, tmp_path):
    doc = run(template, interface_sets, shared_cache)
    report = write_report(doc, tmp_path / "report")
    assert json.loads((tmp_path / "report" / "metrics.json").read_text())["reference"] == "training"
    html = report.read_text()
    # energy, motifs (Li, Sc), RDFs (3), region profile
    assert html.count('<img src="data:image/png;base64,') == 1 + 2 + 3 + 1
    browser = _chromium()
    if browser is None:
        pytest.skip("chromium is not installed (CI installs Debian's chromium)")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", report.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert dom.count("<table>") == 4 and "Coordination fingerprints" in dom
    shot = tmp_path / "shot.png"
    subprocess.run(
        [browser, *flags, "--window-size=1200,1800", f"--screenshot={shot}", report.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert pixels.shape[:2] == (1800, 1200)
    # table header shading (#eef3fa) and the plots' blue (#1f77b4) are on screen
    header = np.all(np.abs(pixels - [238, 243, 250]) <= 2, axis=-1).sum()
    blue = np.all(np.abs(pixels - [31, 119, 180]) <= 12, axis=-1).sum()
    assert header > 2000, "no table headers rendered"
    assert blue > 500, "no figure rendered"
