"""Cover art: what an image file really is, and whether Apple will accept it as artwork.

The only module that imports Pillow. Apple Podcasts wants show and episode
art square, 1400 to 3000 pixels a side, JPEG or PNG, in RGB; art a producer
uploads is held to that, while art embedded in an audio file's tags only has
to be a readable JPEG or PNG (it came with the file; refusing the file for it
would help nobody).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError

from ..core.errors import ValidationError

FORMATS = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png")}
MIN_SIDE, MAX_SIDE = 1400, 3000
# Far above any real cover; refuses decompression bombs before Pillow decodes them.
MAX_PIXELS = 50_000_000


@dataclass(frozen=True)
class ImageInfo:
    mime_type: str
    extension: str
    width: int
    height: int


def inspect(path: Path, *, artwork: bool = True) -> ImageInfo:
    """Identify a JPEG or PNG by its bytes; with `artwork`, apply Apple's rules for cover art."""
    try:
        with Image.open(path) as im:
            kind, size, mode = im.format, im.size, im.mode
            if size[0] * size[1] > MAX_PIXELS:
                raise ValidationError(
                    _(
                        "the image is %(width)s×%(height)s pixels, far larger than cover art",
                        width=size[0],
                        height=size[1],
                    )
                )
            im.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise ValidationError(_("the image is not a readable JPEG or PNG file")) from None
    if kind not in FORMATS:
        raise ValidationError(_("the image is %(kind)s; cover art must be JPEG or PNG", kind=kind))
    width, height = size
    if artwork:
        if width != height:
            raise ValidationError(
                _("cover art must be square; this image is %(width)s×%(height)s pixels", width=width, height=height)
            )
        if not MIN_SIDE <= width <= MAX_SIDE:
            raise ValidationError(
                _(
                    "cover art must be %(least)s to %(most)s pixels a side; this image is %(width)s×%(height)s",
                    least=MIN_SIDE,
                    most=MAX_SIDE,
                    width=width,
                    height=height,
                )
            )
        if mode not in ("RGB", "P", "L"):
            raise ValidationError(_("cover art must be in RGB colour; this image is %(mode)s", mode=mode))
    mime, ext = FORMATS[kind]
    return ImageInfo(mime, ext, width, height)


def fit_artwork(path: Path, dest: Path) -> tuple[Path, str]:
    """A copy of a readable image made to Apple's rules: centred on a square of its own average colour,
    scaled to 1400 to 3000 pixels a side, RGB JPEG. For art imported from elsewhere, which the show would
    otherwise lose; returns (the new file, what was done)."""
    info = inspect(path, artwork=False)
    with Image.open(path) as opened:
        im = opened.convert("RGB")
        side = max(im.size)
        target = min(MAX_SIDE, max(MIN_SIDE, side))
        average = im.resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))
        square = Image.new("RGB", (side, side), average)
        square.paste(im, ((side - im.width) // 2, (side - im.height) // 2))
        if target != side:
            square = square.resize((target, target), Image.Resampling.LANCZOS)
        square.save(dest, "JPEG", quality=90)
    return dest, f"cover art {info.width}×{info.height} fitted to {target}×{target}"
