// 地图 the map of a node: its sub-grids' boundaries coloured by a chosen figure (coverage of the
// open sweeps, confirmed cases, open items) with a legend; a click on a polygon (or a link in
// the table under the map, its text alternative) drills down to that sub-grid's map; at a
// micro-grid its households are listed beside it. Points for the quarantine sites, cameras
// and checkpoints and the risk zones (三区) are layers to toggle. No tile server by default:
// the polygons lie on a plain background; a deployment's GRIDCORE_MAP_TILES adds tiles.

import * as L from "leaflet";
import "leaflet/dist/leaflet.css";
import { useEffect, useRef, useState } from "preact/hooks";
import { Households } from "./households";
import { mapHref, nodeHref, useQuery } from "./hooks";
import { type Key, type Lang, percent, pick, t } from "./i18n";
import { Problem } from "./node";
import { Scroll } from "./scroll";

interface Props {
  lang: Lang;
  token: string;
  code: string;
  onAuthError: () => void;
}

type Figure = "coverage" | "cases" | "openItems";
const FIGURES: { figure: Figure; key: Key }[] = [
  { figure: "coverage", key: "figCoverage" },
  { figure: "cases", key: "figCases" },
  { figure: "openItems", key: "figOpenItems" },
];

type PointLayer = "quarantine_site" | "camera" | "checkpoint";
type Toggle = PointLayer | "zone";
const POINTS: { layer: PointLayer; key: Key; colour: string }[] = [
  { layer: "quarantine_site", key: "layerSites", colour: "#0a7d32" },
  { layer: "camera", key: "layerCameras", colour: "#5b2b9e" },
  { layer: "checkpoint", key: "layerCheckpoints", colour: "#9a4d00" },
];

/** 三区: a `risk_zone` feature of mapLayers (its `zone` 封控区/管控区/防范区, its `kind` the stored
 * value of gridcore.zoning.Zone) -> its style: sealed red, controlled orange, precaution yellow. */
const ZONES: { kind: string; values: string[]; key: Key; colour: string }[] = [
  { kind: "lockdown", values: ["封控区", "lockdown", "SEALED"], key: "zoneSealed", colour: "#d7191c" },
  { kind: "controlled", values: ["管控区", "controlled", "CONTROLLED"], key: "zoneControlled",
    colour: "#f28e1c" },
  { kind: "precaution", values: ["防范区", "precaution", "PRECAUTION"], key: "zonePrecaution",
    colour: "#f2d024" },
];
const zoneOf = (f: Feature) => ZONES.find(
  (k) => k.values.includes(String(f.properties.zone)) || k.values.includes(String(f.properties.kind)));

/** Five steps per figure, light to dark (ColorBrewer Blues, Reds, Oranges). */
const RAMPS: Record<Figure, string[]> = {
  coverage: ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"],
  cases: ["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"],
  openItems: ["#feedde", "#fdbe85", "#fd8d3c", "#e6550d", "#a63603"],
};
const NO_DATA = "#d0d7de";

interface Feature {
  type: "Feature";
  geometry: GeoJSON.Geometry;
  properties: Record<string, unknown> & { layer: string; code?: string; name?: string };
}

interface MapData {
  node: {
    code: string; name: string; level: string; levelLabel: string;
    ancestors: { code: string; name: string }[];
    children: { code: string; name: string; levelLabel: string }[];
  } | null;
  layers: { type: "FeatureCollection"; features: Feature[] } | null;
  settings: { mapTiles: string | null; mapAttribution: string | null } | null;
}

const MAP = `query Map($code: String!) {
  node: gridNode(code: $code) { code name level levelLabel ancestors { code name }
    children { code name levelLabel } }
  layers: mapLayers(code: $code)
  settings: dashboardSettings { mapTiles mapAttribution }
}`;

interface Area { code: string; name: string; feature: Feature | null; value: number | null }

function valueOf(f: Feature | null, figure: Figure): number | null {
  const v = f?.properties[figure];
  return typeof v === "number" ? v : null;
}

/** The upper bound of the ramp: coverage is a share (0..1), counts go to the largest. */
function top(areas: Area[], figure: Figure): number {
  if (figure === "coverage") return 1;
  return Math.max(1, ...areas.map((a) => a.value ?? 0));
}

