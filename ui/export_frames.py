"""Still images of the contacts: one annotated PNG per contact frame and a contact sheet per
foot (a grid of crops around the leg at each contact, labelled with strike number, time
and shin angle). Also the caption strip of the strikes-only clip.
"""

from __future__ import annotations

import math
import os
from contextlib import closing
from dataclasses import replace
from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np

from metrics.landmarks import SIDES
from ui.export import (ExportError, ExportSource, ProgressFn, Progress, atomic_write_bytes)
from vision.draw import DrawOptions, OverlayAnnotator, Style, draw_label, format_shin, put_text, style_for, text_size
from vision.overlay import StrikeMark, overlay_for_frame
from vision.palette import OUTLINE_RGB, PANEL_RGB, TEXT_RGB, side_rgb, side_letter
from vision.video import iter_frames, prefetch

__all__ = ["caption_bar", "contact_crop_box", "crop_height_px", "contact_sheet", "contact_sheets", "contact_cells",
           "sheet_title", "export_contacts", "png_bytes", "jpeg_bytes",
           "SHEET_CELL_PX"]

#: Contact-sheet cell (width, height) in pixels, portrait like the leg.
SHEET_CELL_PX = (240, 320)
_SHEET_COLUMNS = 6


def png_bytes(rgb: np.ndarray, compression: int = 1) -> bytes:
    """PNG of an RGB image (zlib level ``compression``: 1 is the fastest, about 10 % larger than 3)."""
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, compression])
    if not ok:
        raise ExportError("could not encode a PNG image")
    return buf.tobytes()


def jpeg_bytes(rgb: np.ndarray, quality: int = 85) -> bytes:
    """JPEG of an RGB image (for pictures embedded in the report)."""
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ExportError("could not encode a JPEG image")
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


def _leg_extent(mark: StrikeMark) -> np.ndarray | None:
    pts = [p for p in (mark.hip, mark.knee, mark.ankle, mark.heel, mark.toe) if p is not None]
    return np.asarray(pts, float) if len(pts) >= 2 else None


def crop_height_px(marks: Sequence[StrikeMark], size: tuple[int, int]) -> int:
    """One crop height for a whole sheet (so every cell has the same scale): 1.5 x the median
    hip-to-foot height of the contacts, at most the picture's height."""
    heights = [float(np.ptp(a[:, 1])) for m in marks if (a := _leg_extent(m)) is not None]
    h = 1.5 * float(np.median(heights)) if heights else 0.6 * size[1]
    return int(min(size[1], max(h, 0.1 * size[1])))


def contact_crop_box(mark: StrikeMark, size: tuple[int, int], aspect_wh: float = 3 / 4,
                     height_px: int | None = None) -> tuple[int, int, int, int]:
    """``(x0, y0, x1, y1)``: a box of ``height_px`` (default: 1.5 x this leg's height) centred on the
    striking leg, inside the picture. Falls back to the lower middle when the leg was not seen."""
    w, h = size
    a = _leg_extent(mark)
    if height_px is None:
        height_px = crop_height_px([mark], size)
    bh = float(min(h, height_px))
    bw = min(float(w), bh * aspect_wh)
    bh = min(bh, bw / aspect_wh)
    if a is not None:
        cx, cy = (a.min(axis=0) + a.max(axis=0)) / 2
        cy += 0.05 * bh  # a little more room under the foot for the overstride label
    else:
        cx, cy = w / 2, h - bh / 2
    x0 = int(round(min(max(0.0, cx - bw / 2), w - bw)))
    y0 = int(round(min(max(0.0, cy - bh / 2), h - bh)))
    return x0, y0, x0 + int(round(bw)), y0 + int(round(bh))


def _cell(annotated: np.ndarray, mark: StrikeMark, height_px: int) -> np.ndarray:
    h, w = annotated.shape[:2]
    x0, y0, x1, y1 = contact_crop_box(mark, (w, h), SHEET_CELL_PX[0] / SHEET_CELL_PX[1], height_px)
    crop = annotated[y0:y1, x0:x1]
    return cv2.resize(crop, SHEET_CELL_PX, interpolation=cv2.INTER_AREA)


Cells = dict  # side -> list of (StrikeMark, cell image), in time order


def sheet_title(side: str, items: Sequence[tuple[StrikeMark, np.ndarray]]) -> str:
    """``'Left foot: 17 contacts   shin 6.3° ± 0.6°'`` (mean ± SD over the kept strikes)."""
    shins = [m.shin_angle_deg for m, _ in items if not m.rejected and m.shin_angle_deg is not None]
    title = f"{side.capitalize()} foot: {len(items)} contacts"
    if len(shins) >= 2:
        title += f"   shin {np.mean(shins):.1f}° ± {np.std(shins, ddof=1):.1f}°"
    return title


