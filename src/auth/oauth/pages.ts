import { SCOPES, type Scope } from "../scopes";

const escape = (value: string) =>
  value.replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!);

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;color:#1d1d1f}
h1{font-size:1.4rem}label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.5rem;box-sizing:border-box;font:inherit}
button{font:inherit;padding:.5rem 1.2rem;margin:1rem .5rem 0 0;cursor:pointer}.error{color:#b00020}`;

function layout(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)} · Hey</title>
<style>${STYLE}</style></head><body>${body}</body></html>`;
}

const hidden = (csrf: string) => `<input type="hidden" name="csrf_token" value="${escape(csrf)}">`;
const notice = (message?: string) => (message ? `<p class="error" role="alert">${escape(message)}</p>` : "");

/** The sign-in form; it posts back to the authorization request's own URL. */
export function loginPage(action: string, csrf: string, clientName: string, message?: string, email = ""): string {
  return layout(
    "Sign in",
    `<h1>Sign in to Hey</h1><p>${escape(clientName)} wants to use your Hey account.</p>${notice(message)}
<form method="post" action="${escape(action)}">${hidden(csrf)}
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required value="${escape(email)}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button></form>`,
  );
}

/** The consent page: names the client and lists the scopes in words. */
export function consentPage(action: string, csrf: string, clientName: string, email: string, scopes: readonly Scope[]): string {
  const items = scopes.map((s) => `<li>${escape(SCOPES[s])} <small>(${escape(s)})</small></li>`).join("");
  return layout(
    "Authorize",
    `<h1>Allow ${escape(clientName)}?</h1><p>Signed in as ${escape(email)}. ${escape(clientName)} asks to:</p><ul>${items}</ul>
<form method="post" action="${escape(action)}">${hidden(csrf)}
<button type="submit" name="decision" value="approve">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button></form>`,
  );
}

/** Shown instead of redirecting when the client or redirect URI cannot be trusted (RFC 6749 §4.1.2.1). */
export function errorPage(message: string): string {
  return layout("Authorization error", `<h1>This sign-in link is not valid</h1><p class="error" role="alert">${escape(message)}</p>`);
}
