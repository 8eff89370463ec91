"""The members' pictures: small scenes drawn with Pillow (no files to ship, the same on every run)."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw, ImageFilter

SIZE = (640, 400)


def _sky(top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    """A vertical gradient, one line at a time (400 lines: quick)."""
    picture = Image.new("RGB", SIZE)
    draw = ImageDraw.Draw(picture)
    for y in range(SIZE[1]):
        f = y / (SIZE[1] - 1)
        draw.line([(0, y), (SIZE[0], y)], fill=tuple(round(a + (b - a) * f) for a, b in zip(top, bottom, strict=True)))
    return picture


def _jpeg(picture: Image.Image) -> bytes:
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=85)
    return out.getvalue()


def lighthouse() -> bytes:
    """Dusk over the sea, a lighthouse on a rock."""
    picture = _sky((28, 36, 84), (246, 152, 96))
    draw = ImageDraw.Draw(picture)
    draw.ellipse((420, 210, 500, 290), fill=(255, 214, 140))
    draw.rectangle((0, 270, 640, 400), fill=(30, 58, 98))
    for y in range(280, 400, 14):
        draw.line([(0, y), (640, y + 4)], fill=(52, 84, 128), width=2)
    draw.polygon([(60, 400), (120, 250), (250, 240), (300, 400)], fill=(40, 36, 44))
    draw.polygon([(160, 250), (172, 110), (196, 110), (208, 250)], fill=(236, 232, 224))
    for y in (140, 190):
        draw.rectangle((168, y, 204, y + 18), fill=(196, 48, 52))
    draw.rectangle((162, 92, 206, 112), fill=(60, 60, 70))
    draw.polygon([(184, 100), (640, 40), (640, 150)], fill=(255, 240, 180))
    return _jpeg(picture.filter(ImageFilter.SMOOTH))


def sunrise(step: int) -> bytes:
    """Mountains at sunrise; `step` 0, 1, 2 raises the sun and lightens the sky (keyframes)."""
    skies = [((22, 24, 60), (120, 70, 110)), ((60, 80, 150), (250, 150, 110)), ((110, 170, 230), (255, 220, 170))]
    picture = _sky(*skies[step])
    draw = ImageDraw.Draw(picture)
    sun_y = 300 - step * 90
    draw.ellipse((290, sun_y - 40, 370, sun_y + 40), fill=(255, 200 + step * 20, 120 + step * 40))
    draw.polygon([(0, 400), (0, 260), (140, 150), (260, 250), (380, 170), (520, 260), (640, 190), (640, 400)],
                 fill=(44 + step * 12, 56 + step * 16, 84 + step * 10))
    draw.polygon([(0, 400), (0, 330), (200, 270), (420, 340), (640, 290), (640, 400)],
                 fill=(30 + step * 10, 70 + step * 20, 60 + step * 10))
    if step == 2:
        for x, y in ((200, 120), (240, 100), (270, 130)):
            draw.arc((x, y, x + 24, y + 14), 200, 340, fill=(40, 40, 50), width=3)
    return _jpeg(picture.filter(ImageFilter.SMOOTH))


def cat() -> bytes:
    """A round orange cat on a cushion."""
    picture = _sky((70, 60, 90), (150, 110, 120))
    draw = ImageDraw.Draw(picture)
    draw.ellipse((150, 300, 490, 390), fill=(90, 140, 160))
    draw.ellipse((220, 190, 420, 340), fill=(232, 140, 60))
    draw.ellipse((250, 110, 390, 240), fill=(240, 150, 66))
    draw.polygon([(258, 150), (270, 80), (310, 126)], fill=(240, 150, 66))
    draw.polygon([(330, 126), (372, 80), (384, 150)], fill=(240, 150, 66))
    for x in (290, 350):
        draw.ellipse((x - 12, 160, x + 12, 186), fill=(40, 50, 40))
        draw.ellipse((x - 4, 164, x + 4, 176), fill=(240, 240, 220))
    draw.polygon([(312, 196), (328, 196), (320, 206)], fill=(200, 90, 100))
    draw.arc((400, 250, 500, 330), 180, 330, fill=(232, 140, 60), width=18)
    return _jpeg(picture.filter(ImageFilter.SMOOTH))
