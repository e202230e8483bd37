"""``python -m tests.fuzz [--max-examples 300] [--seed N]``: the long fuzzing profile against a gateway
started here (mock LLM providers, echo GoBE). Exit status is schemathesis's: 0 when it found nothing."""

from __future__ import annotations

import argparse
import os
import random
import subprocess

import django


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("--max-examples", type=int, default=300, help="test cases per operation and phase")
    parser.add_argument("--seed", type=int, default=None, help="default: a new random seed (printed)")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "grompt_gateway.settings")
    django.setup()
    # The gateway's modules read Django's settings when imported: after setup().
    from tests.fuzz.runner import schemathesis_command
    from tests.fuzz.target import fuzz_target

    seed = args.seed if args.seed is not None else random.randrange(2**31)
    print(f"fuzzing with seed {seed}", flush=True)
    with fuzz_target() as gateway:
        command = schemathesis_command(gateway.url, max_examples=args.max_examples, seed=seed)
        return subprocess.run(command, check=False).returncode


if __name__ == "__main__":
    raise SystemExit(main())
