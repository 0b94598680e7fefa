// One grid node: its rollup and open items (待办), its sub-grids (drill down), the sweep
// coverage of a campaign per sub-grid as a heat table with the uncovered households one click
// away, its households and the boards.

import { useEffect, useRef, useState } from "preact/hooks";
import {
  type Campaign, type ChildNode, type GridNode, type Health, NODE, OPEN_KINDS, type OpenItems,
  type Rollup, UNCOVERED, type Uncovered,
} from "./api";
import { Boards } from "./boards";
import { Households } from "./households";
import {
  assistanceHref, householdHref, mapHref, monitoringHref, nodeHref, testingHref, tracingHref, uncoveredHref,
  useQuery,
} from "./hooks";
import { formatTime, type Lang, percent, pick, t } from "./i18n";
import { Scroll } from "./scroll";

interface Props {
  lang: Lang;
  token: string;
  code: string;
  uncovered?: string;
  onAuthError: () => void;
}

const UNCOVERED_PAGE = 100; // the API's largest page
const AT_RISK: Health[] = ["SYMPTOMATIC", "SUSPECTED", "CONFIRMED"];

function atRisk(r: Rollup): number {
  return r.byHealth.filter((h) => AT_RISK.includes(h.health)).reduce((n, h) => n + h.count, 0);
}

function underMeasure(r: Rollup): number {
  return r.byMeasure.filter((m) => m.measure !== "NONE").reduce((n, m) => n + m.count, 0);
}

export const shortId = (id: string): string => id.slice(0, 8);

/** How a household is named on screen: its number (户号), or its short id when the API
 * gives none. */
export const householdLabel = (h: { id: string; householdNo: string | null }): string =>
  h.householdNo ?? shortId(h.id);

export function Problem(props: { lang: Lang; message: string; retry?: () => void }) {
  return (
    <div class="error" role="alert">
      <strong>{t(props.lang, "error")}:</strong> {props.message}{" "}
      {props.retry && <button type="button" class="secondary" onClick={props.retry}>
        {t(props.lang, "retry")}</button>}
    </div>
  );
}

export function NodeView(props: Props) {
  const { lang, token, code } = props;
  const q = useQuery<{ node: GridNode | null }>(token, NODE, { code }, props.onAuthError);
  const node = q.data?.node;
  useEffect(() => {
    if (node) document.title = `${node.name} · ${t(lang, "title")}`;
  }, [node, lang]);
  if (q.error) return <Problem lang={lang} message={q.error} retry={q.reload} />;
  if (!q.data) return <p role="status">{t(lang, "loading")}</p>;
  if (!node) return <p class="error" role="alert">{t(lang, "notVisible")}</p>;
  return (
    <div class="node" aria-busy={q.loading}>
      <Breadcrumb lang={lang} node={node} />
      <h2 class="node-title">
        {node.name} <span class="level">{pick(node.levelLabel, lang)} · {node.code}</span>
      </h2>
      <p class="views"><a href={tracingHref(code)} data-testid="open-tracing">
        {t(lang, "openTracing")}</a>
        {" · "}<a href={testingHref(code)} data-testid="open-testing">{t(lang, "openTesting")}</a>
        {" · "}<a href={assistanceHref(code)} data-testid="open-assistance">
          {t(lang, "openAssistance")}</a>
        {" · "}<a href={monitoringHref(code)} data-testid="open-monitoring">
          {t(lang, "openMonitoring")}</a>
        {" · "}<a href={mapHref(code)} data-testid="open-map">{t(lang, "openMap")}</a></p>
      <Summary lang={lang} rollup={node.rollup} open={node.openItems} />
      <Children lang={lang} node={node} />
      <CoverageSection {...props} node={node} />
      <Households {...props} />
      <Boards lang={lang} token={token} code={code} onAuthError={props.onAuthError} />
    </div>
  );
}

function Breadcrumb(props: { lang: Lang; node: GridNode }) {
  return (
    <nav aria-label={t(props.lang, "breadcrumb")} class="crumbs">
      <ol>
        {props.node.ancestors.map((a) => (
          <li key={a.code}><a href={nodeHref(a.code)}>{a.name}</a></li>
        ))}
        <li aria-current="page">{props.node.name}</li>
      </ol>
    </nav>
  );
}

