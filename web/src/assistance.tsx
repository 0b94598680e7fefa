// 协查 assistance lists: the lists with persons to be located under a node, each with its
// completion at the node; for a chosen list its completion per level (the node and every node
// under it that has persons of the list: found, not found, moved away, wrong data, open,
// overdue) and its persons routed to the node's subtree with their deadlines and state.
// Names are as the API returns them for the reader's role.

import { assistanceHref, nodeHref, useQuery } from "./hooks";
import { formatTime, type Lang, percent, pick, t } from "./i18n";
import { Scroll } from "./scroll";

interface Props {
  lang: Lang;
  token: string;
  code: string;
  reference?: string;
  onAuthError: () => void;
}

const COMPLETION = `code name level levelLabel total pending overdue found notFound movedAway
  wrongData done rate`;
interface Completion {
  code: string; name: string | null; level: string | null; levelLabel: string | null;
  total: number; pending: number; overdue: number; found: number; notFound: number;
  movedAway: number; wrongData: number; done: number; rate: number | null;
}

const LISTS = `query AssistanceLists($scope: String) { assistanceLists(scope: $scope) {
  id reference sourceLabel scopeCode receivedAt itemCount
  completion(scope: $scope) { ${COMPLETION} } } }`;
interface ListRow {
  id: string; reference: string; sourceLabel: string; scopeCode: string; receivedAt: string;
  itemCount: number; completion: Completion[];
}

const LIST = `query AssistanceList($reference: String!, $scope: String!) {
  list: assistanceList(reference: $reference) {
    id reference sourceLabel scopeCode receivedAt itemCount
    completion(scope: $scope) { ${COMPLETION} }
    items(scope: $scope) { id no name place owner ownerLevel statusLabel status deadline
      overdue escalations forwards reportedAt measure unrouted }
  } }`;
interface Item {
  id: string; no: number; name: string | null; place: string; owner: string;
  ownerLevel: string; statusLabel: string; status: string; deadline: string | null;
  overdue: boolean; escalations: number; forwards: number; reportedAt: string | null;
  measure: string | null; unrouted: boolean;
}
interface ListDetail extends Omit<ListRow, "completion"> {
  completion: Completion[];
  items: Item[];
}

const LEVELS = ["CITY", "DISTRICT", "STREET", "COMMUNITY", "MICRO_GRID"];
const depth = (c: Completion): number => LEVELS.indexOf(c.level ?? "");

export function AssistanceView(props: Props) {
  const { lang, token, code } = props;
  const q = useQuery<{ assistanceLists: ListRow[] }>(token, LISTS, { scope: code },
                                                     props.onAuthError);
  const lists = q.data?.assistanceLists ?? [];
  return (
    <div class="assistance">
      <nav aria-label={t(lang, "breadcrumb")} class="crumbs">
        <ol>
          <li><a href={nodeHref(code)}>{code}</a></li>
          <li aria-current="page">{t(lang, "assistance")}</li>
        </ol>
      </nav>
      <h2 class="node-title">{t(lang, "assistance")} <span class="level">{code}</span></h2>
      <section class="card" aria-labelledby="assistance-lists">
        <h3 id="assistance-lists">{t(lang, "assistanceLists")}</h3>
        {q.loading && !q.data && <p role="status" class="muted">{t(lang, "loading")}</p>}
        {q.error && <p class="error" role="alert">{q.error}</p>}
        {q.data && (lists.length === 0 ? <p class="muted">{t(lang, "noLists")}</p> : (
          <Scroll label={t(lang, "listsTable")}>
            <table data-testid="assistance-lists">
              <thead><tr>
                <th scope="col">{t(lang, "reference")}</th>
                <th scope="col">{t(lang, "source")}</th>
                <th scope="col">{t(lang, "received")}</th>
                <th scope="col" class="num">{t(lang, "here")}</th>
                <th scope="col" class="num">{t(lang, "done")}</th>
                <th scope="col" class="num">{t(lang, "pending")}</th>
                <th scope="col" class="num">{t(lang, "overdue")}</th>
              </tr></thead>
              <tbody>{lists.map((l) => {
                const here = l.completion.find((c) => c.code === code);
                const chosen = l.reference === props.reference;
                return (
                  <tr key={l.id} data-list={l.reference} class={chosen ? "chosen" : undefined}>
                    <th scope="row">
                      <a href={assistanceHref(code, l.reference)}
                         aria-current={chosen ? "true" : undefined}>{l.reference}</a>
                    </th>
                    <td>{pick(l.sourceLabel, lang)}</td>
                    <td>{formatTime(l.receivedAt, lang)}</td>
                    <td class="num" data-col="total">{here?.total ?? 0} / {l.itemCount}</td>
                    <td class="num" data-col="done">{here?.done ?? 0}</td>
                    <td class="num" data-col="pending">{here?.pending ?? 0}</td>
                    <td class="num" data-col="overdue">{here?.overdue ?? 0}</td>
                  </tr>
                );
              })}
              </tbody>
            </table>
          </Scroll>
        ))}
      </section>
      {props.reference && <ListView {...props} reference={props.reference} />}
    </div>
  );
}

