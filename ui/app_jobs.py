"""Analyses and exports running in background threads, so the page stays live (progress,
Cancel, stepping through frames) while they run.

A :class:`JobRegistry` (one per app process, held by ``st.cache_resource``) maps analysis ids
to :class:`AnalysisJob` s; any browser tab can find a running job and show its progress. A job
runs :func:`ui.pipeline.analyze` and records the outcome in the library ('done', or 'failed'
with a message for the user); then, while the page already shows the results, it writes the
player's proxy (its stage is then ``"player"``).

An :class:`ExportJob` writes one export of one analysis (an annotated clip takes seconds to
minutes); the page keeps working meanwhile, and a click elsewhere no longer stops it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from metrics.errors import Cancelled, GaitscopeError
from ui.app_errors import log_unexpected
from ui.app_proxy import make_proxy
from ui.library import Library
from ui.pipeline import AnalyzeOptions, analyze

__all__ = ["AnalysisJob", "JobRegistry", "JobStatus", "ExportJob", "export_key", "STAGE_LABELS"]

STAGE_LABELS = {
    "start": "Reading the clip",
    "pose": "Finding the runner in every frame",
    "metrics": "Measuring each foot strike",
    "player": "Preparing the frame-accurate player",
}
_HEARTBEAT_EVERY_S = 5.0


@dataclass(frozen=True)
class JobStatus:
    """A snapshot of a job for the page. ``state``: running | done | failed | cancelled."""

    analysis_id: str
    state: str
    stage: str
    done: int
    total: int
    rate_per_s: float
    eta_s: float | None
    elapsed_s: float
    message: str = ""

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total > 0 else 0.0

    @property
    def label(self) -> str:
        return STAGE_LABELS.get(self.stage, self.stage)


def _rate_eta(done: int, total: int, elapsed_s: float) -> tuple[float, float | None]:
    """Items a second and seconds left, once there is something to go on."""
    rate = done / elapsed_s if elapsed_s > 0.2 and done else 0.0
    return rate, (total - done) / rate if rate > 0 and total else None


class _ThreadJob:
    """Start, cancel and join for a job whose ``_run`` runs in a daemon thread (the dataclasses
    below hold ``key``, ``_cancel`` and ``_thread``)."""

    def start(self):
        self._thread = threading.Thread(target=self._run, name=f"gaitscope-{self.key}", daemon=True)
        self._thread.start()
        return self

    def cancel(self) -> None:
        self._cancel.set()

    def join(self, timeout_s: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout_s)


@dataclass
class AnalysisJob(_ThreadJob):
    """One analysis of one clip, run in a daemon thread."""

    library_root: Path
    analysis_id: str
    clip_path: Path
    options: AnalyzeOptions
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _state: str = "running"
    _stage: str = "start"
    _done: int = 0
    _total: int = 0
    _stage_t0: float = field(default_factory=time.monotonic)
    _t0: float = field(default_factory=time.monotonic)
    _beat: float = 0.0
    _message: str = ""
    _thread: threading.Thread | None = None

    @property
    def key(self) -> str:
        return self.analysis_id

    def status(self) -> JobStatus:
        with self._lock:
            now = time.monotonic()
            rate, eta = _rate_eta(self._done, self._total, now - self._stage_t0)
            return JobStatus(self.analysis_id, self._state, self._stage, self._done, self._total, rate, eta,
                             now - self._t0, self._message)

    # -- worker thread -------------------------------------------------------------------------
    def _progress(self, stage: str, done: int, total: int) -> bool:
        with self._lock:
            if stage != self._stage:
                self._stage, self._stage_t0 = stage, time.monotonic()
            self._done, self._total = int(done), int(total)
        now = time.monotonic()
        if now - self._beat > _HEARTBEAT_EVERY_S:
            self._beat = now
            try:
                Library(self.library_root).heartbeat(self.analysis_id)
            except GaitscopeError:
                pass  # the outcome is recorded at the end; a missed heartbeat is harmless
        return not self._cancel.is_set()

    def _finish(self, state: str, message: str) -> None:
        with self._lock:
            self._state, self._message = state, message

    def _run(self) -> None:
        lib = Library(self.library_root)
        folder = lib.root / "analyses" / self.analysis_id
        try:
            result = analyze(self.clip_path, folder, self.options, on_progress=self._progress)
            if self._cancel.is_set():
                raise Cancelled("Analysis cancelled.")
        except Cancelled:
            lib.finish_analysis(self.analysis_id, "failed", "Cancelled. Press 'Run again' to analyse it.")
            self._finish("cancelled", "Cancelled.")
            return
        except GaitscopeError as exc:
            rec = lib.analysis(self.analysis_id)
            msg = str(exc).replace(self.clip_path.name, rec.clip_name) if rec else str(exc)
            lib.finish_analysis(self.analysis_id, "failed", msg)
            self._finish("failed", msg)
            return
        except Exception as exc:  # noqa: BLE001 - any other failure is logged and shown with an id
            code = log_unexpected(lib.log_path(), exc, context=f"analysis {self.analysis_id}")
            msg = (f"Something went wrong inside gaitscope (error {code}). The details are in "
                   f"{lib.log_path()}. Try again, or try another clip.")
            lib.finish_analysis(self.analysis_id, "failed", msg)
            self._finish("failed", msg)
            return
        lib.finish_analysis(self.analysis_id, "done", "")  # the results can be read from now on
        self._progress("player", 0, result.info.frames)
        try:  # the player's proxy, while the page already shows the results
            make_proxy(result.info, folder, on_progress=lambda d, t: self._progress("player", d, t))
        except Exception as exc:  # noqa: BLE001 - the review page makes the proxy itself when it finds none
            log_unexpected(lib.log_path(), exc, context=f"player proxy of analysis {self.analysis_id}")
        self._finish("done", "")


class JobRegistry:
    """The jobs of this app process, by key (an analysis id, or :func:`export_key`); thread-safe."""

    def __init__(self) -> None:
        self._jobs: dict[str, AnalysisJob | ExportJob] = {}
        self._lock = threading.Lock()

    def submit(self, job):
        """Start ``job``, unless one with its key is still running (that one is returned)."""
        with self._lock:
            old = self._jobs.get(job.key)
            if old is not None and old.status().state == "running":
                return old
            self._jobs[job.key] = job
        return job.start()

    def get(self, key: str):
        with self._lock:
            return self._jobs.get(key)

    def running(self) -> list:
        with self._lock:
            return [j for j in self._jobs.values() if j.status().state == "running"]

    def stop_analysis(self, analysis_id: str, timeout_s: float = 10.0) -> None:
        """Cancel and wait for every job of one analysis (its own and its exports), e.g. before
        deleting it."""
        with self._lock:
            mine = [j for k, j in self._jobs.items() if k == analysis_id or k.startswith(f"{analysis_id}/")]
        for j in mine:
            j.cancel()
        for j in mine:
            j.join(timeout_s)


def export_key(analysis_id: str, kind: str) -> str:
    """The registry key of an analysis's export of one kind."""
    return f"{analysis_id}/export/{kind}"