function Bars<T extends { count: number; label: string }>(
  props: { lang: Lang; title: string; rows: T[]; name: (r: T) => string; id: string },
) {
  const max = Math.max(1, ...props.rows.map((r) => r.count));
  return (
    <section class="card bars" aria-labelledby={props.id}>
      <h3 id={props.id}>{props.title}</h3>
      <table>
        <tbody>
          {props.rows.map((r) => (
            <tr key={r.label}>
              <th scope="row">{pick(r.label, props.lang)}</th>
              <td class="num">{r.count}</td>
              <td class="bar-cell" aria-hidden="true">
                <span class={`bar bar-${props.name(r).toLowerCase()}`}
                      style={{ width: `${(100 * r.count) / max}%` }} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** 待办 the open items of a subtree, one short line per kind that has any ("转运 1 · 告警 2"). */
export function openBreakdown(open: OpenItems, lang: Lang): string {
  return OPEN_KINDS.filter((k) => open[k] > 0).map((k) => `${t(lang, `open_${k}`)} ${open[k]}`)
    .join(" · ");
}

function Summary(props: { lang: Lang; rollup: Rollup; open: OpenItems | null }) {
  const { lang, rollup, open } = props;
  return (
    <div class="summary">
      <dl class="stats">
        <div><dt>{t(lang, "households")}</dt><dd data-testid="households">{rollup.households}</dd></div>
        <div><dt>{t(lang, "residents")}</dt><dd data-testid="residents">{rollup.residents}</dd></div>
        <div><dt>{t(lang, "staff")}</dt><dd>{rollup.staff}</dd></div>
        <div><dt>{t(lang, "atRisk")}</dt><dd>{atRisk(rollup)}</dd></div>
        {open && (
          <div data-testid="open-items">
            <dt>{t(lang, "openItems")}</dt><dd>{open.total}</dd>
            {open.total > 0 && <dd class="breakdown">{openBreakdown(open, lang)}</dd>}
          </div>
        )}
      </dl>
      <div class="bars-row">
        <Bars lang={lang} id="by-health" title={t(lang, "byHealth")} rows={rollup.byHealth}
              name={(r) => r.health} />
        <Bars lang={lang} id="by-measure" title={t(lang, "byMeasure")} rows={rollup.byMeasure}
              name={(r) => r.measure} />
        {rollup.byTag.length > 0 && (
          <Bars lang={lang} id="by-tag" title={t(lang, "byTag")} rows={rollup.byTag}
                name={(r) => r.tag} />
        )}
      </div>
    </div>
  );
}

function Children(props: { lang: Lang; node: GridNode }) {
  const { lang, node } = props;
  return (
    <section class="card" aria-labelledby="children-title">
      <h3 id="children-title">{t(lang, "children")}</h3>
      {node.children.length === 0 ? <p class="muted">{t(lang, "noChildren")}</p> : (
        <Scroll label={t(lang, "childrenTable")}>
          <table class="grid-table">
            <thead>
              <tr>
                <th scope="col">{t(lang, "name")}</th>
                <th scope="col" class="num">{t(lang, "households")}</th>
                <th scope="col" class="num">{t(lang, "residents")}</th>
                <th scope="col" class="num">{t(lang, "atRisk")}</th>
                <th scope="col" class="num">{t(lang, "underMeasure")}</th>
                <th scope="col" class="num">{t(lang, "openItems")}</th>
              </tr>
            </thead>
            <tbody>
              {node.children.map((c) => (
                <tr key={c.code} data-code={c.code}>
                  <th scope="row">
                    <a href={nodeHref(c.code)} class="drill">{c.name}</a>
                    <span class="code">{c.code}</span>
                  </th>
                  <td class="num">{c.rollup.households}</td>
                  <td class="num">{c.rollup.residents}</td>
                  <td class="num">{atRisk(c.rollup)}</td>
                  <td class="num">{underMeasure(c.rollup)}</td>
                  <td class="num open-cell" data-total={c.openItems?.total ?? ""}>
                    {c.openItems ? (
                      <>
                        <span class="open-total">{c.openItems.total}</span>
                        {c.openItems.total > 0 && (
                          <span class="breakdown">{openBreakdown(c.openItems, lang)}</span>
                        )}
                      </>
                    ) : "—"}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      )}
    </section>
  );
}

/** Five bins of coverage, reddish to green; the share is always printed too. */
export function heatClass(share: number): string {
  if (share >= 1) return "heat-5";
  return `heat-${Math.min(4, Math.floor(share * 5))}`;
}

function CoverageSection(props: Props & { node: GridNode }) {
  const { lang, node } = props;
  const [chosen, setChosen] = useState<string | null>(null);
  if (node.campaigns.length === 0) {
    return (
      <section class="card" aria-labelledby="coverage-title">
        <h3 id="coverage-title">{t(lang, "coverage")}</h3>
        <p class="muted">{t(lang, "noCampaign")}</p>
      </section>
    );
  }
  const byId = (id: string | null | undefined): Campaign | undefined =>
    node.campaigns.find((c) => c.id === id);
  const campaign = byId(props.uncovered) ?? byId(chosen)
    ?? node.campaigns.find((c) => !c.closedAt) ?? node.campaigns[node.campaigns.length - 1];
  const rows: { code: string; name: string; cov: ChildNode["campaigns"][number]["coverage"] }[] =
    node.children.length
      ? node.children.flatMap((c) => {
        const cov = c.campaigns.find((x) => x.id === campaign.id)?.coverage;
        return cov && cov.households > 0 ? [{ code: c.code, name: c.name, cov }] : [];
      })
      : [{ code: node.code, name: node.name, cov: campaign.coverage }];
  const cov = campaign.coverage;
  return (
    <section class="card" aria-labelledby="coverage-title">
      <h3 id="coverage-title">{t(lang, "coverage")}</h3>
      <div class="field">
        <label for="campaign">{t(lang, "campaign")}</label>
        <select id="campaign" value={campaign.id}
                onChange={(e) => setChosen((e.target as HTMLSelectElement).value)}>
          {node.campaigns.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name} · {c.closedAt ? t(lang, "closed") : t(lang, "open")}
            </option>
          ))}
        </select>
      </div>
      <p class="muted">
        {formatTime(campaign.starts, lang)} – {formatTime(campaign.ends, lang)}
      </p>
      <dl class="stats small" data-testid="coverage-summary">
        <div><dt>{t(lang, "covered")}</dt><dd>{cov.covered}/{cov.households}</dd></div>
        <div><dt>{t(lang, "share")}</dt><dd>{percent(cov.share)}</dd></div>
        <div><dt>{t(lang, "fevers")}</dt><dd>{cov.fevers}</dd></div>
        <div><dt>{t(lang, "closeContacts")}</dt><dd>{cov.closeContacts}</dd></div>
      </dl>
      {cov.notCovered.length > 0 && (
        <p class="muted">
          {t(lang, "uncovered")}: {cov.notCovered.map((r) => `${pick(r.label, lang)} ${r.count}`)
            .join(" · ")}
        </p>
      )}
      <Scroll label={t(lang, "coverageTable")}>
        <table class="heat" data-testid="heat-table">
          <caption>{t(lang, "heatLegend")}</caption>
          <thead>
            <tr>
              <th scope="col">{t(lang, "name")}</th>
              <th scope="col" class="num">{t(lang, "covered")}</th>
              <th scope="col" class="num">{t(lang, "share")}</th>
              <th scope="col" class="num">{t(lang, "uncovered")}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.code} data-code={r.code}>
                <th scope="row">{r.name}</th>
                <td class="num">{r.cov.covered}/{r.cov.households}</td>
                <td class={`num heat-cell ${heatClass(r.cov.share)}`}>{percent(r.cov.share)}</td>
                <td class="num">
                  {r.cov.uncovered > 0 ? (
                    <a href={uncoveredHref(r.code, campaign.id)} class="uncovered-link"
                       aria-label={`${r.name} ${t(lang, "showUncovered")}: ${r.cov.uncovered}`}>
                      {r.cov.uncovered}
                    </a>
                  ) : "0"}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
      {props.uncovered === campaign.id && (
        <UncoveredPanel {...props} campaign={campaign.id} />
      )}
    </section>
  );
}

function UncoveredPanel(props: Props & { campaign: string }) {
  const { lang } = props;
  const q = useQuery<{ node: { name: string; campaigns: { id: string; uncovered: Uncovered[] }[] } | null }>(
    props.token, UNCOVERED, { code: props.code, first: UNCOVERED_PAGE }, props.onAuthError);
  const list = q.data?.node?.campaigns.find((c) => c.id === props.campaign)?.uncovered;
  const ref = useRef<HTMLElement>(null);
  useEffect(() => {  // opened by a click: bring it into view and move the focus to it
    ref.current?.scrollIntoView({ block: "start" });
    ref.current?.focus({ preventScroll: true });
  }, [props.code, props.campaign]);
  return (
    <section class="panel" aria-labelledby="uncovered-title" data-testid="uncovered-panel"
             ref={ref} tabIndex={-1}>
      <h4 id="uncovered-title">{t(lang, "uncoveredOf")} · {q.data?.node?.name ?? ""}</h4>
      <a href={nodeHref(props.code)} class="secondary-link">{t(lang, "close")}</a>
      {q.error ? <Problem lang={lang} message={q.error} retry={q.reload} />
        : !list ? <p role="status">{t(lang, "loading")}</p>
        : list.length === 0 ? <p class="muted">{t(lang, "noUncovered")}</p> : (
          <Scroll label={t(lang, "uncoveredTable")}>
            <table>
              <thead>
                <tr>
                  <th scope="col">{t(lang, "householdNo")}</th>
                  <th scope="col">{t(lang, "address")}</th>
                  <th scope="col">{t(lang, "microGrid")}</th>
                  <th scope="col" class="num">{t(lang, "members")}</th>
                  <th scope="col">{t(lang, "reason")}</th>
                  <th scope="col" class="num">{t(lang, "attempts")}</th>
                </tr>
              </thead>
              <tbody>
                {list.map((u) => (
                  <tr key={u.householdId}>
                    <th scope="row">
                      <a href={householdHref(u.householdId)}
                         aria-label={`${t(lang, "openTimeline")} ${householdLabel(
                           { id: u.householdId, householdNo: u.householdNo })}`}>
                        {householdLabel({ id: u.householdId, householdNo: u.householdNo })}
                      </a>
                    </th>
                    <td>{u.address ?? "—"}</td>
                    <td>{u.household?.microGridCode ?? "—"}</td>
                    <td class="num">{u.household?.residents.length ?? "—"}</td>
                    <td>{pick(u.label, lang)}</td>
                    <td class="num">{u.attempts}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {list.length === UNCOVERED_PAGE && (
              <p class="muted">{t(lang, "firstOnly")} {UNCOVERED_PAGE}</p>
            )}
          </Scroll>
        )}
    </section>
  );
}
