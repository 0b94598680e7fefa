// One household: its residents' status and its timeline (户档案), newest first.

import { type Household, HOUSEHOLD } from "./api";
import { nodeHref, useQuery } from "./hooks";
import { enumLabel, formatTime, type Lang, pick, t } from "./i18n";
import { householdLabel, Problem, shortId } from "./node";
import { Scroll } from "./scroll";

interface Props {
  lang: Lang;
  token: string;
  id: string;
  home: string;
  onAuthError: () => void;
}

export function HouseholdView(props: Props) {
  const { lang } = props;
  const q = useQuery<{ household: Household | null }>(props.token, HOUSEHOLD, { id: props.id },
                                                      props.onAuthError);
  if (q.error) return <Problem lang={lang} message={q.error} retry={q.reload} />;
  if (!q.data) return <p role="status">{t(lang, "loading")}</p>;
  const h = q.data.household;
  if (!h) {
    return (
      <>
        <p class="error" role="alert">{t(lang, "householdMissing")}</p>
        <a href={nodeHref(props.home)}>{t(lang, "backToGrid")}</a>
      </>
    );
  }
  const grid = h.microGrid?.code ?? h.microGridCode;
  const entries = [...h.timeline].reverse();
  return (
    <div class="household">
      <nav class="crumbs" aria-label={t(lang, "breadcrumb")}>
        <ol>
          <li><a href={nodeHref(grid)}>{h.microGrid?.name ?? h.microGridCode}</a></li>
          <li aria-current="page">{t(lang, "household")} {householdLabel(h)}</li>
        </ol>
      </nav>
      <h2>{t(lang, "household")} <span class="code">{householdLabel(h)}</span></h2>
      <dl class="stats small" data-testid="where">
        <div><dt>{t(lang, "address")}</dt><dd>{h.address ?? "—"}</dd></div>
        <div><dt>{t(lang, "building")}</dt><dd>{h.buildingNo ?? "—"}</dd></div>
      </dl>
      <section class="card" aria-labelledby="residents-title">
        <h3 id="residents-title">{t(lang, "residents")} ({h.residents.length})</h3>
        <Scroll label={t(lang, "residentsTable")}>
          <table>
            <thead>
              <tr>
                <th scope="col">{t(lang, "resident")}</th>
                <th scope="col">{t(lang, "health")}</th>
                <th scope="col">{t(lang, "measure")}</th>
                <th scope="col">{t(lang, "tags")}</th>
              </tr>
            </thead>
            <tbody>
              {h.residents.map((r) => (
                <tr key={r.id}>
                  <th scope="row">{r.name ?? shortId(r.id)}</th>
                  <td>{enumLabel(r.health, lang, r.healthLabel)}</td>
                  <td>{enumLabel(r.measure, lang, r.measureLabel)}</td>
                  <td>{r.tags.map((tag) => enumLabel(tag, lang)).join("、") || "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      </section>
      <section class="card" aria-labelledby="timeline-title">
        <h3 id="timeline-title">{t(lang, "timeline")} ({entries.length})</h3>
        <ol class="timeline" data-testid="timeline">
          {entries.map((e) => (
            <li key={e.notificationId} data-kind={e.kind}>
              <time dateTime={e.at}>{formatTime(e.at, lang)}</time>
              <strong>{pick(e.label, lang)}</strong>
              {e.detail && <span class="detail">{e.detail}</span>}
            </li>
          ))}
        </ol>
      </section>
      <a href={nodeHref(grid)}>{t(lang, "backToGrid")}</a>
    </div>
  );
}
