"""Fuzz: mutated copies of the sample clip (byte flips, truncations, spliced headers, broken box
sizes, inserted, deleted and zeroed runs, foreign file heads) through the app's path.

Every case must end in a clean error (a ``GaitscopeError`` with a one-line message) or a
valid result, within :data:`CASE_BOUND_S`, with no temporary file left and the library
still opening. The cases run in one child process so that a hang or a crash in native
code is caught and names its case.

CI runs :data:`DEFAULT_CASES` cases; a longer run::

    GAITSCOPE_FUZZ_CASES=500 ./run test tests/test_fuzz.py
    GAITSCOPE_FUZZ_FIRST=500 GAITSCOPE_FUZZ_CASES=500 ...      (other seeds)
    GAITSCOPE_FUZZ_REAL_POSE=1 ...                             (the pose model instead of a synthetic runner)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

from tests.clipmaker import ROOT
from tests.fuzz_cases import KINDS

DEFAULT_CASES = 30
#: Wall-clock bound of one case (store, probe, decode every frame, analyse, write), seconds.
CASE_BOUND_S = 30.0


def test_mutated_clips_give_a_clean_error_or_a_valid_result(tmp_path):
    n = int(os.environ.get("GAITSCOPE_FUZZ_CASES", DEFAULT_CASES))
    first = int(os.environ.get("GAITSCOPE_FUZZ_FIRST", 0))
    timeout_s = 120 + CASE_BOUND_S * n
    try:
        proc = subprocess.run([sys.executable, "-m", "tests.fuzz_cases", str(tmp_path), str(first), str(n)],
                              capture_output=True, text=True, timeout=timeout_s, cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT), "GLOG_minloglevel": "2"})
        out, code = proc.stdout, proc.returncode
    except subprocess.TimeoutExpired as exc:
        out, code = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or ""), "timeout"
    lines = [json.loads(ln) for ln in out.splitlines() if ln.startswith("{")]
    started = [ln["start"] for ln in lines if "start" in ln]
    results = [ln for ln in lines if "outcome" in ln]
    assert code == 0 and len(results) == n, (
        f"the fuzz run stopped ({code}) in case {started[-1] if started else '?'}: "
        f"{proc.stderr[-2000:] if code != 'timeout' else 'no answer within ' + str(timeout_s) + ' s'}")
    bad = []
    for r in results:
        problems = []
        if r["outcome"] == "unexpected":
            problems.append(f"{r.get('cls')}: {r.get('message')}\n{r.get('traceback', '')}")
        if r["outcome"] == "error" and (not r["message"].strip() or "\n" in r["message"].strip()):
            problems.append(f"unclear message {r['message']!r}")
        if r["seconds"] > CASE_BOUND_S:
            problems.append(f"took {r['seconds']:.1f} s")
        if r["stray"]:
            problems.append(f"left temporary files {r['stray']}")
        if not r["library_ok"]:
            problems.append(f"library no longer opens: {r.get('library_message')}")
        if problems:
            bad.append(f"case {r['i']} ({r['kind']}): " + "; ".join(problems))
    assert not bad, "\n".join(bad)
    outcomes = Counter(r["outcome"] for r in results)
    if n >= 2 * len(KINDS):  # the mutations reach both ends: some files still analyse, some are refused
        assert outcomes["result"] > 0 and outcomes["error"] > 0, outcomes
