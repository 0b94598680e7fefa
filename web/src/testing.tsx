// 核酸检测 mass testing: the campaigns over a node (every round; a second round says which it
// follows), and for a chosen campaign its coverage per sub-grid (sampled / to sample, share,
// who is not sampled), the tubes pending results, the positive pools with the households they
// put under temporary control, the single-tube retests due and the cases opened. Names and
// household numbers are as the API returns them for the reader's role.

import type { ComponentChildren } from "preact";
import { type ChildNode } from "./api";
import { householdHref, nodeHref, testingHref, tracingHref, useQuery } from "./hooks";
import { formatTime, type Lang, percent, pick, t } from "./i18n";
import { householdLabel, shortId } from "./node";
import { Scroll } from "./scroll";

interface Props {
  lang: Lang;
  token: string;
  code: string;
  scope?: string;
  round?: number;
  onAuthError: () => void;
}

const SUMMARY = "id scopeCode round name starts ends poolSize households residents sampled followUpOf";

const CAMPAIGNS = `query TestingCampaigns($scope: String) { testingCampaigns(scope: $scope) {
  ${SUMMARY} } }`;
interface Summary {
  id: string; scopeCode: string; round: number; name: string; starts: string; ends: string;
  poolSize: number; households: number; residents: number; sampled: number;
  followUpOf: string | null;
}

const CAMPAIGN = `query TestingCampaign($scope: String!, $round: Int!, $code: String!) {
  node: gridNode(code: $code) { code name children { code name } }
  campaign: testingCampaign(scope: $scope, round: $round) { ${SUMMARY}
    coverage { code households residents sampled unsampled share doorToDoorHouseholds
      tubesPending positives underControl unsampledHouseholdIds }
    tubesPending { code members sealed }
    retestsDue { residentId householdId poolCode due }
    positivePools { code members resultAt households { householdId householdNo address
      pooled controlled released measureLabel household { residents { id name } } } }
    cases
  } }`;
interface NodeCoverage {
  code: string; households: number; residents: number; sampled: number; unsampled: number;
  share: number; doorToDoorHouseholds: number; tubesPending: number; positives: number;
  underControl: number; unsampledHouseholdIds: string[];
}
interface Controlled {
  householdId: string; householdNo: string | null; address: string | null; pooled: string[];
  controlled: string[]; released: string[]; measureLabel: string | null;
  household: { residents: { id: string; name: string | null }[] } | null;
}
interface Detail extends Summary {
  coverage: NodeCoverage[];
  tubesPending: { code: string; members: number; sealed: boolean }[];
  retestsDue: { residentId: string; householdId: string; poolCode: string; due: string }[];
  positivePools: { code: string; members: number; resultAt: string | null;
                   households: Controlled[] }[];
  cases: string[];
}
interface DetailData {
  node: { code: string; name: string; children: Pick<ChildNode, "code" | "name">[] } | null;
  campaign: Detail | null;
}

const share = (sampled: number, residents: number): number =>
  residents ? sampled / residents : 1;

export function TestingView(props: Props) {
  const { lang, token, code } = props;
  const q = useQuery<{ testingCampaigns: Summary[] }>(token, CAMPAIGNS, { scope: code },
                                                      props.onAuthError);
  const list = q.data?.testingCampaigns ?? [];
  const chosen = (c: Summary) => c.scopeCode === props.scope && c.round === props.round;
  return (
    <div class="testing">
      <nav aria-label={t(lang, "breadcrumb")} class="crumbs">
        <ol>
          <li><a href={nodeHref(code)}>{code}</a></li>
          <li aria-current="page">{t(lang, "testing")}</li>
        </ol>
      </nav>
      <h2 class="node-title">{t(lang, "testing")} <span class="level">{code}</span></h2>
      <section class="card" aria-labelledby="testing-campaigns">
        <h3 id="testing-campaigns">{t(lang, "testingCampaigns")}</h3>
        {q.loading && !q.data && <p role="status" class="muted">{t(lang, "loading")}</p>}
        {q.error && <p class="error" role="alert">{q.error}</p>}
        {q.data && (list.length === 0 ? <p class="muted">{t(lang, "noTestingCampaign")}</p> : (
          <Scroll label={t(lang, "testingTable")}>
            <table data-testid="testing-campaigns">
              <thead><tr>
                <th scope="col">{t(lang, "testingCampaign")}</th>
                <th scope="col" class="num">{t(lang, "round")}</th>
                <th scope="col">{t(lang, "window")}</th>
                <th scope="col" class="num">{t(lang, "sampled")} / {t(lang, "toSample")}</th>
                <th scope="col" class="num">{t(lang, "share")}</th>
              </tr></thead>
              <tbody>{list.map((c) => {
                const first = list.find((x) => x.id === c.followUpOf);
                return (
                  <tr key={c.id} data-campaign={`${c.scopeCode}#${c.round}`}
                      class={chosen(c) ? "chosen" : undefined}>
                    <th scope="row">
                      <a href={testingHref(code, c.scopeCode, c.round)}
                         aria-current={chosen(c) ? "true" : undefined}>{c.name}</a>
                      {first && <span class="badge">{t(lang, "secondRound")}</span>}
                    </th>
                    <td class="num">{c.round}</td>
                    <td>{formatTime(c.starts, lang)} – {formatTime(c.ends, lang)}</td>
                    <td class="num">{c.sampled} / {c.residents}</td>
                    <td class="num">{percent(share(c.sampled, c.residents))}</td>
                  </tr>
                );
              })}
              </tbody>
            </table>
          </Scroll>
        ))}
      </section>
      {props.scope && props.round && (
        <CampaignDetail {...props} scope={props.scope} round={props.round} all={list} />
      )}
    </div>
  );
}

