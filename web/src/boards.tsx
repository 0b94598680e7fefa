// The boards of a node's subtree: alerts, the escalation and overdue feeds, the referral
// pipeline, quarantine sites, checkpoints (a chart), enterprise resumption and the requests
// board. Each asks the API on its own; a server whose schema does not offer that area yet shows
// a "coming" placeholder instead. An escalated or overdue item refreshes the boards it touches.

import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { AuthError, follow, gql, type LiveState } from "./api";
import { HourChart } from "./chart";
import { WatchFeeds } from "./feeds";
import { householdHref } from "./hooks";
import { formatAge, formatTime, type Key, type Lang, liveLabel, pick, t } from "./i18n";
import { Scroll } from "./scroll";

interface BoardProps {
  lang: Lang;
  token: string;
  code: string;
  onAuthError: () => void;
}

type Answer<T> = { state: "loading" } | { state: "missing" } | { state: "error"; message: string }
  | { state: "ok"; data: T };

/** The API's words for a field or type its schema lacks (GraphQL validation errors). */
const NOT_IN_SCHEMA = /Cannot query field|Unknown argument|Unknown type|is not defined/;

function useBoard<T>(props: BoardProps, query: string, nonce = 0): Answer<T> {
  const [answer, setAnswer] = useState<Answer<T>>({ state: "loading" });
  const shown = useRef("");
  useEffect(() => {
    let live = true;
    const key = `${props.code}|${query}`;
    if (shown.current !== key) setAnswer({ state: "loading" }); // a reload keeps what is shown
    shown.current = key;
    gql<T>(props.token, query, { scope: props.code })
      .then((data) => live && setAnswer({ state: "ok", data }))
      .catch((e: unknown) => {
        if (!live) return;
        if (e instanceof AuthError) props.onAuthError();
        const message = e instanceof Error ? e.message : String(e);
        setAnswer(NOT_IN_SCHEMA.test(message) ? { state: "missing" }
          : { state: "error", message });
      });
    return () => {
      live = false;
    };
  }, [props.token, props.code, query, nonce]);
  return answer;
}

function Board<T>(props: {
  lang: Lang; area: Key; answer: Answer<T>; children: (data: T) => ComponentChildren;
}) {
  const { lang, answer } = props;
  const id = `board-${props.area}`;
  return (
    <section class={`card board${answer.state === "missing" ? " placeholder" : ""}`}
             aria-labelledby={id} data-area={props.area} data-state={answer.state}>
      <h3 id={id}>{t(lang, props.area)}</h3>
      {answer.state === "loading" && <p role="status" class="muted">{t(lang, "loading")}</p>}
      {answer.state === "missing" && <p class="muted">{t(lang, "comingTitle")}：{t(lang, "coming")}</p>}
      {answer.state === "error" && <p class="error" role="alert">{answer.message}</p>}
      {answer.state === "ok" && props.children(answer.data)}
    </section>
  );
}

const Empty = (props: { lang: Lang }) => <p class="muted">{t(props.lang, "none")}</p>;

const ALERTS = `query Alerts($scope: String) { alerts(scope: $scope, first: 20) {
  id kindLabel source gridCode state stateLabel raisedAt escalations } }`;
interface AlertRow {
  id: string; kindLabel: string; source: string; gridCode: string; state: string;
  stateLabel: string; raisedAt: string; escalations: number;
}
const ALERT_RAISED = `subscription Raised($after: Int) { alertRaised(after: $after) {
  notificationId alertId kindLabel source gridCode } }`;
interface Raised {
  alertRaised: { notificationId: number; alertId: string; kindLabel: string; source: string;
                 gridCode: string };
}
const OUTCOME = "__typename ... on Problem { problem remedy }";
const ACKNOWLEDGE = `mutation Acknowledge($id: ID!) {
  acknowledgeAlert(input: { id: $id }) { ${OUTCOME} } }`;
const RESOLVE = `mutation Resolve($id: ID!, $outcome: AlertOutcome!, $action: String!) {
  resolveAlert(input: { id: $id, outcome: $outcome, action: $action }) { ${OUTCOME} } }`;
