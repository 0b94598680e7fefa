// 健康监测 health monitoring: a node's counts (under monitoring, the day's reports due,
// reported and missed, open overdue items, abnormal readings, due for release) with a row per
// sub-grid that drills down, and the residents under monitoring the board lists (reports due
// today, missed, abnormal, due for release), each with their measure, next report due, last
// reading, open overdue item (owner, level), abnormal flag and release requirements. A staff
// member records a report (visit or phone) or puts a resident on the visit/call list. Names,
// household numbers and readings are as the API returns them for the reader's role.

import { useState } from "preact/hooks";
import { gql } from "./api";
import { monitoringHref, nodeHref, useQuery } from "./hooks";
import { enumLabel, formatTime, type Lang, pick, t } from "./i18n";
import { shortId } from "./node";
import { Scroll } from "./scroll";

interface Props {
  lang: Lang;
  token: string;
  code: string;
  onAuthError: () => void;
}

const COUNTS = "code monitored assisted dueToday reportedToday missedToday overdue abnormal release";
interface Counts {
  code: string; monitored: number; assisted: number; dueToday: number; reportedToday: number;
  missedToday: number; overdue: number; abnormal: number; release: number;
}
const COLUMNS: [keyof Omit<Counts, "code">, string][] = [
  ["monitored", "monitored"], ["dueToday", "due-today"], ["reportedToday", "reported-today"],
  ["missedToday", "missed-today"], ["overdue", "overdue"], ["abnormal", "abnormal"],
  ["release", "release"], ["assisted", "assisted"],
];

const REPORT = "takenAt sourceLabel abnormal temperature symptoms abnormalReason";
const BASE = `monitoringId residentId gridCode measure measureLabel starts ends assisted name
  householdNo household { id } reports { ${REPORT} }`;
const BOARD = `query MonitoringBoard($code: String!) {
  node: gridNode(code: $code) { code name levelLabel ancestors { code name }
    children { code name levelLabel } }
  board: monitoringBoard(scope: $code) { ${COUNTS} } }`;
/** One query per status: all four in one cost more than the API allows. */
const LISTS = {
  due: `query MonitoringDue($code: String!) {
    rows: monitoredResidents(status: DUE, scope: $code) { ${BASE} reportTime reported missed } }`,
  missed: `query MonitoringMissed($code: String!) {
    rows: monitoredResidents(status: MISSED, scope: $code, openOnly: true) { ${BASE} reportTime open ownerCode
      ownerLevel escalations } }`,
  abnormal: `query MonitoringAbnormal($code: String!) {
    rows: monitoredResidents(status: ABNORMAL, scope: $code) { ${BASE}
      abnormalReport { ${REPORT} } } }`,
  release: `query MonitoringRelease($code: String!) {
    rows: monitoredResidents(status: RELEASE, scope: $code) { ${BASE}
      releaseRequirements { kind hours label } } }`,
};

interface Report {
  takenAt: string; sourceLabel: string; abnormal: boolean; temperature: number | null;
  symptoms: string[] | null; abnormalReason: string | null;
}
interface Row {
  monitoringId: string; residentId: string; gridCode: string; measure: string;
  measureLabel: string; starts: string; ends: string | null; assisted: string | null;
  name: string | null; householdNo: string | null; household: { id: string } | null;
  reports: Report[];
  reportTime?: string | null; reported?: boolean | null; missed?: boolean | null;
  open?: boolean | null; ownerCode?: string | null; ownerLevel?: string | null;
  escalations?: number | null; abnormalReport?: Report | null;
  releaseRequirements?: { kind: string; hours: number | null; label: string }[] | null;
}
interface Data {
  node: { code: string; name: string; levelLabel: string; ancestors: { code: string; name: string }[];
          children: { code: string; name: string; levelLabel: string }[] } | null;
  board: Counts[];
  due: Row[]; missed: Row[]; abnormal: Row[]; release: Row[];
}

/** One resident under monitoring, gathered from the board's lists. */
interface Monitored {
  row: Row;
  nextDue: string | null;
  overdue: Row[];
  abnormal: Report | null;
  release: Row["releaseRequirements"];
}