function CampaignDetail(props: Props & { scope: string; round: number; all: Summary[] }) {
  const { lang, code } = props;
  const q = useQuery<DetailData>(props.token, CAMPAIGN,
                                 { scope: props.scope, round: props.round, code },
                                 props.onAuthError);
  const c = q.data?.campaign;
  const second = c && props.all.find((x) => x.followUpOf === c.id);
  const first = c && props.all.find((x) => x.id === c.followUpOf);
  return (
    <section class="card campaign-detail" aria-labelledby="campaign-title"
             data-testid="testing-campaign" aria-busy={q.loading}>
      <h3 id="campaign-title">{c?.name ?? `${props.scope} #${props.round}`}</h3>
      {q.loading && !q.data && <p role="status" class="muted">{t(lang, "loading")}</p>}
      {q.error && <p class="error" role="alert">{q.error}</p>}
      {q.data && !c && <p class="muted">{t(lang, "campaignMissing")}</p>}
      {c && (
        <>
          <p>
            {formatTime(c.starts, lang)} – {formatTime(c.ends, lang)} · {t(lang, "poolSize")}{" "}
            {c.poolSize}{t(lang, "inOne")} · {t(lang, "sampled")}{" "}
            <strong data-testid="campaign-sampled">{c.sampled}</strong> / {c.residents} ·{" "}
            {t(lang, "unsampled")} <strong data-testid="campaign-unsampled">
              {c.residents - c.sampled}</strong>
          </p>
          <p data-testid="second-round">
            {first && <>{t(lang, "followsRound")} <a href={testingHref(
              code, first.scopeCode, first.round)}>{first.round}</a> · </>}
            {second
              ? <a href={testingHref(code, second.scopeCode, second.round)}
                   data-testid="open-second-round">
                  {t(lang, "openSecondRound")} ({t(lang, "round")} {second.round}:{" "}
                  {second.sampled} / {second.residents})</a>
              : !first && <span class="muted">{t(lang, "noSecondRound")}</span>}
          </p>
          <CoverageTable lang={lang} detail={c} node={q.data!.node} />
          <PositivePools lang={lang} detail={c} />
          <Pending lang={lang} detail={c} />
          <Retests lang={lang} detail={c} />
          <section aria-labelledby="cases-opened" data-testid="cases-opened">
            <h4 id="cases-opened">{t(lang, "casesOpened")} ({c.cases.length})</h4>
            {c.cases.length === 0 ? <p class="muted">{t(lang, "none")}</p> : (
              <ul>{c.cases.map((no) => (
                <li key={no}><a href={tracingHref(code, no)}>{no}</a></li>))}</ul>
            )}
          </section>
        </>
      )}
    </section>
  );
}

