"""The local library: an SQLite index plus a data folder holding every clip and analysis.

Layout of the data folder (``$GAITSCOPE_DATA``, else a per-user folder)::

    library.sqlite3                 the index (clips, analyses, edits)
    clips/<clip_id>/source.<ext>    each uploaded clip once (deduplicated by SHA-256)
    analyses/<analysis_id>/         results, pose track, player proxy, exports/
    incoming/                       uploads being written (a half-written upload never shows)
    logs/errors.log                 tracebacks of unexpected errors (the page shows a short id)

Rules kept here: files are written under a temporary name and renamed into place; the
uploaded file's name is display text only, never part of a path; a damaged index is
reported with :class:`LibraryError` and never replaced; an analysis left ``running`` by a
process that is gone is marked ``failed`` so it can be run again.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO, Iterator

from metrics.errors import GaitscopeError

__all__ = ["Library", "LibraryError", "ClipRecord", "AnalysisRecord", "default_data_dir", "VIDEO_EXTENSIONS",
           "STALE_AFTER_S"]

DB_NAME = "library.sqlite3"
VIDEO_EXTENSIONS = (".mp4", ".mov", ".m4v")
#: A 'running' analysis whose heartbeat is older than this is taken as interrupted.
STALE_AFTER_S = 180.0
_SQLITE_MAGIC = b"SQLite format 3\x00"
_SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS clips (
    id TEXT PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL, ext TEXT NOT NULL,
    size_bytes INTEGER NOT NULL, added_utc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS analyses (
    id TEXT PRIMARY KEY, clip_id TEXT NOT NULL REFERENCES clips(id), runner TEXT NOT NULL DEFAULT '',
    height_cm REAL, capture_fps REAL, model TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')), message TEXT NOT NULL DEFAULT '',
    created_utc TEXT NOT NULL, updated_utc TEXT NOT NULL, owner_pid INTEGER, heartbeat_s REAL);
CREATE TABLE IF NOT EXISTS edits (
    analysis_id TEXT NOT NULL REFERENCES analyses(id), seq INTEGER NOT NULL, edit TEXT NOT NULL,
    created_utc TEXT NOT NULL, PRIMARY KEY (analysis_id, seq));
"""


class LibraryError(GaitscopeError):
    """The library cannot be used as it is (damaged index, unwritable folder)."""


@dataclass(frozen=True)
class ClipRecord:
    id: str
    sha256: str
    display_name: str
    ext: str
    size_bytes: int
    added_utc: str
    path: Path


@dataclass(frozen=True)
class AnalysisRecord:
    id: str
    clip_id: str
    runner: str
    height_cm: float | None
    capture_fps: float | None
    model: str
    status: str
    message: str
    created_utc: str
    updated_utc: str
    clip_name: str
    folder: Path


def default_data_dir() -> Path:
    """``$GAITSCOPE_DATA``, else the platform's per-user data folder + ``gaitscope``."""
    env = os.environ.get("GAITSCOPE_DATA")
    if env:
        return Path(env).expanduser()
    home = Path.home()
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", home / "AppData" / "Local")) / "gaitscope"
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "gaitscope"
    return Path(os.environ.get("XDG_DATA_HOME", home / ".local" / "share")) / "gaitscope"


