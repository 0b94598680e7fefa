"""Grid boundaries (网格边界) as GeoJSON files: import a FeatureCollection, export a subtree's.

A file is a GeoJSON FeatureCollection (RFC 7946), one file per level or one for all levels:
each feature is a node, its code in a property (``code``, ``编码`` or ``网格编码``; another name
with ``code_property``), its geometry a Polygon or MultiPolygon. Coordinates are longitude,
latitude in the system the file says or the caller gives:

- a top-level ``"crs"`` member naming the system as a string: ``{"crs": "gcj02", ...}``
  (``wgs84``, ``gcj02``, ``bd09``, or a map's name: ``gaode``, ``tencent``, ``baidu``);
- or the old GeoJSON (2008) crs object ``{"type": "name", "properties": {"name": ...}}``,
  whose name is one of those, or ``EPSG:4326``/``urn:ogc:def:crs:OGC:1.3:CRS84`` (WGS-84).

A file that says nothing needs the caller's ``crs`` (the CLI's ``--crs``): RFC 7946 says
WGS-84, but files drawn on 高德/腾讯/百度 maps routinely are not, so the system is never
guessed. A file and a caller that disagree are refused. Every bad feature (its index from 0,
its code, what is wrong) is reported before anything is written; the command then draws the
whole batch or nothing (``GridcoreApp.draw_boundaries``).

An export writes the boundaries of a subtree (as they are, or as they were at a time) in a
chosen system, with the ``"crs"`` member set, so it imports again as it is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from gridcore.application import GridcoreApp
from gridcore.authority import Actor
from gridcore.errors import GridcoreError, InvalidInput
from gridcore.geo import Area, Crs, parse_area, parse_crs
from gridcore.grid_commands import BoundaryReport

CODE_PROPERTIES = ("code", "编码", "网格编码")
"""The properties a feature's node code is read from, first found wins."""
MAX_FILE_BYTES = 200 * 1024 * 1024
_WGS84_NAMES = {"epsg4326", "urn:ogc:def:crs:ogc:1.3:crs84", "urn:ogc:def:crs:epsg::4326",
                "crs84", "ogc:crs84"}


class BoundaryFileError(InvalidInput):
    """The file cannot be read as a FeatureCollection at all (nothing was drawn)."""


@dataclass(frozen=True)
class FeatureError:
    """A feature that cannot be drawn: its ``index`` in the file (from 0), its code (empty
    when it has none) and what is wrong and what would be right."""

    index: int
    code: str
    message: str


@dataclass
class BoundaryFile:
    """A file's features (code and WGS-84 area, in file order), the bad ones and the system
    the coordinates were given in."""

    crs: Crs
    features: list[tuple[str, Area]] = field(default_factory=list)
    errors: list[FeatureError] = field(default_factory=list)


def declared_crs(collection: Mapping[str, Any]) -> Crs | None:
    """The system a FeatureCollection's top-level ``crs`` member names (None: it has none)."""
    if "crs" not in collection:
        return None
    value = collection["crs"]
    name: Any = value
    if isinstance(value, Mapping):
        props = value.get("properties")
        name = props.get("name") if isinstance(props, Mapping) else None
    if not isinstance(name, str) or not name.strip():
        raise BoundaryFileError(f"The file's crs member {json.dumps(value)[:80]} names no "
                                "system.", 'Write "crs": "wgs84", "gcj02" or "bd09", or leave '
                                "it out and give the system with --crs.")
    if name.strip().lower().replace("-", "").replace(":", "") in \
            {n.replace("-", "").replace(":", "") for n in _WGS84_NAMES}:
        return Crs.WGS84
    try:
        return parse_crs(name.rsplit(":", 1)[-1] if name.lower().startswith("urn:") else name)
    except InvalidInput as e:
        raise BoundaryFileError(f"The file's crs member names {name[:60]!r}, a system gridcore "
                                "does not convert.", e.remedy) from None