type Outcome = { __typename: string; problem?: string; remedy?: string };

const REFERRALS = `query Referrals($scope: String) {
  referralStages(scope: $scope) { state label open count }
  referrals(scope: $scope, state: [OPENED, ACCEPTED, IN_TRANSPORT, ADMITTED], first: 50) {
    id kindLabel state stateLabel ageHours overdue householdNo address household { id } } }`;
interface Referral {
  id: string; kindLabel: string; state: string; stateLabel: string; ageHours: number;
  overdue: boolean; householdNo: string | null; address: string | null;
  household: { id: string } | null;
}
interface Referrals {
  referralStages: { state: string; label: string; open: boolean; count: number }[];
  referrals: Referral[];
}

const SITES = `query Sites($scope: String) { quarantineSites(scope: $scope) {
  code name capacity occupancy free } }`;
interface Site { code: string; name: string; capacity: number; occupancy: number; free: number }

const CHECKPOINTS = `query Checkpoints($scope: String) { checkpoints(scope: $scope) {
  id name gridCode hours { hour passes alerts } } }`;
interface Checkpoint {
  id: string; name: string; gridCode: string;
  hours: { hour: string; passes: number; alerts: number }[];
}

const RESUMPTION = `query Resumption($scope: String) { resumptionCounts(scope: $scope) {
  status label count } }`;

const REQUESTS = `query Requests($scope: String) { requests(scope: $scope, first: 20) {
  id number categoryLabel gradeLabel statusLabel deadline escalations text } }`;
interface RequestRow {
  id: string; number: string; categoryLabel: string; gradeLabel: string; statusLabel: string;
  deadline: string | null; escalations: number; text: string | null;
}

