"""The font for text in our pictures (storyboards, usage charts): one that has Chinese glyphs.

Members write prompts and have names in any script; Pillow's built-in font draws Chinese as empty boxes.
The first CJK font found in the usual places is used (the Docker image and CI install Debian's
fonts-wqy-microhei); without one, the built-in font, and one warning in the log saying what to install.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

from PIL import ImageFont

log = logging.getLogger("bot.media.fonts")

CJK_FONT_PATHS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),  # Debian/Ubuntu: fonts-wqy-microhei
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),  # Debian/Ubuntu: fonts-noto-cjk
    Path("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc"),  # Fedora, Arch
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/System/Library/Fonts/PingFang.ttc"),  # macOS, for a developer's machine
)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@functools.cache
def cjk_font_path() -> Path | None:
    found = next((path for path in CJK_FONT_PATHS if path.is_file()), None)
    if found is None:
        log.warning("no CJK font found (looked in %s): Chinese text in pictures will show as boxes; "
                    "install fonts-wqy-microhei", ", ".join(str(p.parent) for p in CJK_FONT_PATHS[:2]))
    return found


@functools.cache
def text_font(size: int) -> Font:
    """A font of `size` pixels that draws Latin and Chinese (cached: loading a .ttc costs ~10 ms)."""
    path = cjk_font_path()
    if path is not None:
        try:
            return ImageFont.truetype(str(path), size)
        except OSError as exc:
            log.warning("cannot load the font %s (%s); using the built-in one", path, exc)
    return ImageFont.load_default(size=size)
