"""The production command: ``python -m grompt_gateway.serve [--workers N] [--host H] [--port P]``.

uvicorn with the gateway's settings (HOST, PORT, LOG_LEVEL as JSON lines, no proxy headers: only
TRUSTED_PROXIES is believed), its graceful timeout above SHUTDOWN_GRACE_S, exit status 0 after a
graceful SIGTERM/SIGINT, and with several workers, Prometheus multiprocess mode set up before any
worker imports ``prometheus_client``. Nothing heavy is imported before the metrics directory is set.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from types import FrameType
from typing import Final

# uvicorn's graceful timeout is a backstop: the gateway ends its own work SHUTDOWN_GRACE_S after the
# signal, then gives streams about a second to write their last event (stack/shutdown.py).
_BACKSTOP_S: Final = 3.0
METRICS_DIR_ENV: Final = "PROMETHEUS_MULTIPROC_DIR"


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    from grompt_gateway.config import GatewaySettings, SettingsError

    try:
        settings = GatewaySettings.from_env()
    except SettingsError as exc:
        sys.stderr.write(f"grompt-gateway: bad setting: {exc}\n")
        return 2
    own_dir = prepare_metrics_dir(workers=args.workers)
    # uvicorn re-raises the signal it shut down for, with the handler it found at start: this one, so a
    # graceful stop ends with status 0 (a signal during start-up also stops the process, with status 0).
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit_zero)
    import uvicorn

    from grompt_gateway.observability.log_json import logging_config

    try:
        uvicorn.run(
            "grompt_gateway.asgi:application", host=args.host or settings.host,
            port=settings.port if args.port is None else args.port,
            workers=args.workers, lifespan="on", proxy_headers=False, access_log=False,
            log_config=logging_config(settings.log_level), log_level=settings.log_level.lower(),
            timeout_graceful_shutdown=round(settings.shutdown_grace_s + _BACKSTOP_S),
        )
    finally:
        if own_dir is not None:
            shutil.rmtree(own_dir, ignore_errors=True)
    return 0


def prepare_metrics_dir(*, workers: int) -> Path | None:
    """Several workers share their metrics through files in PROMETHEUS_MULTIPROC_DIR (a temporary one
    unless set); files left by an earlier run are wiped, since counters would otherwise resume from
    them. Return the directory to remove at exit when it is ours."""
    configured = os.environ.get(METRICS_DIR_ENV)
    if configured:
        directory = Path(configured)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        return None
    if workers <= 1:
        return None
    directory = Path(tempfile.mkdtemp(prefix="grompt-metrics-"))
    os.environ[METRICS_DIR_ENV] = str(directory)  # inherited by the workers, read at their first import
    return directory


def _exit_zero(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m grompt_gateway.serve", description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--host", help="bind address (default: HOST, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: PORT, 3000)")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    return args


if __name__ == "__main__":
    sys.exit(main())
