import { env } from "cloudflare:test";
import { it } from "vitest";
import { api } from "./support/http";
import { member, start, send } from "./support/conversations";

it("explore", async () => {
  const a = await member();
  const b = await member();
  const c = await start(a, [b.user.id]);
  await send(a, c.id, "hi");
  const z = "00000000-00000001-00000000-00000000000000000000000000000000";
  const f = "ffffffff-ffffffff-00000000-00000000000000000000000000000000";
  for (const h of ["garbage", "DB=", "DB=x y", "DB=x", `DB=${z}`, `DB=${f}`, `MESSAGES_0=x`, `MESSAGES_9=${z}`, `DB=${z},DB=${f}`, `DB=${z},`, "", " ", `db=${z}`, "DB=00000000-00000001-00000000-00000000000000000000000000000000".slice(0, 20)]) {
    const t0 = Date.now();
    const l = await api(`/api/conversations/${c.id}/messages/`, { token: a.token, headers: { "X-Hey-Bookmark": h } });
    console.log(JSON.stringify(h), l.status, Date.now() - t0, l.headers.get("content-type"), l.headers.get("X-Hey-Bookmark"), (await l.text()).slice(0, 200));
  }
});