def read_boundaries(collection: Any, crs: Crs | None = None,
                    code_property: str | None = None) -> BoundaryFile:
    """The features of a parsed GeoJSON FeatureCollection, each bad one reported."""
    if not isinstance(collection, Mapping) or collection.get("type") != "FeatureCollection" \
            or not isinstance(collection.get("features"), list):
        raise BoundaryFileError("The file is not a GeoJSON FeatureCollection.",
                                'Give {"type": "FeatureCollection", "features": [...]}, one '
                                "feature per grid node.")
    stated = declared_crs(collection)
    if stated is not None and crs is not None and stated is not crs:
        raise BoundaryFileError(f"The file says its coordinates are {stated.label} but "
                                f"{crs.label} was given.",
                                "Give the system the file was drawn in (or leave --crs out).")
    used = crs or stated
    if used is None:
        raise BoundaryFileError("The file does not say which coordinate system it is in.",
                                "Give --crs wgs84 (GPS, 天地图), gcj02 (高德, 腾讯) or bd09 "
                                '(百度), or add "crs": "gcj02" (say) at the top of the file.')
    names = (code_property,) if code_property else CODE_PROPERTIES
    out = BoundaryFile(crs=used)
    for index, feature in enumerate(collection["features"]):
        code, message = "", ""
        if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
            out.errors.append(FeatureError(index, "", "This is not a GeoJSON Feature. Give "
                                           '{"type": "Feature", "properties": {"code": ...}, '
                                           '"geometry": {...}}.'))
            continue
        props = feature.get("properties")
        raw = next((props[n] for n in names if isinstance(props, Mapping)
                    and props.get(n) not in (None, "")), None)
        if isinstance(raw, (str, int)) and not isinstance(raw, bool) and str(raw).strip():
            code = str(raw).strip()
        else:
            message = (f"The feature has no node code. Put the grid node's code in the property "
                       f"{' or '.join(repr(n) for n in names)}.")
        try:
            area = parse_area(feature.get("geometry") or {}, used,
                              what=f"boundary of {code or 'the feature'}")
        except GridcoreError as e:
            message = f"{message} {e}".strip()
        if message:
            out.errors.append(FeatureError(index, code, message))
        else:
            out.features.append((code, area))
    if not out.errors and not out.features:
        raise BoundaryFileError("The file holds no features.", "Give one feature per node.")
    return out


def load_boundary_file(path: Path, crs: Crs | None = None,
                       code_property: str | None = None) -> BoundaryFile:
    """``read_boundaries`` of a file (UTF-8 JSON)."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise BoundaryFileError(f"{path.name} is larger than {MAX_FILE_BYTES >> 20} MB.",
                                    "Split it, one file per level or per district.")
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise BoundaryFileError(f"{path.name} cannot be read as JSON: {e}.",
                                "Give a GeoJSON file in UTF-8.") from None
    return read_boundaries(data, crs, code_property)


@dataclass
class BoundaryImport:
    """The file as read, and the report of the batch drawn (None when the file had bad
    features and nothing was drawn)."""

    file: BoundaryFile
    report: BoundaryReport | None = None


def import_boundaries(app: GridcoreApp, path: Path, *, by: Actor, crs: Crs | None = None,
                      strict: bool = False, code_property: str | None = None
                      ) -> BoundaryImport:
    """Draw a file's boundaries, all or nothing: nothing when any feature is bad
    (``file.errors``); else the command's report, or its refusal (``BoundariesRefused``)."""
    read = load_boundary_file(path, crs, code_property)
    if read.errors:
        return BoundaryImport(read)
    report = app.draw_boundaries(read.features, read.crs, path.name, by=by,
                                 allow_gaps=not strict)
    return BoundaryImport(read, report)


def export_boundaries(app: GridcoreApp, code: str, crs: Crs = Crs.WGS84,
                      as_of: datetime | None = None) -> dict[str, Any]:
    """The boundaries of ``code``'s subtree (now, or at ``as_of``) as a FeatureCollection in
    ``crs``; nodes without a boundary then are left out."""
    return feature_collection(app.boundaries_under(code, as_of), crs)


def feature_collection(nodes: Sequence[tuple[Any, Area]], crs: Crs) -> dict[str, Any]:
    """A FeatureCollection of (node, area) pairs in ``crs``, with the ``crs`` member set."""
    return {"type": "FeatureCollection", "crs": crs.value, "features": [
        {"type": "Feature",
         "properties": {"code": n.code, "name": n.name, "level": n.level.name.lower(),
                        "parent": n.parent_code},
         "geometry": area.to_geojson(crs)} for n, area in nodes]}