function ListView(props: Props & { reference: string }) {
  const { lang, code } = props;
  const q = useQuery<{ list: ListDetail | null }>(props.token, LIST,
                                                  { reference: props.reference, scope: code },
                                                  props.onAuthError);
  const l = q.data?.list;
  return (
    <section class="card list-detail" aria-labelledby="list-title" data-testid="assistance-list"
             aria-busy={q.loading}>
      <h3 id="list-title">{t(lang, "assistanceList")} {props.reference}</h3>
      {q.loading && !q.data && <p role="status" class="muted">{t(lang, "loading")}</p>}
      {q.error && <p class="error" role="alert">{q.error}</p>}
      {q.data && !l && <p class="muted">{t(lang, "listMissing")}</p>}
      {l && (
        <>
          <p>{pick(l.sourceLabel, lang)} · {formatTime(l.receivedAt, lang)} · {l.scopeCode} ·{" "}
            {t(lang, "persons")} {l.itemCount}</p>
          <Levels lang={lang} rows={l.completion} />
          <Items lang={lang} items={l.items}
                 names={new Map(l.completion.map((c) => [c.code, c.name ?? c.code]))} />
        </>
      )}
    </section>
  );
}

function Levels(props: { lang: Lang; rows: Completion[] }) {
  const { lang } = props;
  const rows = [...props.rows].sort((a, b) => depth(a) - depth(b) || a.code.localeCompare(b.code));
  return (
    <section aria-labelledby="completion-by-level">
      <h4 id="completion-by-level">{t(lang, "completionByLevel")}</h4>
      {rows.length === 0 ? <p class="muted">{t(lang, "none")}</p> : (
        <Scroll label={t(lang, "completionTable")}>
          <table data-testid="assistance-completion">
            <thead><tr>
              <th scope="col">{t(lang, "level")}</th>
              <th scope="col">{t(lang, "name")}</th>
              <th scope="col" class="num">{t(lang, "total")}</th>
              <th scope="col" class="num">{t(lang, "statusFound")}</th>
              <th scope="col" class="num">{t(lang, "statusNotFound")}</th>
              <th scope="col" class="num">{t(lang, "statusMoved")}</th>
              <th scope="col" class="num">{t(lang, "statusWrong")}</th>
              <th scope="col" class="num">{t(lang, "pending")}</th>
              <th scope="col" class="num">{t(lang, "overdue")}</th>
              <th scope="col" class="num">{t(lang, "done")}</th>
            </tr></thead>
            <tbody>{rows.map((c) => (
              <tr key={c.code} data-node={c.code}>
                <td>{c.levelLabel ? pick(c.levelLabel, lang) : "—"}</td>
                <th scope="row">{c.name ?? c.code}</th>
                <td class="num" data-col="total">{c.total}</td>
                <td class="num" data-col="found">{c.found}</td>
                <td class="num" data-col="not-found">{c.notFound}</td>
                <td class="num" data-col="moved-away">{c.movedAway}</td>
                <td class="num" data-col="wrong-data">{c.wrongData}</td>
                <td class="num" data-col="pending">{c.pending}</td>
                <td class="num" data-col="overdue">{c.overdue}</td>
                <td class="num" data-col="rate">{c.rate === null ? "—" : percent(c.rate)}</td>
              </tr>))}
            </tbody>
          </table>
        </Scroll>
      )}
    </section>
  );
}

function Items(props: { lang: Lang; items: Item[]; names: Map<string, string> }) {
  const { lang, items, names } = props;
  const where = (code: string) => names.get(code) ?? code;
  return (
    <section aria-labelledby="items-here">
      <h4 id="items-here">{t(lang, "itemsHere")} ({items.length})</h4>
      {items.length === 0 ? <p class="muted">{t(lang, "none")}</p> : (
        <Scroll label={t(lang, "itemsTable")}>
          <table data-testid="assistance-items">
            <thead><tr>
              <th scope="col" class="num">{t(lang, "no")}</th>
              <th scope="col">{t(lang, "personName")}</th>
              <th scope="col">{t(lang, "place")}</th>
              <th scope="col">{t(lang, "owner")}</th>
              <th scope="col">{t(lang, "state")}</th>
              <th scope="col">{t(lang, "deadline")}</th>
              <th scope="col">{t(lang, "reportedAt")}</th>
              <th scope="col">{t(lang, "measureTaken")}</th>
            </tr></thead>
            <tbody>{items.map((i) => (
              <tr key={i.id} data-item={i.no} data-status={i.status}
                  class={i.overdue ? "overdue" : undefined}>
                <td class="num">{i.no}</td>
                <th scope="row" class="person-name">{i.name ?? "—"}</th>
                <td>{where(i.place)}</td>
                <td>{where(i.owner)}{i.escalations > 0 && (
                  <> <span class="badge">{t(lang, "escalated")} ×{i.escalations}</span></>)}</td>
                <td data-col="state">{pick(i.statusLabel, lang)}{i.overdue && (
                  <> <span class="badge late">{t(lang, "overdue")}</span></>)}</td>
                <td>{i.deadline ? formatTime(i.deadline, lang) : "—"}</td>
                <td>{i.reportedAt ? formatTime(i.reportedAt, lang) : "—"}</td>
                <td>{i.measure ?? ""}</td>
              </tr>))}
            </tbody>
          </table>
        </Scroll>
      )}
    </section>
  );
}