function gather(d: Data): Monitored[] {
  const out = new Map<string, Monitored>();
  const entry = (r: Row): Monitored => {
    let m = out.get(r.monitoringId);
    if (!m) {
      m = { row: r, nextDue: null, overdue: [], abnormal: null, release: null };
      out.set(r.monitoringId, m);
    }
    return m;
  };
  for (const r of d.due) {
    const m = entry(r);
    if (!r.reported && !r.missed && r.reportTime
        && (m.nextDue === null || r.reportTime < m.nextDue)) m.nextDue = r.reportTime;
  }
  for (const r of d.missed) if (r.open) entry(r).overdue.push(r);
  for (const r of d.abnormal) {
    const m = entry(r);
    if (!m.abnormal && r.abnormalReport) m.abnormal = r.abnormalReport;
  }
  for (const r of d.release) entry(r).release = r.releaseRequirements ?? [];
  return [...out.values()].sort((a, b) => a.row.gridCode.localeCompare(b.row.gridCode)
    || (a.row.householdNo ?? "").localeCompare(b.row.householdNo ?? "")
    || a.row.residentId.localeCompare(b.row.residentId));
}

const zero = (code: string): Counts => ({
  code, monitored: 0, assisted: 0, dueToday: 0, reportedToday: 0, missedToday: 0, overdue: 0,
  abnormal: 0, release: 0,
});

const who = (r: Row): string => r.name ?? `${r.householdNo ?? ""} ${shortId(r.residentId)}`.trim();

export function MonitoringView(props: Props) {
  const { lang, token, code } = props;
  const q = useMonitoring(token, code, props.onAuthError);
  const [chosen, setChosen] = useState<string | null>(null);
  const node = q.data?.node;
  const residents = q.data ? gather(q.data) : [];
  const target = residents.find((m) => m.row.monitoringId === chosen) ?? null;
  return (
    <div class="monitoring" aria-busy={q.loading}>
      <nav aria-label={t(lang, "breadcrumb")} class="crumbs">
        <ol>
          {node?.ancestors.map((a) => (
            <li key={a.code}><a href={monitoringHref(a.code)}>{a.name}</a></li>))}
          <li><a href={nodeHref(code)}>{node?.name ?? code}</a></li>
          <li aria-current="page">{t(lang, "monitoring")}</li>
        </ol>
      </nav>
      <h2 class="node-title">{t(lang, "monitoring")}{" "}
        <span class="level">{node ? `${node.name} · ${pick(node.levelLabel, lang)} · ` : ""}
          {code}</span></h2>
      {q.loading && !q.data && <p role="status" class="muted">{t(lang, "loading")}</p>}
      {q.error && <p class="error" role="alert">{q.error}</p>}
      {q.data && !node && <p class="error" role="alert">{t(lang, "notVisible")}</p>}
      {q.data && node && (
        <>
          <Board lang={lang} data={q.data} />
          <Residents lang={lang} rows={residents} names={names(q.data)}
                     onChoose={(id) => {
                       setChosen(id);
                       setTimeout(() => document.getElementById("monitoring-form")?.focus(), 0);
                     }} />
          <Actions lang={lang} token={token} target={target} all={residents}
                   onChoose={setChosen} onDone={q.reload} onAuthError={props.onAuthError} />
        </>
      )}
    </div>
  );
}

/** The board and the four lists as one answer (null until all have come). */
function useMonitoring(token: string, code: string, onAuthError: () => void) {
  type Rows = { rows: Row[] };
  const board = useQuery<Pick<Data, "node" | "board">>(token, BOARD, { code }, onAuthError);
  const due = useQuery<Rows>(token, LISTS.due, { code }, onAuthError);
  const missed = useQuery<Rows>(token, LISTS.missed, { code }, onAuthError);
  const abnormal = useQuery<Rows>(token, LISTS.abnormal, { code }, onAuthError);
  const release = useQuery<Rows>(token, LISTS.release, { code }, onAuthError);
  const all = [board, due, missed, abnormal, release];
  const data: Data | null = board.data && due.data && missed.data && abnormal.data
    && release.data ? { ...board.data, due: due.data.rows, missed: missed.data.rows,
                        abnormal: abnormal.data.rows, release: release.data.rows } : null;
  return {
    data,
    error: all.map((x) => x.error).find((e) => e) ?? null,
    loading: all.some((x) => x.loading),
    reload: () => all.forEach((x) => x.reload()),
  };
}

