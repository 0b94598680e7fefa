// The GraphQL client and the queries the dashboard sends (POST /graphql with a bearer token).
// Every answer is limited by the API to the token's jurisdiction: outside it reads as null.

export type Health =
  | "NORMAL" | "SYMPTOMATIC" | "SUSPECTED" | "CONFIRMED" | "RECOVERED" | "DECEASED";
export type Measure =
  | "NONE" | "HOME_OBSERVATION" | "HOME_QUARANTINE" | "CENTRALIZED_QUARANTINE" | "HOSPITALIZED";
export type TagKind = "CLOSE_CONTACT" | "SECONDARY_CONTACT" | "RISK_AREA_ARRIVAL";

export const HEALTHS: Health[] = [
  "NORMAL", "SYMPTOMATIC", "SUSPECTED", "CONFIRMED", "RECOVERED", "DECEASED",
];
export const MEASURES: Measure[] = [
  "NONE", "HOME_OBSERVATION", "HOME_QUARANTINE", "CENTRALIZED_QUARANTINE", "HOSPITALIZED",
];

export interface Me {
  id: string;
  role: string;
  roleLabel: string;
  jurisdictionCode: string;
  jurisdiction: { code: string; name: string; levelLabel: string } | null;
  /** every node of the jurisdiction (a grid worker's zones), in order */
  jurisdictions: { code: string; name: string }[];
}

export interface Rollup {
  households: number;
  residents: number;
  staff: number;
  byHealth: { health: Health; label: string; count: number }[];
  byMeasure: { measure: Measure; label: string; count: number }[];
  byTag: { tag: TagKind; label: string; count: number }[];
}

export interface CoverageCounts {
  households: number;
  covered: number;
  uncovered: number;
  share: number;
}

export interface Coverage extends CoverageCounts {
  byMethod: { method: string; count: number }[];
  notCovered: { reason: string; label: string; count: number }[];
  fevers: number;
  closeContacts: number;
}

export interface Campaign {
  id: string;
  name: string;
  round: number;
  scopeCode: string;
  starts: string;
  ends: string;
  closedAt: string | null;
  coverage: Coverage;
}

/** 待办 what is still open in a node's subtree (null outside the jurisdiction). */
export interface OpenItems {
  referrals: number;
  deliveries: number;
  requests: number;
  alerts: number;
  total: number;
}

export const OPEN_KINDS = ["referrals", "deliveries", "requests", "alerts"] as const;

export interface ChildNode {
  code: string;
  name: string;
  level: string;
  levelLabel: string;
  rollup: Rollup;
  openItems: OpenItems | null;
  campaigns: { id: string; coverage: CoverageCounts }[];
}

export interface GridNode {
  code: string;
  name: string;
  level: string;
  levelLabel: string;
  ancestors: { code: string; name: string }[];
  rollup: Rollup;
  openItems: OpenItems | null;
  children: ChildNode[];
  campaigns: Campaign[];
}

export interface Resident {
  id: string;
  name?: string | null;
  health: Health;
  healthLabel: string;
  measure: Measure;
  measureLabel: string;
  tags: TagKind[];
}

export interface HouseholdRow {
  id: string;
  microGridCode: string;
  /** 户号 and 门牌: whole for the roles sent to the door, "****" for others. */
  householdNo: string | null;
  address: string | null;
  residents: Resident[];
}

export interface HouseholdPage {
  totalCount: number;
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  edges: { cursor: string; node: HouseholdRow }[];
}

export interface TimelineEntry {
  notificationId: number;
  at: string;
  kind: string;
  label: string;
  detail: string;
}

export interface Household extends HouseholdRow {
  buildingNo: string | null;
  microGrid: { code: string; name: string } | null;
  timeline: TimelineEntry[];
}

export interface Uncovered {
  reason: string;
  label: string;
  attempts: number;
  householdId: string;
  householdNo: string | null;
  address: string | null;
  household: { microGridCode: string; residents: { id: string }[] } | null;
}

/** The token was refused (HTTP 401): log in again. */
export class AuthError extends Error {}

