"""Annotators: draw a frame's overlay (legs, shin angle, overstride, contact banner, clock) on a copy.

``OverlayAnnotator(DrawOptions()).annotate(rgb, overlay) -> new frame``; the input frame
is never changed. Sizes scale with the picture's shorter side so that lines and text
read the same on a 360x640 and a 2160x3840 frame. Colours come from :mod:`vision.palette`.

Conventions drawn (see :mod:`metrics.conventions`): the shin angle is measured at the
knee from the belt's normal (the vertical when the belt is level) to the knee-ankle
line; the overstride is the distance along the belt from the hip's drop line to the
heel. Values printed are the analysis values; the lines are the IC frame's keypoints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from vision.overlay import FrameOverlay, StrikeMark
from vision.palette import OUTLINE_RGB, REFERENCE_RGB, TEXT_RGB, side_rgb

__all__ = ["DrawOptions", "OverlayAnnotator", "Style", "style_for", "format_shin", "format_overstride",
           "draw_label", "text_size", "put_text"]

_FONT = cv2.FONT_HERSHEY_DUPLEX
_AA = cv2.LINE_AA
#: Sub-pixel drawing: coordinates in 1/16 px.
_SHIFT = 4
_SUB = 1 << _SHIFT
#: Bones of the leg drawn as the skeleton (foot as a triangle: ankle, heel, toe).
_LEG_SEGMENTS = (("hip", "knee"), ("knee", "ankle"), ("ankle", "heel"), ("heel", "foot_index"), ("ankle", "foot_index"))
#: Shorter side of the picture the base sizes are tuned for.
_BASE_SIDE_PX = 720.0


@dataclass(frozen=True)
class DrawOptions:
    """Which overlays to draw (each can be switched off) and a size multiplier."""

    skeleton: bool = True
    shin: bool = True
    overstride: bool = True
    contact_banner: bool = True
    clock: bool = True
    scale: float = 1.0


@dataclass(frozen=True)
class Style:
    """Pixel sizes for one picture size."""

    line_px: int
    outline_px: int
    joint_px: int
    font_scale: float
    text_px: int
    pad_px: int
    dash_px: int

    @property
    def text_height_px(self) -> int:
        return cv2.getTextSize("Hg", _FONT, self.font_scale, self.text_px)[0][1]


def style_for(width: int, height: int, scale: float = 1.0) -> Style:
    """Line widths and font size for a ``width`` x ``height`` picture.

    >>> style_for(720, 1280).line_px, style_for(2160, 3840).line_px
    (2, 6)
    """
    s = min(width, height) / _BASE_SIDE_PX * scale
    line = max(1, round(2 * s))
    return Style(
        line_px=line,
        outline_px=line + 2 * max(1, round(0.75 * s)),
        joint_px=max(2, round(3.5 * s)),
        font_scale=max(0.42, 0.62 * s),
        text_px=max(1, round(1.3 * s)),
        pad_px=max(3, round(6 * s)),
        dash_px=max(4, round(9 * s)),
    )


def format_shin(angle_deg: float | None) -> str:
    """``'shin 6.1°'`` (the sign is kept: negative = ankle behind the knee).

    >>> format_shin(6.14), format_shin(-2.0), format_shin(None)
    ('shin 6.1°', 'shin -2.0°', 'shin -')
    """
    return "shin -" if angle_deg is None else f"shin {angle_deg:.1f}°"


def format_overstride(fraction: float | None, cm: float | None = None) -> str:
    """``'overstride 12% leg, 10 cm'``.

    >>> format_overstride(0.123, 10.4), format_overstride(-0.02)
    ('overstride 12% leg, 10 cm', 'overstride -2% leg')
    """
    if fraction is None:
        return "overstride -"
    text = f"overstride {100 * fraction:.0f}% leg"
    return text if cm is None else f"{text}, {cm:.0f} cm"


def _ipt(p) -> tuple[int, int]:
    return int(round(p[0])), int(round(p[1]))


def _ascii(text: str) -> str:
    return text.replace("±", "+/-").replace("\u2212", "-")


def text_size(text: str, st: Style) -> tuple[int, int]:
    """Width and cap height of ``text`` as :func:`put_text` draws it (``°`` drawn as a ring)."""
    parts = _ascii(text).split("°")
    w = sum(cv2.getTextSize(p, _FONT, st.font_scale, st.text_px)[0][0] for p in parts if p)
    h = st.text_height_px
    return w + (len(parts) - 1) * _degree_width(h), h


def _degree_width(h: int) -> int:
    return max(4, round(0.55 * h))


def put_text(img: np.ndarray, text: str, org: tuple[int, int], st: Style, colour) -> None:
    """Write ``text`` with its baseline-left at ``org``. Hershey fonts have no degree sign:
    it is drawn as a small ring (and ``±`` as ``+/-``)."""
    x, y = org
    h = st.text_height_px
    for k, part in enumerate(_ascii(text).split("°")):
        if k:
            r = max(1, round(0.17 * h))
            cv2.circle(img, (x + r + 1, y - h + r), r, colour, max(1, st.text_px // 2 + 1), _AA)
            x += _degree_width(h)
        if part:
            cv2.putText(img, part, (x, y), _FONT, st.font_scale, colour, st.text_px, _AA)
            x += cv2.getTextSize(part, _FONT, st.font_scale, st.text_px)[0][0]


def _panel(img: np.ndarray, x0: int, y0: int, x1: int, y1: int, fill=None) -> tuple[int, int, int, int] | None:
    """Darken (or fill) a rectangle, clipped to the picture; returns the clipped box."""
    hgt, wid = img.shape[:2]
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(wid, x1), min(hgt, y1)
    if x1 <= x0 or y1 <= y0:
        return None
    roi = img[y0:y1, x0:x1]
    if fill is None:
        np.right_shift(roi, 2, out=roi)
    else:
        roi[:] = fill
    return x0, y0, x1, y1


def draw_label(img: np.ndarray, lines: list[str], anchor: tuple[int, int], st: Style, text_colour=TEXT_RGB,
           fill=None, accent=None, align: str = "left") -> tuple[int, int, int, int]:
    """A text block on a panel; ``anchor`` is its top-left (``align='right'``: top-right) corner.

    The block is moved inside the picture. Returns the panel's box.
    """
    sizes = [text_size(t, st) for t in lines]
    h = st.text_height_px
    gap = max(2, h // 2)
    bar = max(2, st.line_px) if accent is not None else 0
    w = max(s[0] for s in sizes) + 2 * st.pad_px + bar
    total_h = len(lines) * h + (len(lines) - 1) * gap + 2 * st.pad_px
    x0 = anchor[0] - w if align == "right" else anchor[0]
    y0 = anchor[1]
    hgt, wid = img.shape[:2]
    x0 = int(min(max(0, x0), max(0, wid - w)))
    y0 = int(min(max(0, y0), max(0, hgt - total_h)))
    _panel(img, x0, y0, x0 + w, y0 + total_h, fill)
    if accent is not None:
        _panel(img, x0, y0, x0 + bar, y0 + total_h, accent)
    y = y0 + st.pad_px + h
    for t in lines:
        put_text(img, t, (x0 + bar + st.pad_px, y), st, text_colour)
        y += h + gap
    return x0, y0, x0 + w, y0 + total_h


def _fx(p) -> np.ndarray:
    """Fixed-point (1/16 px) int32 coordinates for cv2's sub-pixel drawing (``shift=4``)."""
    return np.rint(np.asarray(p, float) * _SUB).astype(np.int32)