function names(d: Data): Map<string, string> {
  const out = new Map<string, string>();
  for (const a of d.node?.ancestors ?? []) out.set(a.code, a.name);
  if (d.node) out.set(d.node.code, d.node.name);
  for (const c of d.node?.children ?? []) out.set(c.code, c.name);
  return out;
}

function Board(props: { lang: Lang; data: Data }) {
  const { lang, data } = props;
  const node = data.node!;
  const byCode = new Map(data.board.map((n) => [n.code, n]));
  const own = byCode.get(node.code) ?? zero(node.code);
  return (
    <section class="card" aria-labelledby="monitoring-board">
      <h3 id="monitoring-board">{t(lang, "monitoringBoard")}</h3>
      <dl class="stats" data-testid="monitoring-counts">
        {COLUMNS.map(([key, col]) => (
          <div key={key} data-col={col}><dt>{t(lang, key)}</dt><dd>{own[key]}</dd></div>
        ))}
      </dl>
      {node.children.length > 0 && (
        <Scroll label={t(lang, "monitoringTable")}>
          <table data-testid="monitoring-children">
            <thead><tr>
              <th scope="col">{t(lang, "children")}</th>
              {COLUMNS.map(([key]) => <th key={key} scope="col" class="num">{t(lang, key)}</th>)}
            </tr></thead>
            <tbody>
              {node.children.map((c) => {
                const n = byCode.get(c.code) ?? zero(c.code);
                return (
                  <tr key={c.code} data-node={c.code}>
                    <th scope="row"><a href={monitoringHref(c.code)}>{c.name}</a></th>
                    {COLUMNS.map(([key, col]) => (
                      <td key={key} class="num" data-col={col}>{n[key]}</td>))}
                  </tr>
                );
              })}
              <tr class="total" data-node={node.code}>
                <th scope="row">{t(lang, "total")} {node.name}</th>
                {COLUMNS.map(([key, col]) => (
                  <td key={key} class="num" data-col={col}>{own[key]}</td>))}
              </tr>
            </tbody>
          </table>
        </Scroll>
      )}
    </section>
  );
}

function reading(lang: Lang, r: Report) {
  return (
    <>
      <span data-col="reading-value">
        {r.temperature !== null && <>{r.temperature.toFixed(1)} °C</>}
        {r.symptoms && r.symptoms.length > 0 && <> · {r.symptoms.join("、")}</>}
      </span>{" "}
      <span class="muted">{pick(r.sourceLabel, lang)} · {formatTime(r.takenAt, lang)}</span>
    </>
  );
}