/** Coverage of the node's sub-grids (the node itself when it has none), its own row last. */
function CoverageTable(props: { lang: Lang; detail: Detail; node: DetailData["node"] }) {
  const { lang, detail, node } = props;
  const byCode = new Map(detail.coverage.map((n) => [n.code, n]));
  const names = new Map((node?.children ?? []).map((n) => [n.code, n.name]));
  const children = (node?.children ?? []).map((n) => byCode.get(n.code)).filter(
    (n): n is NodeCoverage => n !== undefined);
  const own = node ? byCode.get(node.code) : undefined;
  // a node the campaign does not count at (a street under a district's campaign): every row
  const rows = children.length || own ? children : detail.coverage;
  return (
    <section aria-labelledby="coverage-by-node">
      <h4 id="coverage-by-node">{t(lang, "coverageByNode")}</h4>
      <Scroll label={t(lang, "testingCoverageTable")}>
        <table data-testid="testing-coverage">
          <thead><tr>
            <th scope="col">{t(lang, "name")}</th>
            <th scope="col" class="num">{t(lang, "sampled")} / {t(lang, "toSample")}</th>
            <th scope="col" class="num">{t(lang, "share")}</th>
            <th scope="col" class="num">{t(lang, "unsampled")}</th>
            <th scope="col" class="num">{t(lang, "unsampledHouseholds")}</th>
            <th scope="col" class="num">{t(lang, "doorToDoor")}</th>
            <th scope="col" class="num">{t(lang, "tubesPendingShort")}</th>
            <th scope="col" class="num">{t(lang, "positives")}</th>
            <th scope="col" class="num">{t(lang, "underControl")}</th>
          </tr></thead>
          <tbody>
            {[...rows, ...(own ? [own] : [])].map((n) => (
              <tr key={n.code} data-node={n.code} class={n === own ? "total" : undefined}>
                <th scope="row">{n === own ? `${t(lang, "total")} ${node?.name ?? n.code}`
                  : names.get(n.code) ?? n.code}</th>
                <td class="num" data-col="sampled">{n.sampled} / {n.residents}</td>
                <td class="num" data-col="share">{percent(n.share)}</td>
                <td class="num" data-col="unsampled">{n.unsampled}</td>
                <td class="num" data-col="unsampled-households">
                  {n.unsampledHouseholdIds.length}</td>
                <td class="num">{n.doorToDoorHouseholds}</td>
                <td class="num">{n.tubesPending}</td>
                <td class="num">{n.positives}</td>
                <td class="num">{n.underControl}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
    </section>
  );
}

function PositivePools(props: { lang: Lang; detail: Detail }) {
  const { lang, detail } = props;
  return (
    <section aria-labelledby="positive-pools" data-testid="positive-pools">
      <h4 id="positive-pools">{t(lang, "positivePools")} ({detail.positivePools.length})</h4>
      {detail.positivePools.length === 0 ? <p class="muted">{t(lang, "noPositive")}</p>
        : detail.positivePools.map((p) => (
          <div key={p.code} class="pool" data-pool={p.code}>
            <p><strong>{p.code}</strong> · {p.members} {t(lang, "members")}
              {p.resultAt && <> · {t(lang, "resultAt")} {formatTime(p.resultAt, lang)}</>}</p>
            <ul>{p.households.map((h) => {
              const name = (id: string) =>
                h.household?.residents.find((r) => r.id === id)?.name ?? shortId(id);
              return (
                <li key={h.householdId} data-household={h.householdId}>
                  <a href={householdHref(h.householdId)}>{householdLabel(
                    { id: h.householdId, householdNo: h.householdNo })}</a>
                  {h.address && <span class="muted"> · {h.address}</span>}
                  {h.measureLabel && <> · <span class="badge">{pick(h.measureLabel, lang)}</span></>}
                  {" "}{t(lang, "controlledResidents")}:{" "}
                  <span class="controlled">{h.controlled.map((id) => (
                    <span key={id} class="person-name" data-released={
                      h.released.includes(id) ? "true" : undefined}>
                      {name(id)}{h.released.includes(id) ? ` (${t(lang, "released")})` : ""}
                    </span>)).reduce<ComponentChildren[]>(
                    (all, x, i) => (i ? [...all, "、", x] : [x]), [])}</span>
                </li>
              );
            })}</ul>
          </div>
        ))}
    </section>
  );
}

function Pending(props: { lang: Lang; detail: Detail }) {
  const { lang, detail } = props;
  return (
    <section aria-labelledby="tubes-pending">
      <h4 id="tubes-pending">{t(lang, "tubesPending")} ({detail.tubesPending.length})</h4>
      {detail.tubesPending.length === 0 ? <p class="muted">{t(lang, "none")}</p> : (
        <Scroll label={t(lang, "tubesTable")}>
          <table data-testid="tubes-pending">
            <thead><tr>
              <th scope="col">{t(lang, "tubeCode")}</th>
              <th scope="col" class="num">{t(lang, "members")}</th>
              <th scope="col">{t(lang, "sealed")}</th>
            </tr></thead>
            <tbody>{detail.tubesPending.map((x) => (
              <tr key={x.code} data-tube={x.code}>
                <th scope="row">{x.code}</th>
                <td class="num">{x.members}</td>
                <td>{x.sealed ? "✓" : "—"}</td>
              </tr>))}
            </tbody>
          </table>
        </Scroll>
      )}
    </section>
  );
}

function Retests(props: { lang: Lang; detail: Detail }) {
  const { lang, detail } = props;
  const households = new Map(detail.positivePools.flatMap((p) => p.households).map(
    (h) => [h.householdId, h]));
  return (
    <section aria-labelledby="retests-due">
      <h4 id="retests-due">{t(lang, "retestsDue")} ({detail.retestsDue.length})</h4>
      {detail.retestsDue.length === 0 ? <p class="muted">{t(lang, "none")}</p> : (
        <Scroll label={t(lang, "retestsTable")}>
          <table data-testid="retests-due">
            <thead><tr>
              <th scope="col">{t(lang, "resident")}</th>
              <th scope="col">{t(lang, "household")}</th>
              <th scope="col">{t(lang, "poolCode")}</th>
              <th scope="col">{t(lang, "due")}</th>
            </tr></thead>
            <tbody>{detail.retestsDue.map((r) => {
              const h = households.get(r.householdId);
              const name = h?.household?.residents.find((x) => x.id === r.residentId)?.name;
              return (
                <tr key={r.residentId} data-resident={r.residentId}>
                  <th scope="row" class="person-name">{name ?? shortId(r.residentId)}</th>
                  <td><a href={householdHref(r.householdId)}>{householdLabel(
                    { id: r.householdId, householdNo: h?.householdNo ?? null })}</a></td>
                  <td>{r.poolCode}</td>
                  <td>{formatTime(r.due, lang)}</td>
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
