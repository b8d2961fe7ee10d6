// URLs Hey will call on someone's behalf (webhook endpoints, push services): https to a public host. While
// Hey runs locally (its APP_ORIGIN is loopback http), loopback http is allowed too, for development.
const LOOPBACK_HOST = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\])$/i;

/** Whether Hey runs locally: its app origin is plain http on a loopback host (or unset). */
export function runsLocally(appOrigin: string | undefined): boolean {
  if (!appOrigin) return true;
  const url = new URL(appOrigin);
  return url.protocol === "http:" && LOOPBACK_HOST.test(url.hostname);
}

/** An IPv4 literal in a range that is not the public internet (RFC 6890): loopback, private, link-local, CGNAT, … */
function privateIPv4(host: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) return false;
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a === 0 || a === 10 || a === 127 || (a === 100 && b >= 64 && b <= 127) || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || a >= 224;
}

/** An IPv6 literal that is not a global unicast address: loopback, unspecified, unique local, link-local, mapped IPv4. */
function privateIPv6(host: string): boolean {
  if (!host.startsWith("[")) return false;
  const address = host.slice(1, -1).toLowerCase();
  return address === "::1" || address === "::" || /^f[cd]/.test(address) || /^fe[89ab]/.test(address) || address.startsWith("::ffff:");
}

/** A name that only resolves inside a network (an IPv6 literal is judged by privateIPv6). */
const internalName = (host: string) => !host.startsWith("[") && (!host.includes(".") || /\.(local|localhost|internal|intranet|lan|home\.arpa)$/i.test(host));

/** Why Hey will not call `value`, as a sentence's end ("must …"), or null when it will. */
export function outboundUrlProblem(value: string, local: boolean): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "must be an absolute URL such as https://example.com/hooks/hey";
  }
  if (url.username || url.password) return "must not carry a user name or password";
  // `localhost.` is `localhost`: a fully qualified name's final dot changes nothing it resolves to.
  const host = url.hostname.replace(/\.$/, "");
  const loopback = LOOPBACK_HOST.test(host);
  if (local && loopback && (url.protocol === "http:" || url.protocol === "https:")) return null;
  if (url.protocol !== "https:") return local ? "must be https (or http on a loopback host while Hey runs locally)" : "must be https";
  if (loopback || privateIPv4(host) || privateIPv6(host) || internalName(host)) return "must be on a public host, not a private, loopback or link-local address";
  return null;
}
