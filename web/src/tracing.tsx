// 流调 contact tracing: the cases followed up in a node's subtree, and for a chosen case its
// chain drawn as a graph (the index, its close contacts, their secondary contacts: one column
// per generation), by hand in SVG, with the same people listed by generation beside it for
// readers who do not see the drawing. Names are as the API returns them for the reader's role.

import { nodeHref, tracingHref, useQuery } from "./hooks";
import { formatTime, type Lang, pick, t } from "./i18n";
import { Scroll } from "./scroll";

interface Props {
  lang: Lang;
  token: string;
  code: string;
  caseNo?: string;
  onAuthError: () => void;
}

const CASES = `query TracingCases($scope: String) { tracingCases(scope: $scope, first: 100) {
  id caseNo scopeCode status statusLabel openedAt closeContacts secondaryContacts following
  clusterCases clusterSize } }`;
interface CaseRow {
  id: string; caseNo: string; scopeCode: string; status: string; statusLabel: string;
  openedAt: string; closeContacts: number; secondaryContacts: number; following: number;
  clusterCases: number; clusterSize: number;
}

const CASE = `query TracingCase($caseNo: String!) { case(caseNo: $caseNo) {
  id caseNo scopeCode status statusLabel openedAt indexName
  chain { caseId caseNo generation status }
  contacts { personId generation kindLabel measureLabel until status toLocate matchProposed
    name viaPersonId becameCaseId }
} }`;
interface Contact {
  personId: string; generation: number; kindLabel: string; measureLabel: string;
  until: string; status: string; toLocate: boolean; matchProposed: boolean;
  name: string | null;
  viaPersonId: string | null; becameCaseId: string | null;
}
interface Case {
  id: string; caseNo: string; scopeCode: string; status: string; statusLabel: string;
  openedAt: string; indexName: string | null;
  chain: { caseId: string; caseNo: string; generation: number; status: string }[];
  contacts: Contact[];
}

export function TracingView(props: Props) {
  const { lang, token, code } = props;
  const q = useQuery<{ tracingCases: CaseRow[] }>(token, CASES, { scope: code },
                                                   props.onAuthError);
  return (
    <div class="tracing">
      <nav aria-label={t(lang, "breadcrumb")} class="crumbs">
        <ol>
          <li><a href={nodeHref(code)}>{code}</a></li>
          <li aria-current="page">{t(lang, "tracing")}</li>
        </ol>
      </nav>
      <h2 class="node-title">{t(lang, "tracing")} <span class="level">{code}</span></h2>
      <section class="card" aria-labelledby="tracing-cases">
        <h3 id="tracing-cases">{t(lang, "tracingCases")}</h3>
        {q.loading && !q.data && <p role="status" class="muted">{t(lang, "loading")}</p>}
        {q.error && <p class="error" role="alert">{q.error}</p>}
        {q.data && (q.data.tracingCases.length === 0 ? <p class="muted">{t(lang, "none")}</p> : (
          <Scroll label={t(lang, "casesTable")}>
            <table data-testid="tracing-cases">
              <thead><tr>
                <th scope="col">{t(lang, "caseNo")}</th>
                <th scope="col">{t(lang, "status")}</th>
                <th scope="col">{t(lang, "opened")}</th>
                <th scope="col" class="num">{t(lang, "closeContacts")}</th>
                <th scope="col" class="num">{t(lang, "secondaryContacts")}</th>
                <th scope="col" class="num">{t(lang, "following")}</th>
                <th scope="col" class="num">{t(lang, "cluster")}</th>
              </tr></thead>
              <tbody>{q.data.tracingCases.map((c) => (
                <tr key={c.id} data-case={c.caseNo}
                    class={c.caseNo === props.caseNo ? "chosen" : undefined}>
                  <th scope="row">
                    <a href={tracingHref(code, c.caseNo)}
                       aria-current={c.caseNo === props.caseNo ? "true" : undefined}>
                      {c.caseNo}</a>
                  </th>
                  <td>{pick(c.statusLabel, lang)}</td>
                  <td>{formatTime(c.openedAt, lang)}</td>
                  <td class="num">{c.closeContacts}</td>
                  <td class="num">{c.secondaryContacts}</td>
                  <td class="num">{c.following}</td>
                  <td class="num">{c.clusterCases} / {c.clusterSize}</td>
                </tr>))}
              </tbody>
            </table>
          </Scroll>
        ))}
      </section>
      {props.caseNo && <CaseChain {...props} caseNo={props.caseNo} />}
    </div>
  );
}

function CaseChain(props: Props & { caseNo: string }) {
  const { lang } = props;
  const q = useQuery<{ case: Case | null }>(props.token, CASE, { caseNo: props.caseNo },
                                            props.onAuthError);
  const c = q.data?.case;
  return (
    <section class="card chain" aria-labelledby="chain-title" data-testid="case-chain"
             aria-busy={q.loading}>
      <h3 id="chain-title">{t(props.lang, "chainOf")} {props.caseNo}</h3>
      {q.loading && !q.data && <p role="status" class="muted">{t(lang, "loading")}</p>}
      {q.error && <p class="error" role="alert">{q.error}</p>}
      {q.data && !c && <p class="muted">{t(lang, "caseMissing")}</p>}
      {c && (
        <>
          <p>
            {pick(c.statusLabel, lang)} · {t(lang, "index")}: <strong data-testid="index-name">
              {c.indexName ?? "—"}</strong> · {formatTime(c.openedAt, lang)}
          </p>
          {c.chain.length > 1 && (
            <ol class="chain-links" aria-label={t(lang, "chainCases")}>
              {c.chain.map((l) => (
                <li key={l.caseId}>
                  {l.caseNo === c.caseNo ? <strong>{l.caseNo}</strong>
                    : <a href={tracingHref(props.code, l.caseNo)}>{l.caseNo}</a>}{" "}
                  ({t(lang, "generation")} {l.generation > 0 ? `+${l.generation}` : l.generation})
                </li>
              ))}
            </ol>
          )}
          <ChainGraph lang={lang} kase={c} />
          <Generations lang={lang} code={props.code} kase={c} />
        </>
      )}
    </section>
  );
}

