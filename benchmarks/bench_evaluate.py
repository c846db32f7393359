"""Fingerprinting speed: parallel + cached dataset fingerprints vs a serial per-site loop.

Fingerprints the interface-region cations of N random LSC|LCO interfaces (default 100) three
ways in one run: a serial per-site loop (the published scripts' way), the parallel cached
implementation on an empty cache, and the same again on the filled cache. Target: >= 1.8x on 2
cores, near-zero time for the cached re-run.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from cryin_flows.analysis.fingerprints import SiteFingerprinter
from cryin_flows.analysis.sites import FingerprintCache, fingerprint_dataset, select_sites
from cryin_flows.interfaces.random_fill import RandomInterfaceGenerator
from cryin_flows.interfaces.template import build_interface_template


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=100, help="structures")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    template = build_interface_template("lsc-lco")
    structures = RandomInterfaceGenerator(template).generate(args.n, seed=0)
    cart = structures.cart_coords()

    fingerprinter = SiteFingerprinter()
    start = time.perf_counter()
    n_sites = 0
    for i in range(len(structures)):
        structure = fingerprinter.decorate(structures.structure(i))
        for site in select_sites(structures.species, cart[i], "region", template):
            fingerprinter.site(structure, int(site))
            n_sites += 1
    serial = time.perf_counter() - start

    with tempfile.TemporaryDirectory() as cache_dir:
        start = time.perf_counter()
        fingerprint_dataset(
            structures, "region", template, cache=FingerprintCache(cache_dir), workers=args.workers
        )
        parallel = time.perf_counter() - start
        start = time.perf_counter()
        cache = FingerprintCache(cache_dir)
        fingerprint_dataset(structures, "region", template, cache=cache, workers=args.workers)
        cached = time.perf_counter() - start

    per_min = 60 * args.n
    print(f"structures / sites          : {args.n} / {n_sites} (interface-region cations)")
    print(f"serial per-site loop        : {per_min / serial:8.1f} structures/min ({serial:.1f} s)")
    print(
        f"parallel, {args.workers} workers, cold  : {per_min / parallel:8.1f} structures/min "
        f"({parallel:.1f} s)"
    )
    print(f"parallel, cached re-run     : {cached:8.2f} s ({cache.hits} cache hits)")
    print(
        f"speed-up cold / cached      : {serial / parallel:8.2f}x / {serial / cached:.0f}x "
        f"(target >= 1.8x on 2 cores)"
    )


if __name__ == "__main__":
    main()