function Residents(props: { lang: Lang; rows: Monitored[]; names: Map<string, string>;
                            onChoose: (id: string) => void }) {
  const { lang, rows, names } = props;
  const where = (code: string) => names.get(code) ?? code;
  return (
    <section class="card" aria-labelledby="monitored-residents">
      <h3 id="monitored-residents">{t(lang, "monitoredResidents")} ({rows.length})</h3>
      <p class="muted">{t(lang, "monitoredNote")}</p>
      {rows.length === 0 ? <p class="muted">{t(lang, "none")}</p> : (
        <Scroll label={t(lang, "monitoredTable")}>
          <table data-testid="monitored-residents">
            <thead><tr>
              <th scope="col">{t(lang, "personName")}</th>
              <th scope="col">{t(lang, "household")}</th>
              <th scope="col">{t(lang, "measureCol")}</th>
              <th scope="col">{t(lang, "nextDue")}</th>
              <th scope="col">{t(lang, "lastReading")}</th>
              <th scope="col">{t(lang, "overdueOwner")}</th>
              <th scope="col">{t(lang, "abnormal")}</th>
              <th scope="col">{t(lang, "releaseNeeds")}</th>
              <th scope="col"><span class="sr-only">{t(lang, "actions")}</span></th>
            </tr></thead>
            <tbody>{rows.map((m) => {
              const r = m.row;
              const last = r.reports.length ? r.reports[r.reports.length - 1] : null;
              const flagged = m.abnormal ?? (last?.abnormal ? last : null);
              return (
                <tr key={r.monitoringId} data-resident={r.residentId} data-grid={r.gridCode}
                    class={m.overdue.length ? "overdue" : undefined}>
                  <th scope="row" class="person-name">{r.name ?? "—"}</th>
                  <td>{r.householdNo ?? "—"} <span class="muted">{where(r.gridCode)}</span></td>
                  <td>{enumLabel(r.measure, lang, r.measureLabel)}{r.assisted && (
                    <> <span class="badge" data-col="assisted">
                      {t(lang, "assistedBy")} {enumLabel(r.assisted, lang)}</span></>)}</td>
                  <td data-col="next-due">{m.nextDue ? formatTime(m.nextDue, lang) : "—"}</td>
                  <td data-col="last-reading">{last ? reading(lang, last) : "—"}</td>
                  <td data-col="overdue">{m.overdue.length === 0 ? "—" : m.overdue.map((o) => (
                    <span key={o.reportTime} class="overdue-item">
                      <span class="badge late">{t(lang, "overdue")}</span>{" "}
                      {o.reportTime && formatTime(o.reportTime, lang)} →{" "}
                      {o.ownerCode ? where(o.ownerCode) : "—"}
                      {o.ownerLevel && <> ({enumLabel(o.ownerLevel, lang)})</>}
                      {(o.escalations ?? 0) > 0 && <> · {t(lang, "escalated")} ×{o.escalations}</>}
                    </span>))}</td>
                  <td data-col="abnormal">{flagged ? (
                    <><span class="badge">{t(lang, "abnormal")}</span>{" "}
                      {flagged.abnormalReason ?? ""}</>) : "—"}</td>
                  <td data-col="release">{m.release ? (m.release.length === 0
                    ? t(lang, "releaseReady")
                    : <ul class="plain">{m.release.map((q) => (
                      <li key={q.kind + q.label}>{pick(q.label, lang)}</li>))}</ul>) : "—"}</td>
                  <td><button type="button" class="secondary"
                              aria-label={`${t(lang, "recordReport")}: ${who(r)}`}
                              onClick={() => props.onChoose(r.monitoringId)}>
                    {t(lang, "recordReport")}</button></td>
                </tr>
              );
            })}
            </tbody>
          </table>
        </Scroll>
      )}
    </section>
  );
}

const RESULT = `__typename ... on Problem { problem remedy }
  ... on MonitoringChanged { notificationId }`;
const RECORD = `mutation RecordReport($input: RecordMonitoringReportInput!) {
  recordMonitoringReport(input: $input) { ${RESULT} } }`;
const ASSIST = `mutation Assist($input: AssistMonitoredResidentInput!) {
  assistMonitoredResident(input: $input) { ${RESULT} } }`;
type Outcome = { __typename: string; problem?: string; remedy?: string };

function clientId(): string {
  return typeof crypto !== "undefined" && "randomUUID" in crypto ? crypto.randomUUID()
    : `web-${Date.now()}-${Math.random().toString(36).slice(2)}`;
}

