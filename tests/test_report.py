"""The one-page report: escaped user text, self-contained, numbers and sentences from planted strikes."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from metrics.track import PoseTrack
from ui.export import ExportSource
from ui.report import build_report_html, findings, report_numbers, write_report, write_report_pdf
from vision.video import probe

SAMPLE = Path(__file__).resolve().parents[1] / "sample_videos" / "zzzhushi_male_side.mp4"


def _strikes(shin_left, shin_right, contact_left=250.0, contact_right=250.0):
    out = []
    for k in range(8):
        for side, shin, ct in (("left", shin_left, contact_left), ("right", shin_right, contact_right)):
            f = 20 * k + (0 if side == "left" else 10)
            out.append({"foot": side, "ic_frame": f, "ic_time_s": f / 30, "shin_angle_deg": shin + (k % 2) - 0.5,
                        "overstride": 0.12, "overstride_cm": 10.0, "contact_time_ms": ct,
                        "strike_pattern": "rearfoot" if k < 6 else "midfoot", "rejected": False})
    out.append({"foot": "left", "ic_frame": 170, "ic_time_s": 5.667, "shin_angle_deg": 40.0, "rejected": True})
    return tuple(out)


@pytest.fixture(scope="module")
def info():
    return probe(SAMPLE)


def _source(info, strikes, warnings=()):
    track = PoseTrack.empty(info.times_s(), (info.width, info.height))
    return ExportSource(info, track, strikes, {"faces": "left"}, {"cadence_spm": 172.4}, 0.0, tuple(warnings))


def test_user_text_is_escaped(info):
    src = _source(info, _strikes(5.0, 6.0), warnings=["<img src=x onerror=alert(2)>"])
    page = build_report_html(src, runner_name="<script>alert(1)</script>", clip_name="a&b<script>.mp4")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "a&amp;b&lt;script&gt;.mp4" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(2)&gt;" in page


def test_report_is_self_contained(info):
    page = build_report_html(_source(info, _strikes(5.0, 6.0)), "Ann")
    assert not re.search(r"""(src|href)\s*=\s*['"]?(https?:)?//""", page)
    images = re.findall(r"src='([^']*)'", page)
    assert images and all(u.startswith("data:image/png;base64,") for u in images)  # the shin plot


def test_numbers_ignore_rejected_strikes(info):
    n = report_numbers(_source(info, _strikes(5.0, 12.0)))
    left = n["per_foot"]["left"]["shin_angle_deg"]
    assert left["n"] == 8 and left["mean"] == pytest.approx(5.0)
    assert left["sd"] == pytest.approx(np.std([4.5, 5.5] * 4, ddof=1))
    assert n["patterns"] == {"rearfoot": 12, "midfoot": 4, "forefoot": 0}
    assert n["n_rejected"] == 1 and n["cadence_spm"] == 172.4


def test_findings_say_which_side_differs_and_by_how_much(info):
    facts = findings(report_numbers(_source(info, _strikes(5.0, 12.0, 240.0, 260.0))))
    text = " ".join(facts)
    assert "Cadence was 172 steps per minute" in text
    assert "5.0° on the left and 12.0° on the right" in text
    assert "The right side is 7.0° more positive" in text
    assert "240 ms (left) and 260 ms (right), a 8.0% difference" in text
    assert "Most contacts were rearfoot strikes (12 of 16" in text
    small = " ".join(findings(report_numbers(_source(info, _strikes(5.0, 6.0)))))
    assert "1.0° difference between sides is within the re-measurement error" in small


def test_write_report_with_contact_snapshots(tmp_path, info):
    track = PoseTrack.empty(info.times_s(), (info.width, info.height))
    strikes = ({"foot": "left", "ic_frame": 3, "shin_angle_deg": 2.0}, {"foot": "right", "ic_frame": 9, "shin_angle_deg": 4.0})
    src = ExportSource(info, track, strikes, {"faces": "left"}, {})
    path = write_report(src, tmp_path / "r.html", runner_name="Ann")
    page = path.read_text()
    assert page.count("data:image/jpeg;base64,") == 2  # one snapshot row per foot
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(not any(shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")),
                    reason="no Chromium to print the PDF")
def test_pdf_is_one_page(tmp_path, info):
    html_path = write_report(_source(info, _strikes(5.0, 6.0)), tmp_path / "r.html", "Ann", with_snapshots=False)
    pdf = write_report_pdf(html_path, tmp_path / "r.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page[^s]", data)) == 1


def test_table_has_left_minus_right(info):
    page = build_report_html(_source(info, _strikes(5.0, 12.0, 240.0, 260.0)), "Ann")
    assert "<td>-7.0°</td>" in page and "<td>-20 ms (8%)</td>" in page


def test_report_compares_with_an_earlier_session(info):
    from metrics.compare import compare_sessions
    from ui.report import Comparison

    earlier, now = _strikes(12.0, 11.0, contact_left=280.0), _strikes(4.0, 10.5, contact_left=250.0)
    page = build_report_html(_source(info, now), "Ann",
                             comparison=Comparison("2026-10-01", compare_sessions(list(earlier), list(now))))
    assert "Since 2026-10-01" in page
    rows = re.findall(r"<tr><td>shin angle at contact</td><td>(\w+)</td><td>([^<]*)</td><td>([^<]*)</td>"
                      r"<td>([^<]*)</td><td>([^<]*)</td></tr>", page)
    assert rows == [("left", "12.0°", "4.0°", "-8.0°", "changed"), ("right", "11.0°", "10.5°", "-0.5°", "no clear change")]
    assert "Left shin angle at contact: 12.0° → 4.0° (-8.0°" in page and "the shin lands more vertical" in page
    assert re.search(r"<td>contact time</td><td>left</td><td>280 ms</td><td>250 ms</td><td>-30 ms</td><td>changed", page)
    assert "Since" not in build_report_html(_source(info, now), "Ann")  # only when asked


def test_report_names_a_later_session_as_such(info):
    from metrics.compare import compare_sessions
    from ui.report import Comparison

    now, later = _strikes(12.0, 11.0), _strikes(4.0, 10.5)
    page = build_report_html(_source(info, now), "Ann",
                             comparison=Comparison("2027-01-10", compare_sessions(list(later), list(now)), later=True))
    assert "Against the later session of 2027-01-10" in page and "Since" not in page
    assert "<th>later session</th><th>this session</th>" in page
