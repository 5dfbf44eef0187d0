// Memory of a process tree, read from /proc: a running Evently is one process
// (`npm start`: edge, supervisor and their threads) and the servers it started
// as its children (nats-server, redis-server, postgres with one backend per
// connection). Grouped by command, so a soak can say whether each one's memory
// stays flat. Two figures per group, both from smaps_rollup:
// - USS (unique set size: pages only that process maps) is what a leak grows;
//   it leaves out Postgres's shared buffers, which every backend maps and
//   which fill up to their configured size as a database is used.
// - PSS (proportional set size: a page shared by n processes counts 1/n to
//   each) is the group's share of the machine's memory, shared buffers once.
// RSS would count the shared buffers again for every backend.
import { readFileSync, readdirSync } from 'node:fs';

export interface ProcessMemory {
  command: string;
  processes: number;
  /** USS summed over the group's processes: private memory, what a leak grows. */
  ussKiB: number;
  /** PSS summed over the group's processes: its share of the machine's memory. */
  pssKiB: number;
}

function stat(pid: number): { command: string; ppid: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may itself contain ") ", so the fields start after the last one.
    const close = s.lastIndexOf(')');
    return { command: s.slice(s.indexOf('(') + 1, close), ppid: Number(s.slice(close + 2).split(' ')[1]) };
  } catch {
    return undefined;
  }
}

/** USS and PSS of one process from smaps_rollup (Linux ≥ 4.14); zeros if it is gone. */
function memoryOf(pid: number): { ussKiB: number; pssKiB: number } {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  } catch {
    return { ussKiB: 0, pssKiB: 0 };
  }
  const fields = new Map<string, number>();
  for (const [, name = '', value = '0'] of text.matchAll(/^(\w+):\s+(\d+) kB$/gm)) fields.set(name, Number(value));
  const kib = (name: string) => fields.get(name) ?? 0;
  return { ussKiB: kib('Private_Clean') + kib('Private_Dirty'), pssKiB: kib('Pss') };
}

/** The root and every descendant, by command name (the root is named `rootName`). */
export function treeMemory(rootPid: number, rootName: string): ProcessMemory[] {
  const children = new Map<number, number[]>();
  const commands = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const s = stat(pid);
    if (!s) continue;
    commands.set(pid, s.command);
    children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  }
  const byCommand = new Map<string, ProcessMemory>();
  const visit = (pid: number, name: string) => {
    const m = byCommand.get(name) ?? { command: name, processes: 0, ussKiB: 0, pssKiB: 0 };
    m.processes++;
    const own = memoryOf(pid);
    m.ussKiB += own.ussKiB;
    m.pssKiB += own.pssKiB;
    byCommand.set(name, m);
    for (const child of children.get(pid) ?? []) visit(child, commands.get(child) ?? String(child));
  };
  if (commands.has(rootPid)) visit(rootPid, rootName);
  return [...byCommand.values()];
}