const COLUMN = 220, ROW = 64, BOX_W = 180, BOX_H = 46, PAD = 16;

interface Placed { id: string; x: number; y: number; title: string; sub: string; kind: string }

/** The graph: one column per generation (0 the index, 1 close contacts, 2 secondary), each
 * contact joined to whom it was exposed to. */
function ChainGraph(props: { lang: Lang; kase: Case }) {
  const { lang, kase } = props;
  const byGen = [1, 2].map((g) => kase.contacts.filter((x) => x.generation === g));
  const rows = Math.max(1, ...byGen.map((l) => l.length));
  const height = PAD * 2 + rows * ROW;
  const width = PAD * 2 + 2 * COLUMN + BOX_W;
  const place = (col: number, i: number, n: number) => ({
    x: PAD + col * COLUMN, y: PAD + (height - PAD * 2 - n * ROW) / 2 + i * ROW,
  });
  const nodes = new Map<string, Placed>();
  nodes.set("index", { id: "index", ...place(0, 0, 1), title: kase.indexName ?? "—",
                       sub: `${kase.caseNo} · ${pick(kase.statusLabel, lang)}`, kind: "index" });
  byGen.forEach((list, g) => list.forEach((x, i) => nodes.set(x.personId, {
    id: x.personId, ...place(g + 1, i, list.length), title: x.name ?? "—",
    sub: `${pick(x.kindLabel, lang)}${x.matchProposed ? ` · ${t(lang, "matchProposed")}`
      : x.toLocate ? ` · ${t(lang, "toLocate")}` : ""}`,
    kind: x.toLocate ? (x.matchProposed ? "proposed" : "locate") : g === 0 ? "close"
      : "secondary",
  })));
  const edges = kase.contacts.map((x) => {
    const from = nodes.get(x.viaPersonId ?? "index") ?? nodes.get("index")!;
    const to = nodes.get(x.personId)!;
    return { key: x.personId, x1: from.x + BOX_W, y1: from.y + BOX_H / 2, x2: to.x,
             y2: to.y + BOX_H / 2 };
  });
  const heads = [t(lang, "generation0"), t(lang, "generation1"), t(lang, "generation2")];
  return (
    <Scroll label={t(lang, "chainGraph")}>
      <svg class="chain-graph" role="img" aria-labelledby="chain-graph-title chain-graph-desc"
           viewBox={`0 0 ${width} ${height + 20}`} width={width} height={height + 20}
           data-testid="chain-graph">
        <title id="chain-graph-title">{t(lang, "chainGraph")} {kase.caseNo}</title>
        <desc id="chain-graph-desc">{t(lang, "chainGraphDesc")}</desc>
        {heads.map((h, i) => (
          <text key={h} x={PAD + i * COLUMN} y={12} class="gen-head">{h}</text>
        ))}
        <g transform="translate(0 20)">
          {edges.map((e) => (
            <path key={e.key} class="edge" fill="none"
                  d={`M${e.x1},${e.y1} C${e.x1 + 30},${e.y1} ${e.x2 - 30},${e.y2} ${e.x2},${e.y2}`} />
          ))}
          {[...nodes.values()].map((n) => (
            <g key={n.id} class={`person ${n.kind}`} data-kind={n.kind}>
              <rect x={n.x} y={n.y} width={BOX_W} height={BOX_H} rx={6} />
              <text x={n.x + 10} y={n.y + 19} class="person-name">{n.title}</text>
              <text x={n.x + 10} y={n.y + 37} class="sub">{n.sub}</text>
            </g>
          ))}
        </g>
      </svg>
    </Scroll>
  );
}

/** The same people as lists by generation (what a screen reader reads, what tests check). */
function Generations(props: { lang: Lang; code: string; kase: Case }) {
  const { lang, code, kase } = props;
  return (
    <div class="generations">
      {[1, 2].map((g) => {
        const list = kase.contacts.filter((x) => x.generation === g);
        return (
          <section key={g} aria-labelledby={`gen-${g}`} data-generation={g}>
            <h4 id={`gen-${g}`}>{t(lang, g === 1 ? "generation1" : "generation2")} ({list.length})</h4>
            <ul>{list.map((x) => (
              <li key={x.personId} data-person={x.personId}>
                <strong class="person-name">{x.name ?? "—"}</strong> · {pick(x.measureLabel, lang)}{" "}
                {t(lang, "until")} {formatTime(x.until, lang)}{" "}
                {x.matchProposed ? <span class="badge">{t(lang, "matchProposed")}</span>
                  : x.toLocate && <span class="badge">{t(lang, "toLocate")}</span>}
                {x.becameCaseId && (() => {
                  const no = kase.chain.find((l) => l.caseId === x.becameCaseId)?.caseNo;
                  return no && <span> · {t(lang, "becameCase")}{" "}
                    <a href={tracingHref(code, no)}>{no}</a></span>;
                })()}
                {x.viaPersonId && (
                  <span class="muted"> · {t(lang, "via")}{" "}
                    {kase.contacts.find((y) => y.personId === x.viaPersonId)?.name ?? "—"}</span>
                )}
              </li>))}
            </ul>
          </section>
        );
      })}
    </div>
  );
}
