// The shell: login with a staff token, the header (identity, language switch, logout) and the
// route's view. The token lives in sessionStorage only (gone when the tab closes).

import { useEffect, useState } from "preact/hooks";
import { AuthError, gql, ME, type Me } from "./api";
import { useRoute } from "./hooks";
import { type Lang, pick, t } from "./i18n";
import { HouseholdView } from "./household";
import { NodeView } from "./node";

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
          {toggle}
          {me && (
            <button type="button" class="secondary" onClick={() => logout()}>
              {t(lang, "logout")}
            </button>
          )}
        </div>
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
  const code = route.kind === "node" ? route.code : home;
  const uncovered = route.kind === "node" ? route.uncovered : undefined;
  return <NodeView {...props} code={code} uncovered={uncovered} />;
}