def _now_utc() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _new_id() -> str:
    return uuid.uuid4().hex[:12]


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary name in the same folder."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:6]}.part")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class Library:
    """The index and folders of one data folder. Cheap to create; every call opens its own connection."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root is not None else default_data_dir()
        try:
            for sub in ("clips", "analyses", "incoming", "logs"):
                (self.root / sub).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LibraryError(
                f"The data folder {self.root} cannot be created or written ({exc.strerror}). "
                "Set GAITSCOPE_DATA to a folder you can write to and start the app again."
            ) from None
        self.db_path = self.root / DB_NAME
        self._check_and_init()

    # -- index ---------------------------------------------------------------------------------
    def _damaged(self, detail: str) -> LibraryError:
        return LibraryError(
            f"The library index {self.db_path} is damaged ({detail}). gaitscope has not changed it. "
            f"Close the app, move that file aside (e.g. rename it to {DB_NAME}.damaged) and start again: "
            "a new, empty index is created and your clips stay in the data folder. "
            "Or set GAITSCOPE_DATA to another folder."
        )

    def _check_and_init(self) -> None:
        if self.db_path.exists():
            with open(self.db_path, "rb") as f:
                head = f.read(16)
            if head and head != _SQLITE_MAGIC:
                raise self._damaged("not an SQLite database")
            if not head and any(any((self.root / sub).iterdir()) for sub in ("clips", "analyses")):
                raise self._damaged("the index file is empty, but the data folder holds clips and analyses")
        try:
            with self._connect() as db:
                check = db.execute("PRAGMA quick_check").fetchone()
                if not check or check[0] != "ok":
                    raise self._damaged(f"integrity check: {check[0] if check else 'no answer'}")
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    db.execute(statement)
                db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', ?)", (str(_SCHEMA_VERSION),))
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError):
                raise LibraryError(f"The library index {self.db_path} cannot be used ({exc}).") from None
            raise self._damaged(str(exc)) from None
        self.recover_interrupted()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            db = sqlite3.connect(self.db_path, timeout=15.0, isolation_level=None)
        except sqlite3.Error as exc:
            raise LibraryError(f"The library index {self.db_path} cannot be opened ({exc}).") from None
        try:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA foreign_keys = ON")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = FULL")
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            raise LibraryError(f"The library index {self.db_path} cannot be used right now ({exc}). "
                               "Close other gaitscope windows and try again.") from None
        except sqlite3.DatabaseError as exc:
            if type(exc) is not sqlite3.DatabaseError:
                raise
            raise self._damaged(str(exc)) from None
        finally:
            db.close()

    # -- clips ---------------------------------------------------------------------------------
    def _clip(self, row: sqlite3.Row) -> ClipRecord:
        return ClipRecord(row["id"], row["sha256"], row["display_name"], row["ext"], row["size_bytes"],
                          row["added_utc"], self.root / "clips" / row["id"] / f"source{row['ext']}")

    def add_clip(self, stream: BinaryIO, display_name: str) -> tuple[ClipRecord, bool]:
        """Copy an uploaded clip into the library, once per content.

        Returns ``(clip, is_new)``; ``is_new`` is False when the same bytes were added before
        (the earlier copy is kept and the new one discarded).
        """
        ext = Path(display_name).suffix.lower()
        ext = ext if ext in VIDEO_EXTENSIONS else ".bin"
        tmp = self.root / "incoming" / f"{_new_id()}.part"
        sha = hashlib.sha256()
        size = 0
        try:
            with open(tmp, "wb") as out:
                while block := stream.read(1 << 22):
                    sha.update(block)
                    out.write(block)
                    size += len(block)
                out.flush()
                os.fsync(out.fileno())
            digest = sha.hexdigest()
            existing = self.clip_by_sha(digest)
            if existing is not None and existing.path.is_file():
                tmp.unlink(missing_ok=True)
                return existing, False
            clip_id = existing.id if existing is not None else _new_id()
            folder = self.root / "clips" / clip_id
            folder.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, folder / f"source{ext if existing is None else existing.ext}")
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise LibraryError(f"The clip could not be saved in {self.root} ({exc.strerror}). "
                               "Free some disk space or choose another data folder.") from None
        if existing is not None:
            return existing, False
        with self._connect() as db:  # check again under the write lock: the same bytes may arrive twice at once
            row = db.execute("SELECT * FROM clips WHERE sha256 = ?", (digest,)).fetchone()
            if row is None:
                db.execute("INSERT INTO clips(id, sha256, display_name, ext, size_bytes, added_utc) "
                           "VALUES (?,?,?,?,?,?)", (clip_id, digest, str(display_name)[:200], ext, size, _now_utc()))
        if row is not None:
            _remove_tree(folder)
            return self._clip(row), False
        return self.clip(clip_id), True

    def discard_clip(self, clip_id: str) -> bool:
        """Remove a clip that no analysis uses (say, an upload that is not a video). True if removed."""
        with self._connect() as db:
            used = db.execute("SELECT COUNT(*) FROM analyses WHERE clip_id = ?", (clip_id,)).fetchone()[0]
            if used:
                return False
            db.execute("DELETE FROM clips WHERE id = ?", (clip_id,))
        _remove_tree(self.root / "clips" / clip_id)
        return True

    def clip(self, clip_id: str) -> ClipRecord | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM clips WHERE id = ?", (clip_id,)).fetchone()
        return self._clip(row) if row else None

    def clip_by_sha(self, sha256: str) -> ClipRecord | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM clips WHERE sha256 = ?", (sha256,)).fetchone()
        return self._clip(row) if row else None

    # -- analyses ------------------------------------------------------------------------------
    def _analysis(self, row: sqlite3.Row) -> AnalysisRecord:
        return AnalysisRecord(row["id"], row["clip_id"], row["runner"], row["height_cm"], row["capture_fps"],
                              row["model"], row["status"], row["message"], row["created_utc"], row["updated_utc"],
                              row["display_name"], self.root / "analyses" / row["id"])

    _SELECT = "SELECT a.*, c.display_name FROM analyses a JOIN clips c ON c.id = a.clip_id"

    def start_analysis(self, clip_id: str, runner: str = "", height_cm: float | None = None,
                       capture_fps: float | None = None, model: str = "full") -> AnalysisRecord:
        """Create an analysis in state 'running', owned by this process, with its folder."""
        aid = _new_id()
        (self.root / "analyses" / aid).mkdir(parents=True, exist_ok=True)
        now = _now_utc()
        with self._connect() as db:
            db.execute(
                "INSERT INTO analyses(id, clip_id, runner, height_cm, capture_fps, model, status, message, "
                "created_utc, updated_utc, owner_pid, heartbeat_s) VALUES (?,?,?,?,?,?,'running','',?,?,?,?)",
                (aid, clip_id, runner.strip()[:120], height_cm, capture_fps, model, now, now, os.getpid(),
                 time.time()),
            )
        return self.analysis(aid)

    def heartbeat(self, analysis_id: str) -> None:
        with self._connect() as db:
            db.execute("UPDATE analyses SET heartbeat_s = ? WHERE id = ? AND status = 'running'",
                       (time.time(), analysis_id))

    def finish_analysis(self, analysis_id: str, status: str, message: str = "") -> None:
        if status not in ("done", "failed"):
            raise ValueError(f"status must be 'done' or 'failed', got {status!r}")
        with self._connect() as db:
            db.execute("UPDATE analyses SET status = ?, message = ?, updated_utc = ?, owner_pid = NULL "
                       "WHERE id = ?", (status, message[:2000], _now_utc(), analysis_id))

    def restart_analysis(self, analysis_id: str) -> AnalysisRecord:
        """Put a failed analysis back to 'running' (for a rerun with the same settings)."""
        with self._connect() as db:
            db.execute("UPDATE analyses SET status = 'running', message = '', updated_utc = ?, owner_pid = ?, "
                       "heartbeat_s = ? WHERE id = ?", (_now_utc(), os.getpid(), time.time(), analysis_id))
        return self.analysis(analysis_id)

    def recover_interrupted(self, now_s: float | None = None) -> list[str]:
        """Mark 'running' analyses whose process is gone, or silent too long, as failed. Returns their ids."""
        now_s = time.time() if now_s is None else now_s
        with self._connect() as db:
            rows = db.execute("SELECT id, owner_pid, heartbeat_s FROM analyses WHERE status = 'running'").fetchall()
            stale = [r["id"] for r in rows
                     if not _pid_alive(r["owner_pid"]) or (r["heartbeat_s"] or 0) < now_s - STALE_AFTER_S]
            for aid in stale:
                db.execute("UPDATE analyses SET status = 'failed', owner_pid = NULL, updated_utc = ?, message = ? "
                           "WHERE id = ?", (_now_utc(), "Interrupted: the app stopped during the analysis. "
                                            "Run it again.", aid))
        for part in (self.root / "incoming").glob("*.part"):  # uploads cut off by a crash (a live one grows)
            try:
                if part.stat().st_mtime < now_s - STALE_AFTER_S:
                    part.unlink()
            except OSError:
                pass
        return stale

    def analysis(self, analysis_id: str) -> AnalysisRecord | None:
        with self._connect() as db:
            row = db.execute(f"{self._SELECT} WHERE a.id = ?", (analysis_id,)).fetchone()
        return self._analysis(row) if row else None

    def analyses(self, clip_id: str | None = None) -> list[AnalysisRecord]:
        """All analyses, newest first (optionally of one clip)."""
        q, args = (f"{self._SELECT} WHERE a.clip_id = ?", (clip_id,)) if clip_id else (self._SELECT, ())
        with self._connect() as db:
            rows = db.execute(f"{q} ORDER BY a.created_utc DESC, a.rowid DESC", args).fetchall()
        return [self._analysis(r) for r in rows]

    def update_runner(self, analysis_id: str, runner: str) -> None:
        with self._connect() as db:
            db.execute("UPDATE analyses SET runner = ?, updated_utc = ? WHERE id = ?",
                       (runner.strip()[:120], _now_utc(), analysis_id))

    def delete_analysis(self, analysis_id: str) -> None:
        """Remove an analysis, its edits and folder; the clip too when nothing else uses it."""
        rec = self.analysis(analysis_id)
        if rec is None:
            return
        with self._connect() as db:
            db.execute("DELETE FROM edits WHERE analysis_id = ?", (analysis_id,))
            db.execute("DELETE FROM analyses WHERE id = ?", (analysis_id,))
            others = db.execute("SELECT COUNT(*) FROM analyses WHERE clip_id = ?", (rec.clip_id,)).fetchone()[0]
            if not others:
                db.execute("DELETE FROM clips WHERE id = ?", (rec.clip_id,))
        _remove_tree(rec.folder)
        if not others:
            _remove_tree(self.root / "clips" / rec.clip_id)

    # -- edits ---------------------------------------------------------------------------------
    def add_edit(self, analysis_id: str, edit: dict) -> int:
        """Append one edit (a JSON-serialisable dict); returns its sequence number."""
        text = json.dumps(edit, sort_keys=True)
        with self._connect() as db:
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM edits WHERE analysis_id = ?",
                             (analysis_id,)).fetchone()[0]
            db.execute("INSERT INTO edits(analysis_id, seq, edit, created_utc) VALUES (?,?,?,?)",
                       (analysis_id, seq, text, _now_utc()))
            db.execute("UPDATE analyses SET updated_utc = ? WHERE id = ?", (_now_utc(), analysis_id))
        return int(seq)

    def undo_edit(self, analysis_id: str) -> dict | None:
        """Remove the last edit; returns it, or None when there was none."""
        with self._connect() as db:
            row = db.execute("SELECT seq, edit FROM edits WHERE analysis_id = ? ORDER BY seq DESC LIMIT 1",
                             (analysis_id,)).fetchone()
            if row is None:
                return None
            db.execute("DELETE FROM edits WHERE analysis_id = ? AND seq = ?", (analysis_id, row["seq"]))
        return json.loads(row["edit"])

    def edits(self, analysis_id: str) -> list[dict]:
        with self._connect() as db:
            rows = db.execute("SELECT edit FROM edits WHERE analysis_id = ? ORDER BY seq", (analysis_id,)).fetchall()
        return [json.loads(r["edit"]) for r in rows]

    # -- files ---------------------------------------------------------------------------------
    def exports_dir(self, analysis_id: str) -> Path:
        d = self.root / "analyses" / analysis_id / "exports"
        d.mkdir(parents=True, exist_ok=True)
        return d

    def log_path(self) -> Path:
        return self.root / "logs" / "errors.log"


def _remove_tree(folder: Path) -> None:
    """Rename a folder aside, then delete it, so a half-deleted folder is never taken for a live one."""
    if not folder.exists():
        return
    trash = folder.with_name(f".deleted-{folder.name}-{_new_id()}")
    try:
        folder.rename(trash)
    except OSError:
        trash = folder
    shutil.rmtree(trash, ignore_errors=True)
