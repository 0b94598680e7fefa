"""The dashboard (态势感知) at ``/``: the front end built from ``web/`` (``npm run build``) into
``graphql_api/static/``, served as static files next to ``/graphql``.

``mount_dashboard(app)`` adds the mount as the app's last route, so ``/graphql`` and
``/healthz`` keep matching first. The built assets are committed: serving needs no npm.
"""

from __future__ import annotations

from pathlib import Path

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


class DashboardFiles(StaticFiles):
    """Static files with the headers above; hashed assets are cached for good, the page never."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(HEADERS)
        response.headers["Cache-Control"] = ("public, max-age=31536000, immutable"
                                             if path.startswith("assets/") else "no-cache")
        return response


def dashboard_built(directory: Path = STATIC) -> bool:
    return (directory / "index.html").is_file()


def mount_dashboard(app: Starlette, directory: Path = STATIC) -> Starlette:
    """Serve the built dashboard at ``/`` (``index.html`` for a directory); without a build,
    ``/`` answers 404 with how to build it. Returns ``app``."""
    if dashboard_built(directory):
        app.mount("/", DashboardFiles(directory=directory, html=True), name="dashboard")
    else:
        async def not_built(request: Request) -> Response:
            return PlainTextResponse(NOT_BUILT, status_code=404)

        app.router.routes.append(Route("/", not_built, methods=["GET", "HEAD"]))
    return app