@dataclass
class ExportJob(_ThreadJob):
    """One export of one analysis, run in a daemon thread.

    ``make(on_progress)`` writes the file and returns its path; ``on_progress(done, total)``
    returning ``False`` stops it (the exports then raise ``Cancelled`` and leave no file).
    ``log_error(exc)`` records an unexpected failure and returns the id shown to the user.
    """

    key: str
    make: Callable[[Callable[[int, int], bool]], Path]
    log_error: Callable[[BaseException], str]
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _state: str = "running"
    _done: int = 0
    _total: int = 0
    _t0: float = field(default_factory=time.monotonic)
    _took_s: float | None = None
    _message: str = ""
    _thread: threading.Thread | None = None

    def status(self) -> JobStatus:
        with self._lock:
            el = self._took_s if self._took_s is not None else time.monotonic() - self._t0
            rate, eta = _rate_eta(self._done, self._total, el)
            return JobStatus(self.key, self._state, "export", self._done, self._total, rate, eta, el, self._message)

    def _progress(self, done: int, total: int) -> bool:
        with self._lock:
            self._done, self._total = int(done), int(total)
        return not self._cancel.is_set()

    def _run(self) -> None:
        try:
            self.make(self._progress)
            state, message = "done", ""
        except Cancelled:
            state, message = "cancelled", "Export cancelled: nothing was written, and an earlier file of it is kept."
        except GaitscopeError as exc:
            state, message = "failed", str(exc)
        except Exception as exc:  # noqa: BLE001 - logged with an id, a friendly message on the page
            state, message = "failed", (f"The export failed (error {self.log_error(exc)}). Your analysis is "
                                        "unchanged; try again.")
        with self._lock:
            self._state, self._message = state, message
            self._took_s = time.monotonic() - self._t0
        self.make = None  # its snapshot of the track (megabytes for a long clip) is not kept with the finished job
