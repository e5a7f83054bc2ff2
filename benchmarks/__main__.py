"""``python -m benchmarks [--json] [--only NAME ...] [--tiny] [--list]``: ours vs the references."""

from __future__ import annotations

import argparse
import json
import sys

from benchmarks.core import all_benchmarks
from course_utils.cli import command


def _fmt(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


@command
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description="Our implementations against reference libraries.")
    parser.add_argument("--json", action="store_true", help="print a JSON list of rows instead of a table")
    parser.add_argument("--only", nargs="+", default=None, metavar="NAME", help="run only these benchmarks")
    parser.add_argument("--tiny", action="store_true", help="tiny sizes (a smoke test, not a measurement)")
    parser.add_argument("--list", action="store_true", help="list the benchmark names and exit")
    args = parser.parse_args(argv)
    benches = all_benchmarks()
    if args.list:
        print("\n".join(benches))
        return 0
    if args.only:
        unknown = [n for n in args.only if n not in benches]
        if unknown:
            print(f"error: unknown benchmark(s) {unknown}; valid: {', '.join(benches)}", file=sys.stderr)
            return 2
        benches = {n: benches[n] for n in args.only}
    import torch

    torch.set_num_threads(max(1, torch.get_num_threads()))
    rows = []
    for name, bench in benches.items():
        if not args.json:
            print(f"running {name} ...", file=sys.stderr, flush=True)
        rows.append(bench.run(args.tiny))
    if args.json:
        print(json.dumps([r.as_dict() for r in rows], indent=2))
        return 0
    header = f"{'name':<34} {'ours (s)':>10} {'reference':<26} {'ref (s)':>10} {'ratio':>7} {'agree':>7} device"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r.name:<34} {_fmt(r.ours_s, '10.4f')} {r.reference:<26} {_fmt(r.reference_s, '10.4f')} "
              f"{_fmt(r.ratio, '7.2f')} {_fmt(r.agreement, '7.4f')} {r.device}" + (f"  ({r.note})" if r.note else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
