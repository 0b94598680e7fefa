// The escalations (升级) and overdue (超时) feeds of the whole jurisdiction, followed live over
// the API's `escalations` and `overdue` subscriptions from the moment the page opens.

import { useEffect, useState } from "preact/hooks";
import { follow, type LiveState } from "./api";
import { formatTime, type Key, type Lang, liveLabel, t } from "./i18n";

const ESCALATIONS = `subscription Escalations($after: Int) { escalations(after: $after) {
  notificationId subject subjectId placeCode toCode at } }`;
const OVERDUE = `subscription Overdue($after: Int) { overdue(after: $after) {
  notificationId subject subjectId placeCode at } }`;
const KEEP = 30; // items shown per feed, newest first

export interface WatchItem {
  notificationId: number;
  subject: string;
  subjectId: string;
  placeCode: string;
  toCode?: string;
  at: string;
}

interface FeedState {
  items: WatchItem[];
  live: LiveState;
  problem: string | null;
}

function useFeed(token: string, query: string, field: "escalations" | "overdue",
                 onItem: (item: WatchItem) => void): FeedState {
  const [items, setItems] = useState<WatchItem[]>([]);
  const [live, setLive] = useState<LiveState>("connecting");
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => follow<Record<string, WatchItem>>(
    token, query, (d) => d[field].notificationId,
    (d) => {
      const item = d[field];
      setItems((old) => old.some((i) => i.notificationId === item.notificationId) ? old
        : [item, ...old].slice(0, KEEP));
      onItem(item);
    }, setLive, 3000, setProblem), [token, query]);
  return { items, live, problem };
}

const subjectKey = (subject: string): Key => `subject_${subject}` as Key;

function Feed(props: { lang: Lang; title: Key; testId: string; feed: FeedState }) {
  const { lang, feed } = props;
  return (
    <section class="feed" aria-label={t(lang, props.title)}>
      <h4>{t(lang, props.title)}</h4>
      {feed.problem && <p class="error" role="alert">{feed.problem}</p>}
      {feed.items.length === 0 && <p class="muted">{t(lang, "noneYet")}</p>}
      <ol aria-live="polite" data-testid={props.testId}>
        {feed.items.map((i) => (
          <li key={i.notificationId} data-subject={i.subject} data-id={i.subjectId}>
            <span class="badge">{t(lang, subjectKey(i.subject))}</span>{" "}
            <span class="code">{i.subjectId.slice(0, 8)}</span>{" "}
            {i.placeCode}{i.toCode && i.toCode !== i.placeCode ? ` → ${i.toCode}` : ""}{" "}
            <time dateTime={i.at} class="muted">{formatTime(i.at, lang)}</time>
          </li>
        ))}
      </ol>
    </section>
  );
}

/** Both feeds in one card; `onItem` lets the boards refresh what an item changed. */
export function WatchFeeds(props: { lang: Lang; token: string; onItem: (item: WatchItem) => void }) {
  const { lang, token } = props;
  const escalations = useFeed(token, ESCALATIONS, "escalations", props.onItem);
  const overdue = useFeed(token, OVERDUE, "overdue", props.onItem);
  const live: LiveState = escalations.live === "live" && overdue.live === "live" ? "live"
    : escalations.live === "closed" || overdue.live === "closed" ? "closed" : "connecting";
  return (
    <section class="card board" aria-labelledby="board-watch" data-area="watch"
             data-state="ok">
      <h3 id="board-watch">{t(lang, "watch")}</h3>
      <p class="muted live" data-live={live}>
        {liveLabel(lang, live)} · {t(lang, "sinceOpened")}
      </p>
      <div class="feeds">
        <Feed lang={lang} title="escalationFeed" testId="escalation-feed" feed={escalations} />
        <Feed lang={lang} title="overdueFeed" testId="overdue-feed" feed={overdue} />
      </div>
    </section>
  );
}
