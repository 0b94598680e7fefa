// A node's households (户列表): filtered by a resident's health or measure, a page at a time,
// each one click from its timeline.

import { useEffect, useState } from "preact/hooks";
import { type Health, HEALTHS, type HouseholdPage, HOUSEHOLDS, type Measure, MEASURES } from "./api";
import { householdHref, useQuery } from "./hooks";
import { enumLabel, type Lang, t } from "./i18n";
import { householdLabel, Problem } from "./node";
import { Scroll } from "./scroll";

interface Props {
  lang: Lang;
  token: string;
  code: string;
  onAuthError: () => void;
}

export function Households(props: Props) {
  const { lang } = props;
  const [health, setHealth] = useState<Health | "">("");
  const [measure, setMeasure] = useState<Measure | "">("");
  const [after, setAfter] = useState<string | null>(null);
  const [rows, setRows] = useState<HouseholdPage["edges"]>([]);
  useEffect(() => {
    setAfter(null);
    setRows([]);
  }, [props.code, health, measure]);
  const q = useQuery<{ node: { households: HouseholdPage } | null }>(props.token, HOUSEHOLDS, {
    code: props.code, after, health: health || null, measure: measure || null,
  }, props.onAuthError);
  const page = q.data?.node?.households;
  useEffect(() => {
    if (page) setRows((old) => (after ? [...old, ...page.edges] : page.edges));
  }, [page]);
  return (
    <section class="card" aria-labelledby="households-title">
      <h3 id="households-title">
        {t(lang, "householdList")} {page && <span class="muted">({t(lang, "total")} {page.totalCount})</span>}
      </h3>
      <div class="filters">
        <div class="field">
          <label for="filter-health">{t(lang, "filterHealth")}</label>
          <select id="filter-health" value={health}
                  onChange={(e) => setHealth((e.target as HTMLSelectElement).value as Health | "")}>
            <option value="">{t(lang, "any")}</option>
            {HEALTHS.map((h) => <option key={h} value={h}>{enumLabel(h, lang)}</option>)}
          </select>
        </div>
        <div class="field">
          <label for="filter-measure">{t(lang, "filterMeasure")}</label>
          <select id="filter-measure" value={measure}
                  onChange={(e) => setMeasure((e.target as HTMLSelectElement).value as Measure | "")}>
            <option value="">{t(lang, "any")}</option>
            {MEASURES.map((m) => <option key={m} value={m}>{enumLabel(m, lang)}</option>)}
          </select>
        </div>
      </div>
      {q.error && <Problem lang={lang} message={q.error} retry={q.reload} />}
      <Scroll label={t(lang, "householdsTable")}>
        <table data-testid="household-table">
          <thead>
            <tr>
              <th scope="col">{t(lang, "householdNo")}</th>
              <th scope="col">{t(lang, "address")}</th>
              <th scope="col">{t(lang, "microGrid")}</th>
              <th scope="col" class="num">{t(lang, "members")}</th>
              <th scope="col">{t(lang, "health")}</th>
              <th scope="col">{t(lang, "measure")}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(({ node: h }) => (
              <tr key={h.id}>
                <th scope="row">
                  <a href={householdHref(h.id)}
                     aria-label={`${t(lang, "openTimeline")} ${householdLabel(h)}`}>{householdLabel(h)}</a>
                </th>
                <td>{h.address ?? "—"}</td>
                <td>{h.microGridCode}</td>
                <td class="num">{h.residents.length}</td>
                <td>{distinct(h.residents.map((r) => enumLabel(r.health, lang, r.healthLabel)))}</td>
                <td>{distinct(h.residents.map((r) => enumLabel(r.measure, lang, r.measureLabel)))}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </Scroll>
      {q.loading && <p role="status">{t(lang, "loading")}</p>}
      {page?.pageInfo.hasNextPage && !q.loading && (
        <button type="button" class="secondary" onClick={() => setAfter(page.pageInfo.endCursor)}>
          {t(lang, "more")}
        </button>
      )}
    </section>
  );
}

function distinct(values: string[]): string {
  return [...new Set(values)].join("、");
}
