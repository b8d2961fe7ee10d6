/**
 * The rate-limit key of a client address, as Cloudflare reports it in `CF-Connecting-IP` (the only
 * address Hey trusts; `X-Forwarded-For` is ignored). An IPv6 client usually holds a whole /64, so one
 * key covers it: otherwise each of its 2^64 addresses would get a fresh bucket. Every local client
 * (no header) shares one key.
 */
export function clientIp(header: string | undefined): string {
  const ip = header?.trim().toLowerCase();
  if (!ip) return "local";
  if (!ip.includes(":")) return ip;
  const groups = expandIpv6(ip.split("%")[0]!);
  if (!groups) return ip;
  // An IPv4-mapped address (::ffff:a.b.c.d) is that IPv4 client.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 255, groups[7]! >> 8, groups[7]! & 255].join(".");
  }
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (with `::` and a dotted IPv4 tail), or null. */
function expandIpv6(ip: string): number[] | null {
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  let text = ip;
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${ip.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const parse = (part: string | undefined) => (part ? part.split(":").map((g) => (/^[0-9a-f]{1,4}$/.test(g) ? parseInt(g, 16) : NaN)) : []);
  const head = parse(halves[0]);
  const tail = parse(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array<number>(halves.length === 1 ? 0 : missing).fill(0), ...tail];
  return groups.every((g) => Number.isInteger(g)) ? groups : null;
}
