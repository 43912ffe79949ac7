"""The rotating log file a service-run Pepper writes besides stderr.

Five files of 5 MiB each at most (`pepper.log`, `pepper.log.1` ... `pepper.log.4`) in the user's state
directory, created readable only by the user: logs name senders and subjects.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

from platformdirs import user_state_dir

__all__ = ["LOG_BACKUPS", "LOG_MAX_BYTES", "default_log_file", "log_to_file"]

LOG_MAX_BYTES = 5 * 1024 * 1024
LOG_BACKUPS = 4
_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"


def default_log_file() -> Path:
    """Where the service's log goes: `<user state dir>/pepper/log/pepper.log`."""
    return Path(user_state_dir("pepper")) / "log" / "pepper.log"


def log_to_file(path: Path, level: int = logging.INFO) -> logging.Handler:
    """Add a rotating file handler for `path` to the root logger and return it."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        path.touch(mode=0o600)
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.setLevel(level)
    os.chmod(path, 0o600)
    logging.getLogger().addHandler(handler)
    return handler
