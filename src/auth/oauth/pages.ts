import { SCOPES, type Scope } from "../scopes";

const escape = (value: string) =>
  value.replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!);

// The web app's palette (web/src/styles.css), light and dark, so signing in does not feel like leaving Hey.
const STYLE = `:root{--bg:#f4f5f7;--panel:#fff;--text:#1d1d1f;--muted:#5f6368;--line:#dfe1e5;--accent:#0b57d0;--accent-text:#fff;
--danger:#b3261e;--warn-bg:#fff4e5;--warn:#b25e00;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#131314;--panel:#1e1f20;--text:#e3e3e3;--muted:#a8abb0;--line:#3c4043;
--accent:#a8c7fa;--accent-text:#062e6f;--danger:#f2b8b5;--warn-bg:#3a2a12;--warn:#f6c27a}}
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--text);margin:0;padding:3rem 1rem}
main{max-width:26rem;margin:0 auto;background:var(--panel);border:1px solid var(--line);border-radius:12px;padding:1.5rem}
h1{font-size:1.4rem;margin-top:0}label{display:block;margin:.8rem 0 .2rem;color:var(--muted)}
input{width:100%;padding:.6rem;box-sizing:border-box;font:inherit;color:inherit;background:var(--bg);border:1px solid var(--line);border-radius:8px}
button{font:inherit;padding:.55rem 1.2rem;margin:1rem .5rem 0 0;cursor:pointer;border-radius:999px;border:1px solid var(--line);background:var(--panel);color:var(--text)}
button[type=submit]:first-of-type{background:var(--accent);color:var(--accent-text);border-color:var(--accent)}
.error{color:var(--danger)}.warning{background:var(--warn-bg);border-left:4px solid var(--warn);padding:.5rem .8rem}
.admin{color:var(--danger);font-weight:600}`;

function layout(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)} · Hey</title>
<style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
}

const hidden = (csrf: string) => `<input type="hidden" name="csrf_token" value="${escape(csrf)}">`;
const notice = (message?: string) => (message ? `<p class="error" role="alert">${escape(message)}</p>` : "");

/** The app asking, as the pages show it: its name, where it sends the user back to, and whether staff registered it. */
export type AppShown = { name: string; redirectHost: string; unverified: boolean };

/** Who is asking, said plainly: a self-registered app's name proves nothing, its redirect host does. */
function asking(app: AppShown): string {
  const who = `<p><strong>${escape(app.name)}</strong> (sends you back to <strong>${escape(app.redirectHost)}</strong>) wants to use your Hey account.</p>`;
  return app.unverified
    ? `${who}<p class="warning">Unverified app: it registered itself and Hey has not checked who runs it. Continue only if you trust ${escape(app.redirectHost)}.</p>`
    : who;
}

/** The sign-in form; it posts back to the authorization request's own URL. */
export function loginPage(action: string, csrf: string, app: AppShown, message?: string, email = ""): string {
  return layout(
    "Sign in",
    `<h1>Sign in to Hey</h1>${asking(app)}${notice(message)}
<form method="post" action="${escape(action)}">${hidden(csrf)}
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required value="${escape(email)}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form>`,
  );
}

/** The consent page: names the client and where it redirects, and lists the scopes in words. */
export function consentPage(action: string, csrf: string, app: AppShown, email: string, scopes: readonly Scope[]): string {
  const items = scopes.map((s) => `<li${s === "admin" ? ' class="admin"' : ""}>${escape(SCOPES[s])} <small>(${escape(s)})</small></li>`).join("");
  return layout(
    "Authorize",
    `<h1>Allow ${escape(app.name)}?</h1><p>Signed in as ${escape(email)}.</p>${asking(app)}<p>It asks to:</p><ul>${items}</ul>
<form method="post" action="${escape(action)}">${hidden(csrf)}
<button type="submit" name="decision" value="approve">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button></form>`,
  );
}

/** Shown instead of redirecting when the client or redirect URI cannot be trusted (RFC 6749 §4.1.2.1). */
export function errorPage(message: string): string {
  return layout("Authorization error", `<h1>This sign-in link is not valid</h1><p class="error" role="alert">${escape(message)}</p>`);
}

/** Asks a signed-in browser to confirm signing out of Hey. */
export function logoutPage(csrf: string, email: string | null): string {
  const body = email
    ? `<h1>Sign out of Hey?</h1><p>Signed in as ${escape(email)}. Apps you allowed keep working until you revoke them.</p>
<form method="post" action="/o/logout/">${hidden(csrf)}<button type="submit">Sign out</button></form>`
    : `<h1>You are not signed in</h1><p>There is no Hey sign-in in this browser.</p>`;
  return layout("Sign out", body);
}

/** After sign-out: the next app that asks will show the password form again. */
export function signedOutPage(): string {
  return layout("Signed out", `<h1>You are signed out of Hey</h1><p>The next app that asks will need your password again.</p>`);
}

/** The reset link's page: a new password, twice; it posts back to its own URL. */
export function resetPage(action: string, email: string, message?: string): string {
  return layout(
    "Choose a new password",
    `<h1>Choose a new password</h1><p>For ${escape(email)}. This link works once.</p>${notice(message)}
<form method="post" action="${escape(action)}">
<input type="email" name="username" value="${escape(email)}" autocomplete="username" hidden>
<label for="password">New password (at least 10 characters)</label><input id="password" name="password" type="password" autocomplete="new-password" minlength="10" required>
<label for="again">The same again</label><input id="again" name="again" type="password" autocomplete="new-password" minlength="10" required>
<button type="submit">Set password</button></form>`,
  );
}

/** After a reset, or for a link that no longer works. */
export function resetDonePage(done: boolean): string {
  return done
    ? layout("Password changed", `<h1>Your password is changed</h1><p>You are signed out everywhere. Open Hey and sign in with the new password.</p>`)
    : layout("Link not valid", `<h1>This reset link does not work</h1><p class="error" role="alert">It has expired or was used already. Ask an administrator for a new one.</p>`);
}