def _polylines(img, segments: list, colour, st: Style, width: int | None = None) -> None:
    """Draw segments ``[(p, q), ...]`` over a dark outline, in two cv2 calls."""
    if not segments:
        return
    w = width or st.line_px
    lines = [_fx(seg) for seg in segments]
    cv2.polylines(img, lines, False, OUTLINE_RGB, w + (st.outline_px - st.line_px), _AA, _SHIFT)
    cv2.polylines(img, lines, False, colour, w, _AA, _SHIFT)


def _line(img, p, q, colour, st: Style, width: int | None = None) -> None:
    _polylines(img, [(p, q)], colour, st, width)


def _dashed(img, p, q, colour, st: Style) -> None:
    p, q = np.asarray(p, float), np.asarray(q, float)
    length = float(np.hypot(*(q - p)))
    if length < 1:
        return
    n = max(1, int(length // st.dash_px))
    k = np.arange(0, n, 2)
    a = p + np.outer(k / n, q - p)
    b = p + np.outer(np.minimum(k + 1, n) / n, q - p)
    _polylines(img, list(np.stack([a, b], axis=1)), colour, st, max(1, st.line_px - 1))


def _joints(img, points: list, colour, st: Style, radius: int | None = None) -> None:
    r = radius or st.joint_px
    ring = r + max(1, (st.outline_px - st.line_px) // 2)
    for p in points:
        c = tuple(int(v) for v in _fx(p))
        cv2.circle(img, c, ring * _SUB, OUTLINE_RGB, -1, _AA, _SHIFT)
        cv2.circle(img, c, r * _SUB, colour, -1, _AA, _SHIFT)


def _wedge(img, centre, radius: int, a0_deg: float, a1_deg: float, colour, alpha: float = 0.4) -> None:
    """Fill the circular sector between two angles with a see-through colour (in its bounding box only)."""
    lo, hi = sorted((a0_deg, a1_deg))
    if hi - lo < 0.5:
        return
    c = (int(round(centre[0])), int(round(centre[1])))
    arc = cv2.ellipse2Poly(c, (radius, radius), 0, int(math.floor(lo)), int(math.ceil(hi)), 2)
    poly = np.vstack([np.array([c]), arc]).astype(np.int32)
    x0, y0 = np.maximum(poly.min(axis=0), 0)
    x1, y1 = np.minimum(poly.max(axis=0) + 1, (img.shape[1], img.shape[0]))
    if x1 <= x0 or y1 <= y0:
        return
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(mask, [poly - (x0, y0)], 255)
    roi = img[y0:y1, x0:x1]
    sel = mask.astype(bool)
    roi[sel] = (roi[sel] * (1 - alpha) + np.asarray(colour) * alpha).astype(np.uint8)


def _ring(img, p, radius_px: int, colour, st: Style) -> None:
    c = tuple(int(v) for v in _fx(p))
    cv2.circle(img, c, radius_px * _SUB, OUTLINE_RGB, st.outline_px, _AA, _SHIFT)
    cv2.circle(img, c, radius_px * _SUB, colour, st.line_px, _AA, _SHIFT)


class OverlayAnnotator:
    """Draw a :class:`~vision.overlay.FrameOverlay` on a copy of an RGB frame.

    >>> import numpy as np
    >>> from vision.overlay import FrameOverlay
    >>> img = np.zeros((64, 48, 3), np.uint8)
    >>> out = OverlayAnnotator(DrawOptions(clock=False)).annotate(img, FrameOverlay(0, 0.0, {}, (), 1))
    >>> out is img, bool(out.any())
    (False, False)
    """

    def __init__(self, options: DrawOptions = DrawOptions()):
        self.options = options
        self._styles: dict[tuple[int, int], Style] = {}

    def style(self, width: int, height: int) -> Style:
        key = (width, height)
        if key not in self._styles:
            self._styles[key] = style_for(width, height, self.options.scale)
        return self._styles[key]

    def annotate(self, frame_rgb: np.ndarray, overlay: FrameOverlay) -> np.ndarray:
        """A new frame with the overlay drawn on it."""
        img = np.array(frame_rgb, dtype=np.uint8, copy=True, order="C")
        st = self.style(img.shape[1], img.shape[0])
        o = self.options
        if o.skeleton:
            for side, pts in overlay.legs.items():
                self._leg(img, pts, side_rgb(side), st)
        for m in overlay.strikes:
            colour = side_rgb(m.foot, m.rejected)
            if o.overstride:
                self._overstride(img, m, overlay, colour, st)
            if o.shin:
                self._shin(img, m, overlay, colour, st)
            if m.ic_frame == overlay.frame_index and m.heel is not None:
                _ring(img, m.heel, 4 * st.joint_px, colour, st)
        if o.clock:
            draw_label(img, [f"frame {overlay.frame_index}   t = {overlay.t_s:.3f} s"], (st.pad_px, st.pad_px), st)
        if o.contact_banner:
            self._banners(img, overlay, st)
        return img

    @staticmethod
    def _leg(img, pts: dict, colour, st: Style) -> None:
        segs = [(pts[a], pts[b]) for a, b in _LEG_SEGMENTS if pts.get(a) is not None and pts.get(b) is not None]
        _polylines(img, segs, colour, st)
        _joints(img, [p for p in pts.values() if p is not None], colour, st)

    @staticmethod
    def _shin(img, m: StrikeMark, ov: FrameOverlay, colour, st: Style) -> None:
        if m.knee is None or m.ankle is None:
            return
        knee, ankle = np.asarray(m.knee, float), np.asarray(m.ankle, float)
        shin_len = float(np.hypot(*(ankle - knee)))
        if shin_len < 2:
            return
        a = math.radians(ov.tilt_deg)
        normal = np.array([-math.sin(a), math.cos(a)])  # the belt's normal, pointing down
        radius = max(6, int(0.5 * shin_len))
        a_ref = math.degrees(math.atan2(normal[1], normal[0]))
        a_shin = math.degrees(math.atan2(ankle[1] - knee[1], ankle[0] - knee[0]))
        delta = (a_shin - a_ref + 180) % 360 - 180
        fresh = m.ic_frame == ov.frame_index  # later frames show the contact's lines as a lighter ghost
        _wedge(img, knee, radius, a_ref, a_ref + delta, colour, 0.4 if fresh else 0.2)
        _line(img, knee, knee + 0.85 * shin_len * normal, REFERENCE_RGB, st, width=max(1, st.line_px // 2))
        centre, axes = tuple(int(v) for v in _fx(knee)), (radius * _SUB, radius * _SUB)
        cv2.ellipse(img, centre, axes, 0, a_ref, a_ref + delta, OUTLINE_RGB, st.outline_px, _AA, _SHIFT)
        cv2.ellipse(img, centre, axes, 0, a_ref, a_ref + delta, colour, st.line_px, _AA, _SHIFT)
        if fresh:
            _line(img, knee, ankle, colour, st, width=max(2, round(1.6 * st.line_px)))
            _joints(img, [knee, ankle], colour, st)
        else:
            _dashed(img, knee, ankle, colour, st)
        # value beside the leg, on the side the runner faces, level with the arc
        ahead = max(knee[0] * ov.faces, ankle[0] * ov.faces) * ov.faces
        x = ahead + ov.faces * (st.pad_px + 2 * st.joint_px)
        y = knee[1] + 0.25 * shin_len
        draw_label(img, [format_shin(m.shin_angle_deg)], (int(x), int(y)), st, accent=colour,
               align="left" if ov.faces > 0 else "right")

    @staticmethod
    def _overstride(img, m: StrikeMark, ov: FrameOverlay, colour, st: Style) -> None:
        if m.hip is None or m.heel is None:
            return
        hip, heel = np.asarray(m.hip, float), np.asarray(m.heel, float)
        a = math.radians(ov.tilt_deg)
        along = np.array([math.cos(a), math.sin(a)])
        normal = np.array([-math.sin(a), math.cos(a)])
        drop = hip + normal * float(np.dot(heel - hip, normal))  # hip's drop line at heel level
        _dashed(img, hip, drop, REFERENCE_RGB, st)
        cv2.drawMarker(img, _ipt(hip), REFERENCE_RGB, cv2.MARKER_CROSS, 4 * st.joint_px, st.line_px, _AA)
        tick = normal * 2.5 * st.joint_px
        _polylines(img, [(drop, heel), (drop - tick, drop + tick), (heel - tick, heel + tick)], colour, st)
        if float(np.dot(heel - drop, along)) == 0:
            return
        text = format_overstride(m.overstride, m.overstride_cm)
        w, _ = text_size(text, st)
        mid = (drop + heel) / 2
        draw_label(img, [text], (int(mid[0] - w / 2 - st.pad_px), int(mid[1] + 3 * st.joint_px)), st, accent=colour)

    @staticmethod
    def _banners(img, ov: FrameOverlay, st: Style) -> None:
        y = st.pad_px
        x = img.shape[1] - st.pad_px
        for m in ov.strikes:
            colour = side_rgb(m.foot, m.rejected)
            title = m.label.replace(" ", "  ") + ("  rejected" if m.rejected else "") + ("  edited" if m.edited else "")
            box = draw_label(img, [title], (x, y), st, text_colour=OUTLINE_RGB, fill=colour, align="right")
            y = box[3] + st.pad_px // 2
