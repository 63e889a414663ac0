"""What rendering a tenant's export template in a sandbox worker process costs, against
rendering the same template in the server's own process: the built-in HTML template used as
a tenant template, over the sample session and over a 200-step session.

    .venv/bin/python benchmarks/template_sandbox.py [--runs 100]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.exports import formats, service, templates as tpl
from api.exports.sandbox import Limits, SandboxPool


def _long_session(steps: int = 200) -> dict:
    model = copy.deepcopy(service.sample_models()[0])
    sample = model["steps"]
    model["steps"] = [dict(sample[i % len(sample)], number=i + 1) for i in range(steps)]
    return model


def _timings(render, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        render()
        out.append((time.perf_counter() - started) * 1000)
    return sorted(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100)
    runs = parser.parse_args().runs
    pool = SandboxPool(2, Limits(render_seconds=30))
    source = tpl.builtin_source("html")
    try:
        for name, model in (("sample session", service.sample_models()[0]), ("200 steps", _long_session())):
            context = {"m": model, "images": {}}
            pool.render("html", source, context)  # starts the worker, compiles the template
            for label, render in (
                ("worker", lambda c=context: pool.render("html", source, c)),
                ("in-process", lambda c=context: formats.render_in_process("html", source, c)),
            ):
                times = _timings(render, runs)
                print(
                    f"{name:15s} {label:10s} median {statistics.median(times):6.2f} ms"
                    f"   p90 {times[int(len(times) * 0.9) - 1]:6.2f} ms"
                )
    finally:
        pool.close()


if __name__ == "__main__":
    main()