function step(value: number, max: number): number {
  return Math.min(4, Math.floor((value / max) * 5));
}

function colour(value: number | null, figure: Figure, max: number): string {
  return value === null ? NO_DATA : RAMPS[figure][step(value, max)];
}

function shown(value: number | null, figure: Figure, lang: Lang): string {
  if (value === null) return t(lang, "noFigure");
  return figure === "coverage" ? percent(value) : String(value);
}

/** The legend: each step of the ramp a value can fall in, with its range as text. */
function bands(figure: Figure, max: number): { step: number; text: string }[] {
  if (figure === "coverage") {
    return [0, 1, 2, 3, 4].map((i) => ({ step: i, text: `${i * 20}–${(i + 1) * 20}%` }));
  }
  const out: { step: number; lo: number; hi: number }[] = [];
  for (let v = 0; v <= max; v++) {  // counts: the whole numbers up to the largest
    const i = step(v, max), last = out[out.length - 1];
    if (last && last.step === i) last.hi = v;
    else out.push({ step: i, lo: v, hi: v });
  }
  return out.map((b) => ({ step: b.step, text: b.lo === b.hi ? String(b.lo) : `${b.lo}–${b.hi}` }));
}

export function MapView(props: Props) {
  const { lang, token, code } = props;
  const q = useQuery<MapData>(token, MAP, { code }, props.onAuthError);
  const [figure, setFigure] = useState<Figure>("coverage");
  const [on, setOn] = useState<Record<Toggle, boolean>>(
    { quarantine_site: true, camera: true, checkpoint: true, zone: true });
  const node = q.data?.node;
  useEffect(() => {
    if (node) document.title = `${t(lang, "openMap")} · ${node.name} · ${t(lang, "title")}`;
  }, [node, lang]);
  if (q.error) return <Problem lang={lang} message={q.error} retry={q.reload} />;
  if (!q.data) return <p role="status">{t(lang, "loading")}</p>;
  if (!node) return <p class="error" role="alert">{t(lang, "notVisible")}</p>;
  const features = q.data.layers?.features ?? [];
  const drawn = new Map(features.filter((f) => f.properties.layer === "boundary")
    .map((f) => [String(f.properties.code), f]));
  const units = node.children.length ? node.children : [{ code: node.code, name: node.name }];
  const areas: Area[] = units.map((c) => {
    const feature = drawn.get(c.code) ?? null;
    return { code: c.code, name: c.name, feature, value: valueOf(feature, figure) };
  });
  const points = features.filter((f) => POINTS.some((p) => p.layer === f.properties.layer));
  const zones = features.filter((f) => f.properties.layer === "risk_zone" && zoneOf(f));
  const max = top(areas, figure);
  const micro = node.level === "MICRO_GRID";
  return (
    <div class="map-view" aria-busy={q.loading}>
      <nav aria-label={t(lang, "breadcrumb")} class="crumbs">
        <ol>
          {node.ancestors.map((a) => (
            <li key={a.code}><a href={mapHref(a.code)}>{a.name}</a></li>
          ))}
          <li aria-current="page">{node.name}</li>
        </ol>
      </nav>
      <h2 class="node-title">
        {t(lang, "mapTitle")} · {node.name}{" "}
        <span class="level">{pick(node.levelLabel, lang)} · {node.code}</span>
      </h2>
      <p class="views"><a href={nodeHref(code)} data-testid="open-node">{t(lang, "nodeDetail")}</a></p>
      <div class="map-controls">
        <div class="field">
          <label for="map-figure">{t(lang, "mapFigure")}</label>
          <select id="map-figure" data-testid="map-figure" value={figure}
                  onChange={(e) => setFigure((e.target as HTMLSelectElement).value as Figure)}>
            {FIGURES.map((f) => <option key={f.figure} value={f.figure}>{t(lang, f.key)}</option>)}
          </select>
        </div>
        <fieldset class="map-toggles">
          <legend>{t(lang, "mapLayers")}</legend>
          {[...POINTS, { layer: "zone" as const, key: "layerZones" as Key, colour: "" }].map((p) => (
            <label key={p.layer}>
              <input type="checkbox" checked={on[p.layer]} data-testid={`toggle-${p.layer}`}
                     onChange={(e) => setOn({ ...on, [p.layer]: (e.target as HTMLInputElement).checked })} />
              {" "}{t(lang, p.key)}
            </label>
          ))}
        </fieldset>
      </div>
      <div class={micro ? "map-split" : ""}>
        <section class="card map-card" aria-labelledby="map-title">
          <h3 id="map-title">{t(lang, "mapTitle")}</h3>
          {drawn.size === 0 && <p class="muted" role="note" data-testid="no-boundaries">
            {t(lang, "noBoundaries")}</p>}
          <LeafletMap lang={lang} areas={areas} figure={figure} max={max}
                      points={points.filter((p) => on[p.properties.layer as PointLayer])}
                      zones={on.zone ? zones : []}
                      tiles={q.data.settings?.mapTiles ?? null}
                      attribution={q.data.settings?.mapAttribution ?? null} />
          <Legend lang={lang} figure={figure} max={max} zones={on.zone && zones.length > 0} />
        </section>
        {micro && <Households lang={lang} token={token} code={code}
                              onAuthError={props.onAuthError} />}
      </div>
      <section class="card" aria-labelledby="map-table-title">
        <h3 id="map-table-title">{t(lang, "mapTableTitle")}</h3>
        <Scroll label={t(lang, "mapTable")}>
          <table data-testid="map-table">
            <thead>
              <tr><th scope="col">{t(lang, "name")}</th>
                {FIGURES.map((f) => <th key={f.figure} scope="col">{t(lang, f.key)}</th>)}
                <th scope="col">{t(lang, "nodeDetail")}</th></tr>
            </thead>
            <tbody>
              {areas.map((a) => (
                <tr key={a.code} data-code={a.code}>
                  <th scope="row">{a.code === node.code ? a.name
                    : <a href={mapHref(a.code)}>{a.name}</a>} <span class="code">{a.code}</span></th>
                  {FIGURES.map((f) => (
                    <td key={f.figure} data-figure={f.figure}>
                      {shown(valueOf(a.feature, f.figure), f.figure, lang)}</td>
                  ))}
                  <td><a href={nodeHref(a.code)}>{t(lang, "nodeDetail")}
                    <span class="sr-only"> {a.name}</span></a></td>
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      </section>
      {points.length > 0 && (
        <section class="card" aria-labelledby="map-points-title">
          <h3 id="map-points-title">{t(lang, "mapPointsTitle")}</h3>
          <Scroll label={t(lang, "mapPoints")}>
            <table data-testid="map-points">
              <thead><tr><th scope="col">{t(lang, "pointKind")}</th>
                <th scope="col">{t(lang, "name")}</th>
                <th scope="col">{t(lang, "freePlaces")}</th></tr></thead>
              <tbody>
                {points.map((p) => (
                  <tr key={`${p.properties.layer}-${String(p.properties.code)}`}>
                    <td>{t(lang, POINTS.find((k) => k.layer === p.properties.layer)!.key)}</td>
                    <td>{p.properties.name ? <>{String(p.properties.name)}{" "}
                      <span class="code">{String(p.properties.code)}</span></> : String(p.properties.code)}</td>
                    <td>{p.properties.layer === "quarantine_site"
                      ? `${String(p.properties.free)}/${String(p.properties.capacity)}` : "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Scroll>
        </section>
      )}
    </div>
  );
}

function Legend(props: { lang: Lang; figure: Figure; max: number; zones: boolean }) {
  const { lang, figure } = props;
  const label = t(lang, FIGURES.find((f) => f.figure === figure)!.key);
  return (
    <div class="map-legend" data-testid="map-legend">
      <p><strong>{t(lang, "mapLegend")}</strong> · {label}</p>
      <ul>
        {bands(figure, props.max).map((b) => (
          <li key={b.step}><span class="swatch" style={{ background: RAMPS[figure][b.step] }} />
            {b.text}</li>
        ))}
        <li><span class="swatch" style={{ background: NO_DATA }} />{t(lang, "noFigure")}</li>
        {props.zones && ZONES.map((z) => (
          <li key={z.key}><span class="swatch zone" style={{ borderColor: z.colour }} />
            {t(lang, z.key)}</li>
        ))}
        {POINTS.map((p) => (
          <li key={p.layer}><span class="dot" style={{ background: p.colour }} />{t(lang, p.key)}</li>
        ))}
      </ul>
    </div>
  );
}

interface MapProps {
  lang: Lang;
  areas: Area[];
  figure: Figure;
  max: number;
  points: Feature[];
  zones: Feature[];
  tiles: string | null;
  attribution: string | null;
}

/** The Leaflet map: SVG polygons (one path per area, `data-code`), zones under the points
 * (circle markers, `data-layer`), an optional tile layer. Keyboard users drill down through
 * the table's links, so the map itself is a labelled image of the same data. */
function LeafletMap(props: MapProps) {
  const box = useRef<HTMLDivElement>(null);
  const map = useRef<L.Map | null>(null);
  const drawn = useRef<L.LayerGroup | null>(null);
  const fitted = useRef<string>("");
  useEffect(() => {
    if (!box.current) return;
    const m = L.map(box.current, {
      attributionControl: false, zoomSnap: 0.25, keyboard: false, renderer: L.svg(),
    });
    m.setView([30.6, 114.3], 12);
    if (props.tiles) {
      L.tileLayer(props.tiles, { attribution: props.attribution ?? "", maxZoom: 19 }).addTo(m);
      L.control.attribution({ prefix: false }).addAttribution(props.attribution ?? "").addTo(m);
    }
    map.current = m;
    fitted.current = "";
    drawn.current = L.layerGroup().addTo(m);
    return () => {
      m.remove();
      map.current = null;
    };
  }, [props.tiles, props.attribution]);
  useEffect(() => {
    const m = map.current, group = drawn.current;
    if (!m || !group) return;
    group.clearLayers();
    const { lang, figure, max } = props;
    const polygons = L.featureGroup().addTo(group);
    for (const a of props.areas) {
      if (!a.feature) continue;
      const layer = L.geoJSON(a.feature as GeoJSON.Feature, {
        style: () => ({ color: "#1f2328", weight: 1.5, fillOpacity: 0.75,
                        fillColor: colour(a.value, figure, max), className: "map-area" }),
      });
      layer.bindTooltip(`${a.name} · ${shown(a.value, figure, lang)}`, { sticky: true });
      layer.on("click", () => { location.hash = mapHref(a.code); });
      layer.addTo(polygons);
      layer.eachLayer((l) => {
        const el = (l as L.Path).getElement();
        el?.setAttribute("data-code", a.code);
        el?.setAttribute("data-fill", colour(a.value, figure, max));
      });
    }
    for (const z of props.zones) {
      const kind = zoneOf(z);
      if (!kind) continue;
      L.geoJSON(z as GeoJSON.Feature, {
        interactive: false,
        style: () => ({ color: kind.colour, weight: 2.5, dashArray: "6 4", fillColor: kind.colour,
                        fillOpacity: kind.kind === "precaution" ? 0.05 : 0.15,
                        className: "map-zone" }),
      }).addTo(group).eachLayer((l) => {
        (l as L.Path).getElement()?.setAttribute("data-zone", kind.kind);
      });
    }
    for (const p of props.points) {
      const kind = POINTS.find((k) => k.layer === p.properties.layer);
      if (!kind || p.geometry.type !== "Point") continue;
      const [lng, lat] = p.geometry.coordinates;
      const marker = L.circleMarker([lat, lng], {
        radius: 7, color: "#ffffff", weight: 2, fillColor: kind.colour, fillOpacity: 1,
        className: "map-point",
      }).addTo(group);
      const free = p.properties.layer === "quarantine_site"
        ? ` · ${t(lang, "freePlaces")} ${String(p.properties.free)}/${String(p.properties.capacity)}`
        : "";
      marker.bindTooltip(`${t(lang, kind.key)} · ${String(p.properties.name || p.properties.code)}${free}`);
      marker.getElement()?.setAttribute("data-layer", kind.layer);
      marker.getElement()?.setAttribute("data-code", String(p.properties.code));
    }
    // fit the view once per set of areas (not on a figure or layer change)
    const key = props.areas.map((a) => a.code).join(",");
    const bounds = polygons.getBounds();
    if (fitted.current !== key && bounds.isValid()) {
      m.fitBounds(bounds, { padding: [16, 16] });
      fitted.current = key;
    }
  });
  return (
    <div ref={box} class="map-canvas" data-testid="map" role="region"
         aria-label={t(props.lang, "mapRegion")} />
  );
}
