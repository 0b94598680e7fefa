// The shell: login with a staff token, the header (identity, language switch, logout) and the
// route's view. The token lives in sessionStorage only (gone when the tab closes).

import { useEffect, useState } from "preact/hooks";
import { AuthError, CLOCK, type ClockState, gql, ME, type Me } from "./api";
import { nodeHref, useRoute } from "./hooks";
import { type Lang, pick, t } from "./i18n";
import { HouseholdView } from "./household";
import { NodeView } from "./node";
import { AssistanceView } from "./assistance";
import { MonitoringView } from "./monitoring";
import { TestingView } from "./testing";
import { TracingView } from "./tracing";
import type { MapView as MapViewType } from "./map";

const TOKEN_KEY = "gridcore.token";
const LANG_KEY = "gridcore.lang";

function storedLang(): Lang {
  return localStorage.getItem(LANG_KEY) === "en" ? "en" : "zh";
}

export function App() {
  const [lang, setLang] = useState<Lang>(storedLang);
  const [token, setToken] = useState<string | null>(() => sessionStorage.getItem(TOKEN_KEY));
  const [me, setMe] = useState<Me | null>(null);
  const [loginError, setLoginError] = useState<string | null>(null);

  useEffect(() => {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    document.title = `${t(lang, "title")} · gridcore`;
    localStorage.setItem(LANG_KEY, lang);
  }, [lang]);

  const logout = (message: string | null = null) => {
    sessionStorage.removeItem(TOKEN_KEY);
    setToken(null);
    setMe(null);
    setLoginError(message);
  };

  const login = async (candidate: string): Promise<void> => {
    try {
      const data = await gql<{ me: Me | null }>(candidate, ME);
      if (!data.me) {
        logout(t(lang, "noStaff"));
        return;
      }
      sessionStorage.setItem(TOKEN_KEY, candidate);
      setToken(candidate);
      setMe(data.me);
      setLoginError(null);
    } catch (e) {
      logout(e instanceof AuthError ? t(lang, "badToken") : String(e));
    }
  };

  useEffect(() => {
    if (token && !me) void login(token);
  }, []);

  const toggle = (
    <button type="button" class="lang" onClick={() => setLang(lang === "zh" ? "en" : "zh")}
            title={t(lang, "switchLabel")} lang={lang === "zh" ? "en" : "zh-CN"}>
      {t(lang, "switchTo")}
    </button>
  );

  return (
    <>
      <a class="skip" href="#main" onClick={(e) => {
        e.preventDefault();
        document.getElementById("main")?.focus();
      }}>{t(lang, "skip")}</a>
      <header class="top">
        <h1>{t(lang, "title")} <span class="brand">gridcore</span></h1>
        <div class="who">
          {me && (
            <span class="identity" data-testid="identity">
              {pick(me.roleLabel, lang)} · {me.jurisdiction?.name ?? me.jurisdictionCode}
            </span>
          )}
          {me && me.jurisdictions.length > 1 && (
            <nav class="my-nodes" aria-label={t(lang, "myNodes")} data-testid="my-nodes">
              {me.jurisdictions.map((n) => (
                <a key={n.code} href={nodeHref(n.code)}>{n.name}</a>
              ))}
            </nav>
          )}
          {toggle}
          {me && (
            <button type="button" class="secondary" onClick={() => logout()}>
              {t(lang, "logout")}
            </button>
          )}
        </div>
        {token && me && <ScenarioBanner lang={lang} token={token} />}
      </header>
      <main id="main" tabIndex={-1}>
        {token && me ? (
          <Routed lang={lang} token={token} me={me}
                  onAuthError={() => logout(t(lang, "badToken"))} />
        ) : token && !loginError ? (
          <p role="status">{t(lang, "loggingIn")}</p>
        ) : (
          <Login lang={lang} error={loginError} onLogin={login} />
        )}
      </main>
    </>
  );
}

/** Beijing time to the minute, as "2020-02-22 20:05". */
function beijing(ms: number): string {
  return new Date(ms).toLocaleString("sv-SE", {
    timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit",
  });
}

