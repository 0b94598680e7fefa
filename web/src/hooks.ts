import { useCallback, useEffect, useState } from "preact/hooks";
import { AuthError, gql } from "./api";

/** The route in the URL's hash: #/node/CODE, #/node/CODE/uncovered/CAMPAIGN, #/household/ID,
 * #/tracing/CODE, #/tracing/CODE/case/CASE_NO, #/testing/CODE, #/testing/CODE/campaign/SCOPE/ROUND,
 * #/assistance/CODE, #/assistance/CODE/list/REFERENCE, #/monitoring/CODE, #/map/CODE. */
export type Route =
  | { kind: "home" }
  | { kind: "node"; code: string; uncovered?: string }
  | { kind: "household"; id: string }
  | { kind: "tracing"; code: string; caseNo?: string }
  | { kind: "testing"; code: string; scope?: string; round?: number }
  | { kind: "assistance"; code: string; reference?: string }
  | { kind: "monitoring"; code: string }
  | { kind: "map"; code: string };

export function parseHash(hash: string): Route {
  const parts = hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  if (parts[0] === "node" && parts[1]) {
    return parts[2] === "uncovered" && parts[3]
      ? { kind: "node", code: parts[1], uncovered: parts[3] }
      : { kind: "node", code: parts[1] };
  }
  if (parts[0] === "household" && parts[1]) return { kind: "household", id: parts[1] };
  if (parts[0] === "tracing" && parts[1]) {
    return parts[2] === "case" && parts[3]
      ? { kind: "tracing", code: parts[1], caseNo: parts[3] }
      : { kind: "tracing", code: parts[1] };
  }
  if (parts[0] === "testing" && parts[1]) {
    const round = Number(parts[4]);
    return parts[2] === "campaign" && parts[3] && Number.isInteger(round) && round > 0
      ? { kind: "testing", code: parts[1], scope: parts[3], round }
      : { kind: "testing", code: parts[1] };
  }
  if (parts[0] === "assistance" && parts[1]) {
    return parts[2] === "list" && parts[3]
      ? { kind: "assistance", code: parts[1], reference: parts[3] }
      : { kind: "assistance", code: parts[1] };
  }
  if (parts[0] === "monitoring" && parts[1]) return { kind: "monitoring", code: parts[1] };
  if (parts[0] === "map" && parts[1]) return { kind: "map", code: parts[1] };
  return { kind: "home" };
}

export const nodeHref = (code: string): string => `#/node/${encodeURIComponent(code)}`;
export const uncoveredHref = (code: string, campaign: string): string =>
  `${nodeHref(code)}/uncovered/${encodeURIComponent(campaign)}`;
export const tracingHref = (code: string, caseNo?: string): string =>
  `#/tracing/${encodeURIComponent(code)}${caseNo ? `/case/${encodeURIComponent(caseNo)}` : ""}`;
export const testingHref = (code: string, scope?: string, round?: number): string =>
  `#/testing/${encodeURIComponent(code)}${scope && round
    ? `/campaign/${encodeURIComponent(scope)}/${round}` : ""}`;
export const assistanceHref = (code: string, reference?: string): string =>
  `#/assistance/${encodeURIComponent(code)}${reference
    ? `/list/${encodeURIComponent(reference)}` : ""}`;
export const monitoringHref = (code: string): string =>
  `#/monitoring/${encodeURIComponent(code)}`;
export const mapHref = (code: string): string => `#/map/${encodeURIComponent(code)}`;
export const householdHref = (id: string): string => `#/household/${encodeURIComponent(id)}`;

export function useRoute(): Route {
  const [initial] = useState(() => location.hash);
  const [route, setRoute] = useState<Route>(() => parseHash(initial));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(location.hash));
    addEventListener("hashchange", onChange);
    // The hash may have changed between the first render and this effect (right after
    // logging in, a link followed at once): read it again, or that change is lost.
    if (location.hash !== initial) onChange();
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

export interface QueryState<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  reload: () => void;
}

/** Run a query whenever its variables change; a refused token calls `onAuthError`. */
export function useQuery<T>(token: string, query: string, variables: Record<string, unknown>,
                            onAuthError: (message: string) => void): QueryState<T> {
  const key = JSON.stringify(variables);
  const [state, setState] = useState<{ data: T | null; error: string | null; loading: boolean }>(
    { data: null, error: null, loading: true });
  const [nonce, setNonce] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true, error: null }));
    gql<T>(token, query, JSON.parse(key) as Record<string, unknown>)
      .then((data) => live && setState({ data, error: null, loading: false }))
      .catch((e: unknown) => {
        if (!live) return;
        if (e instanceof AuthError) onAuthError(e.message);
        setState({ data: null, error: e instanceof Error ? e.message : String(e), loading: false });
      });
    return () => {
      live = false;
    };
  }, [token, query, key, nonce]);
  const reload = useCallback(() => setNonce((n) => n + 1), []);
  return { ...state, reload };
}
