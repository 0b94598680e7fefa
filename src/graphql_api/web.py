"""The dashboard (态势感知) at ``/``: the front end built from ``web/`` (``npm run build``) into
``graphql_api/static/``, served as static files next to ``/graphql``.

``mount_dashboard(app)`` adds the mount as the app's last route, so ``/graphql`` and
``/healthz`` keep matching first. The built assets are committed: serving needs no npm.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC = Path(__file__).parent / "static"

NOT_BUILT = ("The dashboard is not built: run `npm ci && npm run build` in web/ "
             "(it writes src/graphql_api/static/). The API is at /graphql.")


# The page loads only its own scripts and styles and talks only to its own origin.
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; "
                               "form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def headers(image_sources: Sequence[str] = ()) -> dict[str, str]:
    """The headers above, the policy also allowing images from ``image_sources`` (origins:
    the map's tile server, ``GRIDCORE_MAP_TILES``)."""
    if not image_sources:
        return dict(HEADERS)
    extra = " ".join(image_sources)
    policy = HEADERS["Content-Security-Policy"].replace("img-src 'self' data:",
                                                       f"img-src 'self' data: {extra}")
    return {**HEADERS, "Content-Security-Policy": policy}


def tile_origin(template: str) -> str | None:
    """The origin (scheme://host[:port]) of a tile URL template, or None without one; a
    ``{s}`` subdomain placeholder becomes a wildcard."""
    if not template:
        return None
    parts = urlsplit(template.replace("{s}", "*"))
    return f"{parts.scheme}://{parts.netloc}"


class DashboardFiles(StaticFiles):
    """Static files with the headers above; hashed assets are cached for good, the page never."""

    def __init__(self, *args: Any, image_sources: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.headers = headers(image_sources)

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(self.headers)
        response.headers["Cache-Control"] = ("public, max-age=31536000, immutable"
                                             if path.startswith("assets/") else "no-cache")
        return response


def dashboard_built(directory: Path = STATIC) -> bool:
    return (directory / "index.html").is_file()


def mount_dashboard(app: Starlette, directory: Path = STATIC,
                    image_sources: Sequence[str] = ()) -> Starlette:
    """Serve the built dashboard at ``/`` (``index.html`` for a directory), its images also
    allowed from ``image_sources``; without a build, ``/`` answers 404 with how to build it.
    Returns ``app``."""
    if dashboard_built(directory):
        app.mount("/", DashboardFiles(directory=directory, html=True,
                                      image_sources=image_sources), name="dashboard")
    else:
        async def not_built(request: Request) -> Response:
            return PlainTextResponse(NOT_BUILT, status_code=404)

        app.router.routes.append(Route("/", not_built, methods=["GET", "HEAD"]))
    return app