/** When the server runs at a scenario's time (the demo's February 2020), say so: every age
 * and deadline on the page is as of that time. The time advances with the page's own clock. */
function ScenarioBanner(props: { lang: Lang; token: string }) {
  const [clock, setClock] = useState<{ at: number; read: number } | null>(null);
  const [, setTick] = useState(0);
  useEffect(() => {
    let gone = false;
    gql<{ clock: ClockState | null }>(props.token, CLOCK).then((d) => {
      if (!gone && d.clock?.scenario) setClock({ at: Date.parse(d.clock.now), read: Date.now() });
    }).catch(() => undefined); // a server without the clock runs on the wall clock
    const timer = setInterval(() => setTick((n) => n + 1), 30_000);
    return () => { gone = true; clearInterval(timer); };
  }, [props.token]);
  if (!clock) return null;
  const now = clock.at + Date.now() - clock.read;
  return (
    <p class="scenario" role="note" data-testid="scenario-clock">
      <strong><span lang="zh-CN">情景时间</span> <span lang="en">scenario time</span>:</strong>{" "}
      <time dateTime={new Date(now).toISOString()}>{beijing(now)}</time> (UTC+8) ·{" "}
      {t(props.lang, "scenarioNote")}
    </p>
  );
}

function Login(props: { lang: Lang; error: string | null; onLogin: (token: string) => Promise<void> }) {
  const { lang } = props;
  const [value, setValue] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!value.trim()) return;
    setBusy(true);
    await props.onLogin(value.trim());
    setBusy(false);
  };
  return (
    <section class="card login" aria-labelledby="login-title">
      <h2 id="login-title">{t(lang, "loginTitle")}</h2>
      <form onSubmit={submit}>
        <label for="token">{t(lang, "tokenLabel")}</label>
        <textarea id="token" name="token" rows={4} required autoComplete="off" spellcheck={false}
                  aria-describedby="token-help" value={value}
                  onInput={(e) => setValue((e.target as HTMLTextAreaElement).value)} />
        <p id="token-help" class="muted">{t(lang, "tokenHelp")}</p>
        {props.error && <p class="error" role="alert">{props.error}</p>}
        <button type="submit" disabled={busy}>{busy ? t(lang, "loggingIn") : t(lang, "login")}</button>
      </form>
    </section>
  );
}

function Routed(props: { lang: Lang; token: string; me: Me; onAuthError: () => void }) {
  const route = useRoute();
  const home = props.me.jurisdiction?.code ?? props.me.jurisdictionCode;
  if (route.kind === "household") {
    return <HouseholdView {...props} id={route.id} home={home} />;
  }
  if (route.kind === "tracing") {
    return <TracingView {...props} code={route.code} caseNo={route.caseNo} />;
  }
  if (route.kind === "testing") {
    return <TestingView {...props} code={route.code} scope={route.scope} round={route.round} />;
  }
  if (route.kind === "assistance") {
    return <AssistanceView {...props} code={route.code} reference={route.reference} />;
  }
  if (route.kind === "monitoring") {
    return <MonitoringView {...props} code={route.code} />;
  }
  if (route.kind === "map") {
    return <LazyMap {...props} code={route.code} />;
  }
  const code = route.kind === "node" ? route.code : home;
  const uncovered = route.kind === "node" ? route.uncovered : undefined;
  return <NodeView {...props} code={code} uncovered={uncovered} />;
}

/** The map view with Leaflet, loaded on the first visit to a map (its own chunk). */
function LazyMap(props: { lang: Lang; token: string; me: Me; onAuthError: () => void;
                          code: string }) {
  const [View, setView] = useState<typeof MapViewType | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  useEffect(() => {
    import("./map").then((m) => setView(() => m.MapView))
      .catch((e: unknown) => setFailed(String(e)));
  }, []);
  if (failed) return <p class="error" role="alert">{failed}</p>;
  return View ? <View {...props} /> : <p role="status">{t(props.lang, "loading")}</p>;
}
