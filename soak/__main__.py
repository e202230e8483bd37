"""``python -m soak [--clients 600] [--concurrency 150] [--leave-share 0.3] [--seed 1]``: run the soak, print its
report, exit 1 when its end state is not the expected one."""

from __future__ import annotations

import argparse
import sys

from soak.run import SoakConfig, run_soak


def main(argv: list[str] | None = None) -> int:
    defaults = SoakConfig()
    parser = argparse.ArgumentParser(prog="python -m soak", description=__doc__)
    parser.add_argument("--clients", type=int, default=defaults.clients)
    parser.add_argument("--concurrency", type=int, default=defaults.concurrency)
    parser.add_argument("--leave-share", type=float, default=defaults.leave_share)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--chunk-delay-ms", type=float, default=defaults.chunk_delay_ms)
    args = parser.parse_args(argv)
    report = run_soak(SoakConfig(clients=args.clients, concurrency=args.concurrency, leave_share=args.leave_share,
                                 seed=args.seed, chunk_delay_ms=args.chunk_delay_ms))
    print(report.render())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