export function Boards(props: BoardProps) {
  const { lang } = props;
  const [changed, setChanged] = useState(0); // bumped by the feeds: reload what they touch
  const referrals = useBoard<Referrals>(props, REFERRALS, changed);
  const sites = useBoard<{ quarantineSites: Site[] }>(props, SITES, changed);
  const checkpoints = useBoard<{ checkpoints: Checkpoint[] }>(props, CHECKPOINTS, changed);
  const resumption = useBoard<{ resumptionCounts: { status: string; label: string; count: number }[] }>(
    props, RESUMPTION);
  const requests = useBoard<{ requests: RequestRow[] }>(props, REQUESTS, changed);
  return (
    <div class="boards">
      <AlertsBoard {...props} onRaised={() => setChanged((n) => n + 1)} />
      <WatchFeeds lang={lang} token={props.token} onItem={() => setChanged((n) => n + 1)} />
      <Board lang={lang} area="referrals" answer={referrals}>
        {(d) => (
          <>
            <ol class="stages" data-testid="referral-stages">
              {d.referralStages.map((st) => (
                <li key={st.state} data-state={st.state} class={st.open ? "open" : "ended"}>
                  <span>{pick(st.label, lang)}</span> <strong>{st.count}</strong>
                </li>
              ))}
            </ol>
            <div class="columns" data-testid="referral-columns">
              {d.referralStages.filter((st) => st.open).map((st) => (
                <section key={st.state} class="column" data-state={st.state}
                         aria-label={pick(st.label, lang)}>
                  <h4>{pick(st.label, lang)}</h4>
                  <ul>{d.referrals.filter((r) => r.state === st.state).map((r) => (
                    <li key={r.id} class={r.overdue ? "ref overdue" : "ref"} data-id={r.id}>
                      {r.overdue && <span class="badge">{t(lang, "overdue")}</span>}{" "}
                      {pick(r.kindLabel, lang)} · {formatAge(r.ageHours, lang)}{" "}
                      {r.household && (
                        <a href={householdHref(r.household.id)}
                           aria-label={`${t(lang, "openTimeline")} ${r.householdNo ?? ""}`}>
                          {r.householdNo ?? t(lang, "openTimeline")}
                        </a>
                      )}
                      {r.address && <span class="where"> {r.address}</span>}
                    </li>))}
                  </ul>
                </section>
              ))}
            </div>
          </>
        )}
      </Board>
      <Board lang={lang} area="sites" answer={sites}>
        {(d) => d.quarantineSites.length === 0 ? <Empty lang={lang} /> : (
          <table data-testid="sites-table">
            <thead><tr>
              <th scope="col">{t(lang, "name")}</th>
              <th scope="col" class="num">{t(lang, "occupancy")}</th>
              <th scope="col" class="num">{t(lang, "free")}</th>
            </tr></thead>
            <tbody>{d.quarantineSites.map((s) => (
              <tr key={s.code} data-code={s.code}>
                <th scope="row">{s.name}</th>
                <td class="num">{s.occupancy}/{s.capacity}</td><td class="num">{s.free}</td>
              </tr>))}
            </tbody>
          </table>
        )}
      </Board>
      <Board lang={lang} area="checkpoints" answer={checkpoints}>
        {(d) => d.checkpoints.length === 0 ? <Empty lang={lang} /> : (
          <>{d.checkpoints.map((c) => <CheckpointHours key={c.id} lang={lang} checkpoint={c} />)}</>
        )}
      </Board>
      <Board lang={lang} area="enterprises" answer={resumption}>
        {(d) => d.resumptionCounts.every((r) => r.count === 0) ? <Empty lang={lang} /> : (
          <dl class="stats small" data-testid="resumption">
            {d.resumptionCounts.map((r) => (
              <div key={r.status}><dt>{pick(r.label, lang)}</dt><dd>{r.count}</dd></div>
            ))}
          </dl>
        )}
      </Board>
      <Board lang={lang} area="requests" answer={requests}>
        {(d) => d.requests.length === 0 ? <Empty lang={lang} /> : (
          <Scroll label={t(lang, "requestsTable")}>
            <table data-testid="requests-table">
              <thead><tr>
                <th scope="col">{t(lang, "number")}</th><th scope="col">{t(lang, "category")}</th>
                <th scope="col">{t(lang, "grade")}</th><th scope="col">{t(lang, "state")}</th>
                <th scope="col">{t(lang, "deadline")}</th>
                <th scope="col">{t(lang, "asked")}</th>
              </tr></thead>
              <tbody>{d.requests.map((r) => (
                <tr key={r.id}>
                  <th scope="row">{r.number}</th><td>{pick(r.categoryLabel, lang)}</td>
                  <td>{pick(r.gradeLabel, lang)}</td><td>{pick(r.statusLabel, lang)}</td>
                  <td>{r.deadline ? formatTime(r.deadline, lang) : "—"}</td>
                  <td class="detail">{r.text ?? "—"}</td>
                </tr>))}
              </tbody>
            </table>
          </Scroll>
        )}
      </Board>
    </div>
  );
}

/** Open alerts of the subtree, kept live by the alertRaised subscription; acknowledge (签收)
 * and resolve (处置) in place. */
