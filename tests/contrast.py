"""WCAG 2.1 contrast from colours as CSS writes them, and the rules of a stylesheet."""

from __future__ import annotations

import re
from pathlib import Path

WHITE = (255.0, 255.0, 255.0)
AA_NORMAL_TEXT = 4.5

_HEX = re.compile(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})\b")
_FUNCTION = re.compile(r"rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:[\s,/]+([\d.]+%?))?\s*\)")
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_COMMENT = re.compile(r"/\*.*?\*/", re.S)

Colour = tuple[float, float, float]


def parse_colour(text: str, under: Colour = WHITE) -> Colour | None:
    """The colour `text` shows over `under` (an alpha is blended in), or None if it names none."""
    found = _FUNCTION.search(text)
    if found:
        red, green, blue = (float(found[n]) for n in (1, 2, 3))
        alpha_text = found[4] or "1"
        alpha = float(alpha_text[:-1]) / 100 if alpha_text.endswith("%") else float(alpha_text)
        return tuple(  # type: ignore[return-value]
            alpha * mine + (1 - alpha) * theirs
            for mine, theirs in zip((red, green, blue), under, strict=True)
        )
    found = _HEX.search(text)
    if found:
        digits = found[1] if len(found[1]) == 6 else "".join(c * 2 for c in found[1])
        return tuple(float(int(digits[i : i + 2], 16)) for i in (0, 2, 4))  # type: ignore[return-value]
    return None


def relative_luminance(colour: Colour) -> float:
    def channel(value: float) -> float:
        value /= 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(value) for value in colour)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: Colour, second: Colour) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def stylesheet_rules(path: Path) -> list[tuple[str, dict[str, str]]]:
    """Each rule of the stylesheet as (selector, {property: value}); @media wrappers dropped."""
    text = _COMMENT.sub("", path.read_text())
    rules = []
    for selector, body in _RULE.findall(text):
        declarations = {}
        for declaration in body.split(";"):
            name, colon, value = declaration.partition(":")
            if colon:
                declarations[name.strip()] = value.strip()
        rules.append((" ".join(selector.split()), declarations))
    return rules
