"""Still images of the contacts: one annotated PNG per contact frame and a contact sheet per
foot (a grid of crops around the leg at each contact, labelled with strike number, time
and shin angle). Also the caption strip of the strikes-only clip.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np

from metrics.landmarks import SIDES
from ui.export import (ExportError, ExportSource, ProgressFn, _prefetched, _Progress, atomic_write_bytes)
from vision.draw import DrawOptions, OverlayAnnotator, Style, draw_label, format_shin, put_text, style_for, text_size
from vision.overlay import StrikeMark, overlay_for_frame
from vision.palette import OUTLINE_RGB, PANEL_RGB, TEXT_RGB, side_rgb, side_letter
from vision.video import iter_frames

__all__ = ["caption_bar", "contact_crop_box", "contact_sheet", "contact_sheets", "export_contacts", "png_bytes",
           "SHEET_CELL_PX"]

#: Contact-sheet cell (width, height) in pixels, portrait like the leg.
SHEET_CELL_PX = (240, 320)
_SHEET_COLUMNS = 6


def png_bytes(rgb: np.ndarray, compression: int = 3) -> bytes:
    """PNG of an RGB image (zlib level ``compression``: 3 is fast and near the smallest)."""
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, compression])
    if not ok:
        raise ExportError("could not encode a PNG image")
    return buf.tobytes()


def _wrap(parts: Sequence[str], st: Style, width_px: int) -> list[str]:
    lines: list[str] = []
    for part in parts:
        if lines and text_size(lines[-1] + "   " + part, st)[0] <= width_px:
            lines[-1] += "   " + part
        else:
            lines.append(part)
    return lines


def caption_bar(img: np.ndarray, caption: str, annotator: OverlayAnnotator) -> np.ndarray:
    """Write ``caption`` (parts separated by three spaces) on a dark strip at the bottom of ``img``
    (in place; returns ``img``). Long captions wrap."""
    st = annotator.style(img.shape[1], img.shape[0])
    lines = _wrap(caption.split("   "), st, img.shape[1] - 4 * st.pad_px)
    h = st.text_height_px
    block_h = len(lines) * h + (len(lines) - 1) * max(2, h // 2) + 2 * st.pad_px
    draw_label(img, lines, (0, img.shape[0] - block_h), st)
    return img


def contact_crop_box(mark: StrikeMark, size: tuple[int, int], aspect_wh: float = 3 / 4) -> tuple[int, int, int, int]:
    """``(x0, y0, x1, y1)``: a box around the striking leg (hip to toe) with room for the labels.

    Falls back to the picture's lower half centre when the leg was not seen.
    """
    w, h = size
    pts = [p for p in (mark.hip, mark.knee, mark.ankle, mark.heel, mark.toe) if p is not None]
    if len(pts) >= 2:
        a = np.asarray(pts, float)
        x0, y0 = a.min(axis=0)
        x1, y1 = a.max(axis=0)
        leg = max(y1 - y0, x1 - x0, 0.1 * min(w, h))
        x0, x1 = x0 - 0.45 * leg, x1 + 0.45 * leg
        y0, y1 = y0 - 0.15 * leg, y1 + 0.3 * leg
    else:
        x0, x1, y0, y1 = 0.1 * w, 0.9 * w, 0.4 * h, h
    bw, bh = x1 - x0, y1 - y0
    if bw / bh < aspect_wh:
        bw = bh * aspect_wh
    else:
        bh = bw / aspect_wh
    bw, bh = min(bw, w), min(bh, h)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    x0 = int(round(min(max(0, cx - bw / 2), w - bw)))
    y0 = int(round(min(max(0, cy - bh / 2), h - bh)))
    return x0, y0, x0 + int(round(bw)), y0 + int(round(bh))


def _cell(annotated: np.ndarray, mark: StrikeMark) -> np.ndarray:
    h, w = annotated.shape[:2]
    x0, y0, x1, y1 = contact_crop_box(mark, (w, h), SHEET_CELL_PX[0] / SHEET_CELL_PX[1])
    crop = annotated[y0:y1, x0:x1]
    return cv2.resize(crop, SHEET_CELL_PX, interpolation=cv2.INTER_AREA)


def contact_sheet(side: str, cells: Sequence[tuple[StrikeMark, np.ndarray]], title: str | None = None) -> np.ndarray:
    """Grid of contact cells of one foot, each captioned ``#n  t s`` / ``shin x°``, on a dark page."""
    st = style_for(720, 720)
    h_txt = st.text_height_px
    cw, ch = SHEET_CELL_PX
    gap = st.pad_px * 2
    cap_h = 2 * h_txt + 3 * st.pad_px
    cols = max(1, min(_SHEET_COLUMNS, len(cells)))
    rows = max(1, math.ceil(len(cells) / cols))
    head_h = h_txt + 4 * st.pad_px
    width = cols * cw + (cols + 1) * gap
    height = head_h + rows * (ch + cap_h + gap) + gap
    page = np.empty((height, width, 3), np.uint8)
    page[:] = PANEL_RGB
    colour = side_rgb(side)
    cv2.rectangle(page, (0, 0), (width - 1, head_h - 1), colour, -1)
    title = title or f"{side.capitalize()} foot: {len(cells)} contacts"
    draw_label(page, [title], (gap - st.pad_px, st.pad_px), st, text_colour=OUTLINE_RGB, fill=colour)
    for k, (m, img) in enumerate(cells):
        r, c = divmod(k, cols)
        x = gap + c * (cw + gap)
        y = head_h + gap + r * (ch + cap_h + gap)
        page[y:y + ch, x:x + cw] = img
        edge = side_rgb(side, m.rejected)
        cv2.rectangle(page, (x - 1, y - 1), (x + cw, y + ch), edge, max(1, st.line_px // 2))
        first = f"{side_letter(side)} #{m.number}   t = {m.ic_time_s:.2f} s"
        second = format_shin(m.shin_angle_deg) + ("   rejected" if m.rejected else "")
        ty = y + ch + st.pad_px + h_txt
        for line in (first, second):
            put_text(page, line, (x, ty), st, TEXT_RGB if not m.rejected else edge)
            ty += h_txt + st.pad_px
    return page


def contact_sheets(src: ExportSource, options: DrawOptions = DrawOptions(clock=False, contact_banner=False),
                   on_progress: ProgressFn | None = None,
                   on_contact: Callable[[StrikeMark, np.ndarray], None] | None = None) -> dict[str, np.ndarray]:
    """One pass over the contact frames: a sheet per foot that has strikes.

    ``on_contact(mark, full_annotated_frame)`` is called for every contact frame (with the
    clock and banner drawn) so the caller can save it without decoding twice.
    """
    marks = src.marks(hold_s=0.0)
    if not marks:
        return {}
    by_frame: dict[int, list[StrikeMark]] = {}
    for m in marks:
        by_frame.setdefault(m.ic_frame, []).append(m)
    first, last = min(by_frame), max(by_frame) + 1
    prog = _Progress(on_progress, last - first)
    cell_ann = OverlayAnnotator(options)
    full_ann = OverlayAnnotator(DrawOptions(**{**options.__dict__, "clock": True, "contact_banner": True}))
    cells: dict[str, list[tuple[StrikeMark, np.ndarray]]] = {s: [] for s in SIDES}
    for fr in _prefetched(iter_frames(src.info, first, last)):
        for m in by_frame.get(fr.index, ()):
            ov = overlay_for_frame(src.track, [m], fr.index, src.faces, src.tilt_deg)
            cells[m.foot].append((m, _cell(cell_ann.annotate(fr.rgb, ov), m)))
            if on_contact is not None:
                on_contact(m, full_ann.annotate(fr.rgb, ov))
        prog.step()
    sheets = {}
    for side, items in cells.items():
        if items:
            items.sort(key=lambda x: x[0].ic_frame)
            shins = [m.shin_angle_deg for m, _ in items if not m.rejected and m.shin_angle_deg is not None]
            title = f"{side.capitalize()} foot: {len(items)} contacts"
            if len(shins) >= 2:
                title += f"   shin {np.mean(shins):.1f}° ± {np.std(shins, ddof=1):.1f}°"
            sheets[side] = contact_sheet(side, items, title)
    return sheets


def export_contacts(src: ExportSource, out_dir: str | os.PathLike, on_progress: ProgressFn | None = None,
                    options: DrawOptions = DrawOptions(clock=False, contact_banner=False)) -> list[Path]:
    """``contacts/strike_NN_L_fFFFF.png`` for every contact and ``contact_sheet_{left,right}.png``."""
    out = Path(out_dir)
    written: list[Path] = []

    def save(m: StrikeMark, img: np.ndarray) -> None:
        name = f"strike_{m.number:02d}_{side_letter(m.foot)}_f{m.ic_frame:05d}.png"
        written.append(atomic_write_bytes(out / "contacts" / name, png_bytes(img)))

    try:
        sheets = contact_sheets(src, options, on_progress, save)
        for side, page in sheets.items():
            written.append(atomic_write_bytes(out / f"contact_sheet_{side}.png", png_bytes(page)))
    except BaseException:
        for p in written:  # all or nothing: a cancelled export leaves no half set of stills
            p.unlink(missing_ok=True)
        raise
    return written
