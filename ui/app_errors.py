"""Unexpected errors: a short id on the page, the traceback in the data folder's log."""

from __future__ import annotations

import secrets
import traceback
from datetime import datetime, timezone
from pathlib import Path

__all__ = ["log_unexpected"]


def log_unexpected(log_path: Path, exc: BaseException, context: str = "") -> str:
    """Append ``exc``'s traceback to ``log_path``; return a short id to show the user.

    Never raises: if the log cannot be written the id is still returned.
    """
    code = secrets.token_hex(3).upper()
    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "a", encoding="utf-8") as f:
            f.write(f"=== {stamp} error {code} {context}\n{text}\n")
    except OSError:
        pass
    return code