function AlertsBoard(props: BoardProps & { onRaised: () => void }) {
  const { lang, token } = props;
  const [nonce, setNonce] = useState(0);
  const answer = useBoard<{ alerts: AlertRow[] }>(props, ALERTS, nonce);
  const available = answer.state === "ok" || (answer.state === "loading" && nonce > 0);
  const [live, setLive] = useState<LiveState>("connecting");
  const [newest, setNewest] = useState<Raised["alertRaised"] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [resolving, setResolving] = useState<string | null>(null);
  const [outcome, setOutcome] = useState("FALSE_ALARM");
  const [action, setAction] = useState("");
  const reload = () => setNonce((n) => n + 1);
  useEffect(() => {
    if (!available) return undefined;
    return follow<Raised>(token, ALERT_RAISED, (d) => d.alertRaised.notificationId, (d) => {
      setNewest(d.alertRaised);
      reload();
      props.onRaised(); // the checkpoints' hours count vehicle alerts
    }, (state) => {
      setLive(state);
      if (state === "live") reload(); // what was raised before the feed began is read again
    });
  }, [token, available]);
  const act = async (query: string, variables: Record<string, unknown>, field: string) => {
    setProblem(null);
    try {
      const data = await gql<Record<string, Outcome>>(token, query, variables);
      const result = data[field];
      if (result.problem) setProblem(`${result.problem} ${result.remedy ?? ""}`);
      else setResolving(null);
    } catch (e) {
      if (e instanceof AuthError) props.onAuthError();
      setProblem(e instanceof Error ? e.message : String(e));
    }
    reload();
  };
  return (
    <Board lang={lang} area="alerts" answer={answer}>
      {(d) => (
        <>
          <p class="muted live" data-live={live}>
            {liveLabel(lang, live)}
          </p>
          <p class="news" aria-live="polite" data-testid="alert-news">
            {newest && `${t(lang, "newAlert")}: ${pick(newest.kindLabel, lang)} · ${newest.source}`
              + ` · ${newest.gridCode}`}
          </p>
          {problem && <p class="error" role="alert">{problem}</p>}
          {d.alerts.length === 0 ? <Empty lang={lang} /> : (
            <Scroll label={t(lang, "alertsTable")}>
              <table data-testid="alerts-table">
                <thead><tr>
                  <th scope="col">{t(lang, "time")}</th><th scope="col">{t(lang, "kind")}</th>
                  <th scope="col">{t(lang, "source")}</th><th scope="col">{t(lang, "state")}</th>
                  <th scope="col">{t(lang, "handle")}</th>
                </tr></thead>
                <tbody>{d.alerts.map((a) => (
                  <tr key={a.id} data-id={a.id} data-state={a.state}>
                    <td>{formatTime(a.raisedAt, lang)}</td><td>{pick(a.kindLabel, lang)}</td>
                    <td>{a.source} <span class="code">{a.gridCode}</span></td>
                    <td>{pick(a.stateLabel, lang)}</td>
                    <td>
                      {a.state === "RAISED" && (
                        <button type="button" class="secondary"
                                onClick={() => act(ACKNOWLEDGE, { id: a.id }, "acknowledgeAlert")}>
                          {t(lang, "acknowledge")}
                        </button>
                      )}{" "}
                      <button type="button" class="secondary" onClick={() => setResolving(a.id)}
                              aria-expanded={resolving === a.id}>
                        {t(lang, "resolve")}
                      </button>
                    </td>
                  </tr>))}
                </tbody>
              </table>
            </Scroll>
          )}
          {resolving && (
            <form class="resolve" onSubmit={(e) => {
              e.preventDefault();
              void act(RESOLVE, { id: resolving, outcome, action }, "resolveAlert");
            }}>
              <div class="field">
                <label for="alert-outcome">{t(lang, "outcome")}</label>
                <select id="alert-outcome" value={outcome}
                        onChange={(e) => setOutcome((e.target as HTMLSelectElement).value)}>
                  <option value="FALSE_ALARM">{t(lang, "falseAlarm")}</option>
                  <option value="BREACH_CONFIRMED">{t(lang, "breach")}</option>
                </select>
              </div>
              <div class="field">
                <label for="alert-action">{t(lang, "action")}</label>
                <input id="alert-action" type="text" value={action}
                       onInput={(e) => setAction((e.target as HTMLInputElement).value)} />
              </div>
              <button type="submit">{t(lang, "submitResolve")}</button>{" "}
              <button type="button" class="secondary" onClick={() => setResolving(null)}>
                {t(lang, "close")}
              </button>
            </form>
          )}
        </>
      )}
    </Board>
  );
}

/** Passes and alerts per hour (the last 24 hours with traffic) as a chart. */
function CheckpointHours(props: { lang: Lang; checkpoint: Checkpoint }) {
  const { lang, checkpoint } = props;
  return (
    <figure class="checkpoint" data-id={checkpoint.id}>
      <figcaption>{checkpoint.name} <span class="code">{checkpoint.gridCode}</span></figcaption>
      <HourChart lang={lang} name={checkpoint.name} hours={checkpoint.hours.slice(-24)} />
    </figure>
  );
}