export async function gql<T>(token: string, query: string,
                             variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch("/graphql", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  if (response.status === 401) {
    throw new AuthError((await response.text()) || "401");
  }
  if (!response.ok) {
    throw new Error(`HTTP ${response.status}: ${(await response.text()).slice(0, 200)}`);
  }
  const body = (await response.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length) {
    throw new Error(body.errors.map((e) => e.message).join("; "));
  }
  return body.data as T;
}

const ROLLUP = `households residents staff
  byHealth { health label count } byMeasure { measure label count } byTag { tag label count }`;

/** The application's time, and whether it is a scenario's (the demo, a replayed scenario). */
export interface ClockState { now: string; scenario: boolean }
export const CLOCK = "query Clock { clock { now scenario } }";

export const ME = `query Me { me { id role roleLabel jurisdictionCode
  jurisdiction { code name levelLabel } jurisdictions { code name } } }`;

const OPEN_ITEMS = "openItems { referrals deliveries requests alerts total }";

export const NODE = `query Node($code: String!) { node: gridNode(code: $code) {
  code name level levelLabel
  ancestors { code name }
  rollup { ${ROLLUP} }
  ${OPEN_ITEMS}
  children { code name level levelLabel rollup { ${ROLLUP} } ${OPEN_ITEMS}
    campaigns { id coverage { households covered uncovered share } } }
  campaigns { id name round scopeCode starts ends closedAt
    coverage { households covered uncovered share byMethod { method count }
      notCovered { reason label count } fevers closeContacts } }
} }`;

export const UNCOVERED = `query Uncovered($code: String!, $first: Int!) { node: gridNode(code: $code) {
  code name campaigns { id uncovered(first: $first) { reason label attempts householdId
    householdNo address household { microGridCode residents { id } } } }
} }`;

export const HOUSEHOLDS = `query Households($code: String!, $after: String, $health: Health,
  $measure: Measure) { node: gridNode(code: $code) {
  households(first: 20, after: $after, health: $health, measure: $measure) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id microGridCode householdNo address residents { id health healthLabel measure measureLabel tags } } }
  }
} }`;

export const HOUSEHOLD = `query Household($id: ID!) { household(id: $id) {
  id microGridCode householdNo buildingNo address microGrid { code name }
  residents { id name health healthLabel measure measureLabel tags }
  timeline { notificationId at kind label detail }
} }`;

export type LiveState = "connecting" | "live" | "closed";

/**
 * Follow a subscription over graphql-transport-ws at /graphql; the token goes in the
 * connection_init payload (browsers cannot set headers on a websocket). A dropped socket is
 * reopened after a pause, asking for what came after the last notification it saw; a
 * subscription the server refuses (e.g. unknown to its schema) calls `onError` and stops.
 * Returns a function that stops following.
 */
export function follow<T>(token: string, query: string, lastId: (data: T) => number | null,
                          onData: (data: T) => void, onState: (state: LiveState) => void,
                          retryMs = 3000, onError?: (message: string) => void): () => void {
  let stopped = false;
  let after: number | null = null;
  let socket: WebSocket | null = null;
  let timer: number | undefined;
  const open = () => {
    onState("connecting");
    const ws = new WebSocket(`${location.origin.replace(/^http/, "ws")}/graphql`,
                             "graphql-transport-ws");
    socket = ws;
    ws.binaryType = "arraybuffer"; // a server may send its JSON as binary frames: decode both
    ws.onopen = () => ws.send(JSON.stringify({
      type: "connection_init", payload: { Authorization: `Bearer ${token}` } }));
    ws.onmessage = (event) => {
      const text = typeof event.data === "string" ? event.data
        : new TextDecoder().decode(event.data as ArrayBuffer);
      const m = JSON.parse(text) as { type: string; payload?: { data?: T } };
      if (m.type === "connection_ack") {
        onState("live");
        ws.send(JSON.stringify({ id: "1", type: "subscribe",
                                 payload: { query, variables: { after } } }));
      } else if (m.type === "ping") {
        ws.send(JSON.stringify({ type: "pong" }));
      } else if (m.type === "next" && m.payload?.data) {
        after = lastId(m.payload.data) ?? after;
        onData(m.payload.data);
      } else if (m.type === "error") {  // the server refused the subscription itself
        stopped = true;
        onError?.(JSON.stringify(m.payload ?? "").slice(0, 200));
        ws.close();
      }
    };
    ws.onclose = () => {
      onState("closed");
      if (!stopped) timer = window.setTimeout(open, retryMs);
    };
  };
  open();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
    socket?.close();
  };
}
