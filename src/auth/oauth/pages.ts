import { SCOPES, type Scope } from "../scopes";

const escape = (value: string) =>
  value.replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!);

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;color:#1d1d1f}
h1{font-size:1.4rem}label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.5rem;box-sizing:border-box;font:inherit}
button{font:inherit;padding:.5rem 1.2rem;margin:1rem .5rem 0 0;cursor:pointer}.error{color:#b00020}
.warning{background:#fff4e5;border-left:4px solid #b25e00;padding:.5rem .8rem}.admin{color:#b00020;font-weight:600}`;

function layout(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)} · Hey</title>
<style>${STYLE}</style></head><body>${body}</body></html>`;
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
