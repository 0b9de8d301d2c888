"""Regenerate the committed interruption benchmark: table, plot and per-case results.

Run: ``.venv/bin/python benchmarks/interruptions/run.py`` (prints the table), or with
``--write`` to update the "Interruption benchmark" section of benchmarks/README.md (between
the ``<!-- interruptions:begin -->`` / ``<!-- interruptions:end -->`` markers) and write
``benchmarks/interruptions/results.json`` and ``plot.svg``. Same seed, same table: only the
speed line (wall time) changes between runs. See README.md in this folder.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CASES, SEED = 300, 0


def main(argv: list[str] | None = None) -> int:
    from bargein import bench
    from bargein.adapters.bench_agent import select_settings
    from bargein.parallel import available_cores

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true",
                        help="update benchmarks/README.md, results.json and plot.svg")
    parser.add_argument("--cases", type=int, default=CASES)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--setting", action="append", default=[],
                        help="run only this setting of the sweep (repeatable)")
    parser.add_argument("--workers", type=int, default=available_cores(),
                        help="worker processes (default: the machine's cores)")
    parser.add_argument("--ray", metavar="ADDRESS", default=None,
                        help="run as Ray tasks: 'local', or a cluster address")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error(f"--workers must be at least 1, got {args.workers}")
    settings = select_settings(args.setting, turn_limit_sentences=bench.TURN_LIMIT_SENTENCES)
    data = bench.run_benchmark(settings, args.cases, args.seed, workers=args.workers,
                               ray=args.ray)
    command = (".venv/bin/python benchmarks/interruptions/run.py --write"
               f" --workers {args.workers}")
    if args.write:
        bench.write_outputs(data, json_path=HERE / "results.json", plot_path=HERE / "plot.svg",
                            readme=HERE.parent / "README.md", command=command)
    print(bench.readme_section(data, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
