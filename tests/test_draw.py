"""Drawing: overlays land where the numbers say, in the side's colour, on a copy; overlay data."""

from __future__ import annotations

import numpy as np
import pytest

from metrics.landmarks import leg
from metrics.track import PoseTrack
from vision.draw import DrawOptions, OverlayAnnotator, format_overstride, format_shin, style_for, text_size
from vision.overlay import FrameOverlay, overlay_for_frame, strike_marks
from vision.palette import SIDE_RGB

ONLY_SHIN = DrawOptions(skeleton=False, overstride=False, contact_banner=False, clock=False)
ONLY_OVERSTRIDE = DrawOptions(skeleton=False, shin=False, contact_banner=False, clock=False)


def _track(n_frames=10, size=(400, 600), fps=30.0, legs=None) -> PoseTrack:
    """A track with fixed leg points: ``legs[side][point] = (x, y)``; everything else unseen."""
    t = PoseTrack.empty(np.arange(n_frames) / fps, size)
    xy, vis = t.xy_px.copy(), t.visibility.copy()
    for side, pts in (legs or {}).items():
        for name, p in pts.items():
            xy[:, leg(side)[name]] = p
            vis[:, leg(side)[name]] = 1.0
    return t.replace(xy_px=xy, visibility=vis)


RIGHT_LEG = {"hip": (200, 150), "knee": (210, 300), "ankle": (240, 450), "heel": (230, 470), "foot_index": (290, 475)}
LEFT_LEG = {"hip": (190, 150), "knee": (150, 300), "ankle": (100, 430), "heel": (90, 440), "foot_index": (140, 470)}


def _close(pixel, rgb, tol=40) -> bool:
    return bool(np.all(np.abs(np.asarray(pixel, int) - np.asarray(rgb, int)) <= tol))


def _draw(track, strikes, frame, options, faces="right", bg=0):
    marks = strike_marks(track, strikes, {"faces": faces})
    ov = overlay_for_frame(track, marks, frame, faces)
    img = np.full((track.size[1], track.size[0], 3), bg, np.uint8)
    return img, OverlayAnnotator(options).annotate(img, ov), ov


@pytest.mark.parametrize("side", ["left", "right"])
def test_shin_line_in_the_side_colour_between_knee_and_ankle(side):
    legs = {side: RIGHT_LEG}
    track = _track(legs=legs)
    img, out, _ = _draw(track, [{"foot": side, "ic_frame": 3, "shin_angle_deg": 11.3}], 3, ONLY_SHIN)
    knee, ankle = np.array(RIGHT_LEG["knee"], float), np.array(RIGHT_LEG["ankle"], float)
    on_line = [out[int(round(p[1])), int(round(p[0]))] for p in (knee + f * (ankle - knee) for f in (0.3, 0.5, 0.7))]
    assert all(_close(px, SIDE_RGB[side], 10) for px in on_line)
    # the other side's colour is nowhere near the line
    other = SIDE_RGB["left" if side == "right" else "right"]
    assert not _close(on_line[1], other, 30)
    # far from the leg nothing is drawn, and the input frame is untouched
    assert not out[550:, :60].any()
    assert not img.any()


def test_nothing_is_drawn_before_the_contact_or_after_the_hold():
    track = _track(n_frames=30, legs={"right": RIGHT_LEG})
    strikes = [{"foot": "right", "ic_frame": 10, "shin_angle_deg": 5.0}]
    mid = (int(375), int(225))  # shin midpoint (y, x)
    for frame, drawn in ((9, False), (10, True), (17, True), (18, False)):  # hold 0.25 s = 7.5 frames at 30 fps
        _, out, ov = _draw(track, strikes, frame, ONLY_SHIN)
        assert bool(out[mid].any()) == drawn, frame
        assert (len(ov.strikes) == 1) == drawn


def test_plumb_line_at_the_knee_is_vertical_and_white():
    track = _track(legs={"right": RIGHT_LEG})
    _, out, _ = _draw(track, [{"foot": "right", "ic_frame": 0, "shin_angle_deg": 11.3}], 0, ONLY_SHIN)
    x = RIGHT_LEG["knee"][0]
    column = out[330:400, x]  # below the knee, inside the reference line's length
    assert np.mean([_close(px, (255, 255, 255), 60) for px in column]) > 0.8


