// The CPU time the benchmark's workerd processes have used, read from /proc (Linux). Unlike a latency,
// it hardly moves with other work on a shared machine, so per request it shows the app's own cost.
import { readdirSync, readFileSync } from "node:fs";

/** USER_HZ: /proc counts CPU time in ticks of 10 ms on every Linux this runs on. */
const TICK_MS = 10;

type Proc = { pid: number; ppid: number; name: string; cpuMs: number };

function processes(): Proc[] {
  const out: Proc[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
    } catch {
      continue; // It ended meanwhile.
    }
    // The name is in parentheses and may hold spaces; the fields after it start with the state.
    const close = stat.lastIndexOf(")");
    const fields = stat.slice(close + 2).split(" ");
    out.push({ pid: Number(entry), ppid: Number(fields[1]), name: stat.slice(stat.indexOf("(") + 1, close), cpuMs: (Number(fields[11]) + Number(fields[12])) * TICK_MS });
  }
  return out;
}

/** CPU ms used so far by the workerd processes started under this one, or null where /proc is not there. */
export function workerdCpuMs(): number | null {
  let all: Proc[];
  try {
    all = processes();
  } catch {
    return null;
  }
  const children = new Map<number, Proc[]>();
  for (const p of all) {
    const siblings = children.get(p.ppid);
    if (siblings) siblings.push(p);
    else children.set(p.ppid, [p]);
  }
  let total = 0;
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      if (child.name === "workerd") total += child.cpuMs;
      walk(child.pid);
    }
  };
  walk(process.pid);
  return total;
}
