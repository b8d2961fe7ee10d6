// Which URLs Hey calls on someone's behalf (webhook endpoints, push services): src/http/outbound-url.ts.
import { describe, expect, it } from "vitest";
import { outboundUrlProblem, runsLocally } from "../src/http/outbound-url";

const PUBLIC_HOST = /must be on a public host/;
const HTTPS = /^must be https/;

describe("runsLocally", () => {
  it.each([
    [undefined, true],
    ["http://127.0.0.1:8787", true],
    ["http://127.0.0.2", true],
    ["http://localhost:8787", true],
    ["http://[::1]:8787", true],
    ["https://127.0.0.1:8787", false],
    ["https://hey.example.com", false],
    ["http://hey.example.com", false],
    ["http://192.168.1.20:8787", false],
    ["http://10.0.0.5", false],
  ])("%s → %s", (origin, local) => {
    expect(runsLocally(origin)).toBe(local);
  });
});

describe("outboundUrlProblem", () => {
  it.each(["https://example.com/hooks/hey", "https://hooks.example.co.uk:8443/a?b=c", "HTTPS://EXAMPLE.COM/X", "https://8.8.8.8/hook", "https://172.15.255.255/", "https://172.32.0.1/", "https://100.63.255.255/", "https://100.128.0.1/", "https://169.253.0.1/", "https://11.0.0.1/", "https://192.169.0.1/", "https://example.com./x"])(
    "accepts the https public URL %s, deployed or local",
    (url) => {
      expect(outboundUrlProblem(url, false)).toBeNull();
      expect(outboundUrlProblem(url, true)).toBeNull();
    },
  );

  // An IPv6 literal has no dot, yet it is no internal name.
  it.each(["https://[2606:4700:4700::1111]/hook", "https://[2001:4860:4860::8888]:8443/"])("accepts the public IPv6 literal %s", (url) => {
    expect(outboundUrlProblem(url, false)).toBeNull();
  });

  it.each(["http://example.com/hook", "http://8.8.8.8/", "ftp://example.com/file", "ws://example.com/socket", "javascript:alert(1)"])("refuses %s as not https", (url) => {
    expect(outboundUrlProblem(url, false)).toBe("must be https");
    expect(outboundUrlProblem(url, true)).toBe("must be https (or http on a loopback host while Hey runs locally)");
  });

  it.each(["http://127.0.0.1:9000/hook", "http://127.8.9.10/", "http://localhost:3000/push/x", "http://[::1]:9000/", "https://127.0.0.1/", "https://localhost/", "http://[0:0:0:0:0:0:0:1]/"])(
    "allows the loopback URL %s only while Hey runs locally",
    (url) => {
      expect(outboundUrlProblem(url, true)).toBeNull();
      expect(outboundUrlProblem(url, false)).toMatch(new URL(url).protocol === "http:" ? HTTPS : PUBLIC_HOST);
    },
  );

  it("refuses http on a host that is not loopback even locally", () => {
    expect(outboundUrlProblem("http://10.0.0.1/hook", true)).toMatch(HTTPS);
    expect(outboundUrlProblem("http://localhost.example.com/", true)).toMatch(HTTPS);
    expect(outboundUrlProblem("http://0.0.0.0:8787/", true)).toMatch(HTTPS);
  });

  it.each([
    ["10/8", ["https://10.0.0.1/", "https://10.255.255.255/"]],
    ["172.16/12", ["https://172.16.0.1/", "https://172.31.255.255/"]],
    ["192.168/16", ["https://192.168.0.1/", "https://192.168.255.254/"]],
    ["169.254/16 (link-local, cloud metadata)", ["https://169.254.169.254/latest/meta-data/", "https://169.254.0.1/"]],
    ["100.64/10 (carrier-grade NAT)", ["https://100.64.0.1/", "https://100.127.255.255/"]],
    ["0/8 and multicast and broadcast", ["https://0.0.0.0/", "https://224.0.0.1/", "https://255.255.255.255/"]],
    ["IPv6 loopback and unspecified", ["https://[::1]:8443/", "https://[::]/"]],
    ["IPv6 unique local fc00::/7", ["https://[fc00::1]/", "https://[fd12:3456:789a::1]/", "https://[FD00::2]/"]],
    ["IPv6 link-local fe80::/10", ["https://[fe80::1]/", "https://[febf::ffff]/"]],
    ["IPv4-mapped IPv6", ["https://[::ffff:127.0.0.1]/", "https://[::ffff:10.0.0.1]/", "https://[::ffff:169.254.169.254]/"]],
    ["other spellings of 127.0.0.1", ["https://2130706433/", "https://0x7f000001/", "https://0177.0.0.1/", "https://127.1/", "https://127.0.0.1./", "https://%31%32%37.0.0.1/"]],
    ["names without a dot", ["https://intranet/hook", "https://db:5432/"]],
    ["names only a network resolves", ["https://printer.local/", "https://api.internal/", "https://nas.lan/", "https://router.home.arpa/", "https://app.localhost/", "https://wiki.intranet/"]],
  ])("refuses %s once deployed", (_, urls) => {
    for (const url of urls) expect(outboundUrlProblem(url, false), url).toMatch(PUBLIC_HOST);
  });

  it("refuses private addresses while local too, where only loopback is allowed", () => {
    for (const url of ["https://10.0.0.1/", "https://192.168.1.1/", "https://[fd00::1]/", "https://169.254.169.254/", "https://intranet/"]) {
      expect(outboundUrlProblem(url, true), url).toMatch(PUBLIC_HOST);
    }
  });

  // A fully qualified name with its trailing dot is the same host.
  it.each(["https://localhost./hook", "https://api.internal./hook", "https://intranet./hook", "https://printer.local./"])("refuses %s, an internal name with its trailing dot, once deployed", (url) => {
    expect(outboundUrlProblem(url, false)).toMatch(PUBLIC_HOST);
  });

  it.each(["https://user:pass@example.com/hook", "https://user@example.com/", "https://:secret@example.com/", "http://admin:admin@127.0.0.1:9000/"])("refuses %s, which carries credentials", (url) => {
    expect(outboundUrlProblem(url, false)).toBe("must not carry a user name or password");
    expect(outboundUrlProblem(url, true)).toBe("must not carry a user name or password");
  });

  it.each(["not a url", "", "example.com/hook", "/hooks/hey", "https://", "https://exa mple.com/", "http://[::1/"])("refuses %j as no absolute URL", (url) => {
    expect(outboundUrlProblem(url, false)).toBe("must be an absolute URL such as https://example.com/hooks/hey");
    expect(outboundUrlProblem(url, true)).toBe("must be an absolute URL such as https://example.com/hooks/hey");
  });
});