@pytest.mark.parametrize("faces", ["right", "left"])
def test_angle_label_sits_on_the_side_the_runner_faces(faces):
    track = _track(legs={"right": {"knee": (230, 300), "ankle": (230, 450)}})  # vertical shin at x = 230
    _, out, _ = _draw(track, [{"foot": "right", "ic_frame": 0, "shin_angle_deg": 0.0}], 0, ONLY_SHIN, faces, bg=128)
    white_text = np.all(out[300:420] > 240, axis=2)
    right_of_leg, left_of_leg = white_text[:, 237:].sum(), white_text[:, :223].sum()
    ahead, behind = (right_of_leg, left_of_leg) if faces == "right" else (left_of_leg, right_of_leg)
    assert ahead > 40 and behind == 0


def test_angle_text_is_the_analysis_value_or_measured_when_missing():
    assert format_shin(7.26) == "shin 7.3°"
    track = _track(legs={"right": {"knee": (100, 100), "ankle": (110, 200)}})
    marks = strike_marks(track, [{"foot": "right", "ic_frame": 0, "shin_angle_deg": 7.26},
                                 {"foot": "right", "ic_frame": 1}], {"faces": "right"})
    assert marks[0].shin_angle_deg == 7.26  # the analysis value is printed, not re-measured
    assert format_shin(marks[1].shin_angle_deg) == "shin 5.7°"  # atan(10/100), ankle ahead of the knee
    left = strike_marks(track, [{"foot": "right", "ic_frame": 1}], {"faces": "left"})
    assert format_shin(left[0].shin_angle_deg) == "shin -5.7°"


def test_overstride_segment_runs_from_the_hips_drop_line_to_the_heel():
    legs = {"left": {"hip": (100, 100), "heel": (250, 400)}, "right": {"hip": (100, 100)}}
    track = _track(legs=legs)
    strikes = [{"foot": "left", "ic_frame": 0, "overstride": 0.31, "overstride_cm": 27.4}]
    _, out, ov = _draw(track, strikes, 0, ONLY_OVERSTRIDE)
    assert ov.strikes[0].hip == (100.0, 100.0)  # mid-hip
    row = out[400, 110:240]
    assert np.mean([_close(px, SIDE_RGB["left"], 30) for px in row]) > 0.9
    drop = out[150:380, 100]
    assert np.mean([_close(px, (255, 255, 255), 60) for px in drop]) > 0.3  # dashed
    assert format_overstride(0.31, 27.4) == "overstride 31% leg, 27 cm"


def test_contact_banner_and_clock_are_drawn_in_the_corners():
    track = _track(legs={"right": RIGHT_LEG})
    opts = DrawOptions(skeleton=False, shin=False, overstride=False)
    _, out, _ = _draw(track, [{"foot": "right", "ic_frame": 2}], 2, opts, bg=128)
    banner = np.all(np.abs(out[:40, -120:].astype(int) - SIDE_RGB["right"]) < 10, axis=2)
    assert banner.sum() > 400 and not np.all(np.abs(out[:40, :200].astype(int) - SIDE_RGB["right"]) < 10, axis=2).any()
    top_left = out[:40, :150]
    assert (np.all(top_left > 240, axis=2)).sum() > 30  # white clock text on a dark panel
    assert (np.all(top_left < 40, axis=2)).sum() > 300


def test_skeleton_draws_both_legs_in_their_colours():
    track = _track(legs={"left": LEFT_LEG, "right": RIGHT_LEG})
    _, out, ov = _draw(track, [], 0, DrawOptions(clock=False))
    assert ov.strikes == ()
    for side, pts in (("left", LEFT_LEG), ("right", RIGHT_LEG)):
        mid = (np.array(pts["hip"]) + np.array(pts["knee"])) / 2
        assert _close(out[int(mid[1]), int(mid[0])], SIDE_RGB[side], 30)


def test_sizes_scale_with_the_picture_and_stay_legible():
    small, big = style_for(360, 640), style_for(2160, 3840)
    assert small.text_height_px >= 8
    assert 4.5 < big.text_height_px / small.text_height_px < 7.5
    assert big.line_px >= 5 * small.line_px
    text = "frame 359   t = 11.967 s"
    assert text_size(text, small)[0] < 0.6 * 360  # the clock fits across a small portrait frame


def test_unseen_points_are_skipped_not_drawn_at_zero():
    track = _track(legs={"right": {"knee": (200, 300)}})  # no ankle
    _, out, _ = _draw(track, [{"foot": "right", "ic_frame": 0, "shin_angle_deg": 3.0}], 0, DrawOptions(clock=False))
    assert not out[:20, :20].any()


def test_frame_outside_the_track_is_an_error():
    track = _track(n_frames=3)
    with pytest.raises(IndexError):
        overlay_for_frame(track, [], 3, "right")
    assert isinstance(overlay_for_frame(track, [], 2, -1), FrameOverlay)