function Actions(props: { lang: Lang; token: string; target: Monitored | null; all: Monitored[];
                          onChoose: (id: string) => void; onDone: () => void;
                          onAuthError: () => void }) {
  const { lang, target } = props;
  const [temperature, setTemperature] = useState("");
  const [symptoms, setSymptoms] = useState("");
  const [source, setSource] = useState("STAFF_VISIT");
  const [method, setMethod] = useState("VISIT");
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  const send = async (query: string, field: string, input: Record<string, unknown>,
                      done: string) => {
    if (!target?.row.household) return;
    setBusy(true);
    setMessage(null);
    try {
      const data = await gql<Record<string, Outcome>>(props.token, query, { input: {
        householdId: target.row.household.id, residentId: target.row.residentId,
        clientId: clientId(), ...input } });
      const out = data[field];
      if (out.problem) {
        setMessage({ ok: false, text: `${out.problem} ${out.remedy ?? ""}`.trim() });
      } else {
        setMessage({ ok: true, text: `${done}: ${who(target.row)}` });
        setTemperature("");
        setSymptoms("");
        setReason("");
        props.onDone();
      }
    } catch (e) {
      setMessage({ ok: false, text: e instanceof Error ? e.message : String(e) });
    } finally {
      setBusy(false);
    }
  };

  const record = (e: Event) => {
    e.preventDefault();
    const value = temperature.trim() === "" ? null : Number(temperature);
    void send(RECORD, "recordMonitoringReport", {
      source, temperature: value,
      symptoms: symptoms.split(/[,，、;；]/).map((s) => s.trim()).filter(Boolean),
    }, t(lang, "reportRecorded"));
  };
  const assist = (e: Event) => {
    e.preventDefault();
    void send(ASSIST, "assistMonitoredResident", { method, reason: reason.trim() },
              t(lang, "assistRecorded"));
  };

  return (
    <section class="card" aria-labelledby="monitoring-form" data-testid="monitoring-actions">
      <h3 id="monitoring-form" tabIndex={-1}>{t(lang, "recordReport")}</h3>
      <div class="field">
        <label for="monitoring-resident">{t(lang, "resident")}</label>
        <select id="monitoring-resident" value={target?.row.monitoringId ?? ""}
                onChange={(e) => props.onChoose((e.target as HTMLSelectElement).value)}>
          <option value="">{t(lang, "chooseResident")}</option>
          {props.all.map((m) => (
            <option key={m.row.monitoringId} value={m.row.monitoringId}>
              {who(m.row)} · {m.row.householdNo ?? shortId(m.row.residentId)}</option>))}
        </select>
      </div>
      {message && (message.ok
        ? <p role="status" data-testid="monitoring-done">{message.text}</p>
        : <p class="error" role="alert">{message.text}</p>)}
      {target && (
        <div class="monitoring-forms">
          <form onSubmit={record} data-testid="record-report">
            <div class="field">
              <label for="monitoring-source">{t(lang, "reportSource")}</label>
              <select id="monitoring-source" value={source}
                      onChange={(e) => setSource((e.target as HTMLSelectElement).value)}>
                <option value="STAFF_VISIT">{t(lang, "sourceVisit")}</option>
                <option value="STAFF_PHONE">{t(lang, "sourcePhone")}</option>
              </select>
            </div>
            <div class="field">
              <label for="monitoring-temperature">{t(lang, "temperature")}</label>
              <input id="monitoring-temperature" type="number" step="0.1" min="34" max="43"
                     inputMode="decimal" value={temperature}
                     onInput={(e) => setTemperature((e.target as HTMLInputElement).value)} />
            </div>
            <div class="field">
              <label for="monitoring-symptoms">{t(lang, "symptoms")}</label>
              <input id="monitoring-symptoms" type="text" value={symptoms}
                     aria-describedby="monitoring-symptoms-help"
                     onInput={(e) => setSymptoms((e.target as HTMLInputElement).value)} />
              <p id="monitoring-symptoms-help" class="muted">{t(lang, "symptomsHelp")}</p>
            </div>
            <button type="submit" disabled={busy}>{t(lang, "submitReport")}</button>
          </form>
          <form onSubmit={assist} data-testid="assist-resident">
            <h4>{t(lang, "assistTitle")}</h4>
            <div class="field">
              <label for="monitoring-method">{t(lang, "assistMethod")}</label>
              <select id="monitoring-method" value={method}
                      onChange={(e) => setMethod((e.target as HTMLSelectElement).value)}>
                <option value="VISIT">{enumLabel("VISIT", lang)}</option>
                <option value="PHONE">{enumLabel("PHONE", lang)}</option>
              </select>
            </div>
            <div class="field">
              <label for="monitoring-reason">{t(lang, "assistReason")}</label>
              <input id="monitoring-reason" type="text" required value={reason}
                     onInput={(e) => setReason((e.target as HTMLInputElement).value)} />
            </div>
            <button type="submit" class="secondary" disabled={busy}>{t(lang, "assistSubmit")}</button>
          </form>
        </div>
      )}
    </section>
  );
}