def contact_sheet(side: str, cells: Sequence[tuple[StrikeMark, np.ndarray]], title: str | None = None,
                  columns: int = _SHEET_COLUMNS, text_scale: float = 1.0) -> np.ndarray:
    """Grid of contact cells of one foot, each captioned ``#n  t s`` / ``shin x°``, on a dark page."""
    st = style_for(720, 720, text_scale)
    h_txt = st.text_height_px
    cw, ch = SHEET_CELL_PX
    gap = max(8, st.pad_px)
    cap_h = 2 * h_txt + 3 * st.pad_px
    cols = max(1, min(columns, len(cells)))
    rows = max(1, math.ceil(len(cells) / cols))
    head_h = h_txt + 4 * st.pad_px
    width = cols * cw + (cols + 1) * gap
    height = head_h + rows * (ch + cap_h + gap) + gap
    page = np.empty((height, width, 3), np.uint8)
    page[:] = PANEL_RGB
    colour = side_rgb(side)
    cv2.rectangle(page, (0, 0), (width - 1, head_h - 1), colour, -1)
    title = title or sheet_title(side, cells)
    draw_label(page, [title], (gap - st.pad_px, st.pad_px), st, text_colour=OUTLINE_RGB, fill=colour)
    for k, (m, img) in enumerate(cells):
        r, c = divmod(k, cols)
        x = gap + c * (cw + gap)
        y = head_h + gap + r * (ch + cap_h + gap)
        page[y:y + ch, x:x + cw] = img
        edge = side_rgb(side, m.rejected)
        cv2.rectangle(page, (x - 1, y - 1), (x + cw, y + ch), edge, 1)
        first = f"{side_letter(side)} #{m.number}   t = {m.ic_time_s:.2f} s"
        second = format_shin(m.shin_angle_deg) + ("   rejected" if m.rejected else "")
        ty = y + ch + st.pad_px + h_txt
        for line in (first, second):
            put_text(page, line, (x, ty), st, TEXT_RGB if not m.rejected else edge)
            ty += h_txt + st.pad_px
    return page


def contact_cells(src: ExportSource, options: DrawOptions = DrawOptions(clock=False, contact_banner=False),
                  on_progress: ProgressFn | None = None,
                  on_contact: Callable[[StrikeMark, np.ndarray], None] | None = None) -> Cells:
    """One decode pass over the contact frames: the crop around the leg at every contact, per foot.

    All crops of a clip share one scale. ``on_contact(mark, full_annotated_frame)`` is called for
    every contact frame (clock and banner drawn) so the caller can save it without decoding again.
    """
    marks = src.marks(hold_s=0.0)
    cells: Cells = {s: [] for s in SIDES}
    if not marks:
        return cells
    by_frame: dict[int, list[StrikeMark]] = {}
    for m in marks:
        by_frame.setdefault(m.ic_frame, []).append(m)
    first, last = min(by_frame), max(by_frame) + 1
    crop_h = crop_height_px(marks, (src.info.width, src.info.height))
    prog = Progress(on_progress, last - first)
    cell_ann = OverlayAnnotator(options)
    full_ann = OverlayAnnotator(replace(options, clock=True, contact_banner=True))
    with closing(prefetch(iter_frames(src.info, first, last))) as frames:
        for fr in frames:
            for m in by_frame.get(fr.index, ()):
                ov = overlay_for_frame(src.track, [m], fr.index, src.faces, src.tilt_deg)
                cells[m.foot].append((m, _cell(cell_ann.annotate(fr.rgb, ov), m, crop_h)))
                if on_contact is not None:
                    on_contact(m, full_ann.annotate(fr.rgb, ov))
            prog.step()
    for items in cells.values():
        items.sort(key=lambda x: x[0].ic_frame)
    return cells


def contact_sheets(cells: Cells) -> dict[str, np.ndarray]:
    """A sheet per foot that has contacts."""
    return {side: contact_sheet(side, items) for side, items in cells.items() if items}


def export_contacts(src: ExportSource, out_dir: str | os.PathLike, on_progress: ProgressFn | None = None,
                    options: DrawOptions = DrawOptions(clock=False, contact_banner=False),
                    cells_out: Cells | None = None) -> list[Path]:
    """``contacts/strike_NN_L_fFFFFF.png`` for every contact and ``contact_sheet_{left,right}.png``.

    ``cells_out``, when given, receives the crops (for the report) so they need no second decode.
    """
    out = Path(out_dir)
    written: list[Path] = []

    def save(m: StrikeMark, img: np.ndarray) -> None:
        name = f"strike_{m.number:02d}_{side_letter(m.foot)}_f{m.ic_frame:05d}.png"
        written.append(atomic_write_bytes(out / "contacts" / name, png_bytes(img)))

    try:
        cells = contact_cells(src, options, on_progress, save)
        for side, page in contact_sheets(cells).items():
            written.append(atomic_write_bytes(out / f"contact_sheet_{side}.png", png_bytes(page)))
    except BaseException:
        for p in written:  # all or nothing: a cancelled export leaves no half set of stills
            p.unlink(missing_ok=True)
        raise
    if cells_out is not None:
        cells_out.update(cells)
    return written
