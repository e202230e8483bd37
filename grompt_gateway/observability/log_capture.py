"""What Python would write to stderr as plain text, sent through logging (and so the JSON formatter)
instead: uncaught exceptions in the main thread and other threads, unraisable exceptions, warnings."""

from __future__ import annotations

import logging
import sys
import threading
from types import TracebackType

log = logging.getLogger("grompt_gateway.crash")


def _uncaught(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    log.critical("uncaught exception", exc_info=(exc_type, exc, tb))


def _uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    log.error("uncaught exception in a thread", exc_info=(args.exc_type, args.exc_value or args.exc_type(),
                                                           args.exc_traceback),
              extra={"thread": args.thread.name if args.thread else None})


def _unraisable(args: sys.UnraisableHookArgs) -> None:
    exc = args.exc_value or args.exc_type()
    log.warning("exception ignored", exc_info=(args.exc_type, exc, args.exc_traceback))


def capture_plain_text_output() -> None:
    """Install the hooks (once per process: settings.py calls it with the logging config)."""
    sys.excepthook = _uncaught
    threading.excepthook = _uncaught_in_thread
    sys.unraisablehook = _unraisable
    logging.captureWarnings(True)
