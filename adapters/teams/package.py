"""The Teams app package: a zip of manifest.json (schema v1.17) and the two icons Teams requires
(color.png 192×192, outline.png 32×32 white on transparent). Upload it in Teams (Apps → Manage
your apps → Upload an app) or in the Teams admin centre.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

MANIFEST_VERSION = "1.17"
MANIFEST_SCHEMA = "https://developer.microsoft.com/en-us/json-schemas/teams/v1.17/MicrosoftTeams.schema.json"
COLOR_SIZE = 192
OUTLINE_SIZE = 32
ACCENT = "#2E6F64"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
# Every zip entry gets this time, so that the same settings always give the same bytes.
_ZIP_TIME = (2026, 1, 1, 0, 0, 0)

# Teams lists at most 10 commands per scope. `all-now` and `resume` are left out of the menu
# (they still work when typed): help lists them, and the pause reply names resume.
COMMANDS = (
    ("help", "What you can write, and who sees your answers"),
    ("status", "Where you are and what comes next"),
    ("now", "Get your next questions now instead of waiting"),
    ("skip", "Leave out the current question"),
    ("pause", "No questions until a date: pause 2027-03-01"),
    ("share", "Add an aha moment for the panel"),
    ("support", "Send a message to your coordinator"),
    ("correct", "Change an earlier answer"),
    ("consent", "Change what the panel may hear"),
    ("export", "Get everything stored about you, as JSON"),
)


def _version() -> str:
    try:
        return metadata.version("reflectbot")
    except metadata.PackageNotFoundError:
        return "0.1.0"


def manifest(
    app_id: str,
    *,
    version: str | None = None,
    name: str = "reflectbot",
    full_name: str = "reflectbot: reflections on your work exchange",
    developer: str = "reflectbot",
    website_url: str = "https://github.com/reflectbot/reflectbot",
    privacy_url: str | None = None,
    terms_url: str | None = None,
    valid_domains: Sequence[str] = (),
    accent_color: str = ACCENT,
) -> dict[str, Any]:
    """The manifest for the bot registered as `app_id` (the Microsoft App ID, a GUID)."""
    if not _GUID.match(app_id or ""):
        raise ValueError(f"the Teams app id must be a GUID (MICROSOFT_APP_ID), not {app_id!r}")
    return {
        "$schema": MANIFEST_SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": version or _version(),
        "id": app_id,
        "developer": {
            "name": developer,
            "websiteUrl": website_url,
            "privacyUrl": privacy_url or website_url,
            "termsOfUseUrl": terms_url or website_url,
        },
        "name": {"short": name, "full": full_name},
        "description": {
            "short": "Reflect on your work exchange: midpoint, panel, final.",
            "full": (
                "reflectbot asks people on a work exchange to reflect: at the midpoint of their stay, "
                "before a shared-learning panel, and at the end. Questions come at your own local hour "
                "on working days, spread over a few days, and quote your own learning goals. Your "
                "programme's coordinators see your answers; a panel hears only what you agree to share. "
                "Write help at any time to see what you can do, and export to get everything stored "
                "about you."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": accent_color,
        "bots": [
            {
                "botId": app_id,
                "scopes": ["personal"],
                "isNotificationOnly": False,
                "supportsFiles": False,
                "commandLists": [
                    {
                        "scopes": ["personal"],
                        "commands": [{"title": t, "description": d} for t, d in COMMANDS],
                    }
                ],
            }
        ],
        "validDomains": list(valid_domains),
    }


def _bubble(draw: ImageDraw.ImageDraw, size: int, fill: Any, outline: Any, width: int) -> None:
    """A speech bubble with three dots: a conversation that asks and listens."""
    m = size * 0.16
    box = (m, m, size - m, size * 0.70)
    radius = size * 0.12
    tail = [(size * 0.30, box[3] - width), (size * 0.26, size * 0.86), (size * 0.46, box[3] - width)]
    draw.rounded_rectangle(box, radius=radius, fill=fill, outline=outline, width=width)
    draw.polygon(tail, fill=fill if fill is not None else outline)
    r = size * 0.045
    y = (box[1] + box[3]) / 2
    for x in (size * 0.35, size * 0.5, size * 0.65):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=outline if fill is None else ACCENT)


def color_icon() -> bytes:
    image = Image.new("RGBA", (COLOR_SIZE, COLOR_SIZE), ACCENT)
    _bubble(ImageDraw.Draw(image), COLOR_SIZE, fill="white", outline="white", width=1)
    return _png(image)


def outline_icon() -> bytes:
    """White on a transparent background, as Teams requires for the outline icon."""
    image = Image.new("RGBA", (OUTLINE_SIZE, OUTLINE_SIZE), (0, 0, 0, 0))
    _bubble(ImageDraw.Draw(image), OUTLINE_SIZE, fill=None, outline=(255, 255, 255, 255), width=2)
    return _png(image)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def build_teams_package(out: Path, app_id: str, **options: Any) -> Path:
    """Write the app package zip to `out`; `options` go to `manifest()` (version, names, URLs)."""
    files = {
        "manifest.json": json.dumps(manifest(app_id, **options), indent=2, ensure_ascii=False).encode(),
        "color.png": color_icon(),
        "outline.png": outline_icon(),
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=_ZIP_TIME), data, zipfile.ZIP_DEFLATED)
    return out
