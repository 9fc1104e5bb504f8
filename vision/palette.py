"""The colours of gaitscope's drawings, written once (video overlays, browser canvas, report plots).

Left and right come from the Okabe-Ito palette (Okabe and Ito 2008), chosen to stay
distinct for the common colour-vision deficiencies: sky blue for the left leg,
orange for the right. Both are light, so they read on the dark parts of a frame;
every line is drawn over a dark outline so it also reads on a light treadmill.

>>> SIDE_RGB["left"], side_hex("right")
((86, 180, 233), '#E69F00')
"""

from __future__ import annotations

__all__ = ["SIDE_RGB", "REJECTED_RGB", "REFERENCE_RGB", "OUTLINE_RGB", "TEXT_RGB", "PANEL_RGB",
           "side_rgb", "side_hex", "side_letter", "rgb_hex"]

#: Leg colours by body side (RGB).
SIDE_RGB = {"left": (86, 180, 233), "right": (230, 159, 0)}
#: Strikes a person rejected: drawn, but greyed out.
REJECTED_RGB = (150, 150, 150)
#: Reference lines (plumb line at the knee, the hip's drop line).
REFERENCE_RGB = (255, 255, 255)
#: Dark outline under every line and marker.
OUTLINE_RGB = (0, 0, 0)
#: Text on dark panels.
TEXT_RGB = (255, 255, 255)
#: Text panels (drawn darkening the picture beneath them).
PANEL_RGB = (16, 16, 16)


def side_rgb(side: str, rejected: bool = False) -> tuple[int, int, int]:
    """Colour of one leg (grey when the strike was rejected)."""
    if rejected:
        return REJECTED_RGB
    try:
        return SIDE_RGB[side]
    except KeyError:
        raise ValueError(f"side must be 'left' or 'right', got {side!r}") from None


def rgb_hex(rgb: tuple[int, int, int]) -> str:
    """``(230, 159, 0) -> '#E69F00'``."""
    return "#{:02X}{:02X}{:02X}".format(*rgb)


def side_hex(side: str) -> str:
    """Colour of one leg as ``#RRGGBB`` (for HTML, canvas and matplotlib)."""
    return rgb_hex(side_rgb(side))


def side_letter(side: str) -> str:
    """``'left' -> 'L'``, ``'right' -> 'R'``."""
    return {"left": "L", "right": "R"}[side]
