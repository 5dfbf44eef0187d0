// Resident memory of a process tree, read from /proc: a running Evently is
// one process (`npm start`: edge, supervisor and their threads) and the
// servers it started as its children (nats-server, redis-server, postgres
// with one backend per connection). Grouped by command, so a soak can say
// whether each one's memory stays flat.
import { readFileSync, readdirSync } from 'node:fs';

export interface ProcessMemory {
  command: string;
  processes: number;
  rssKiB: number;
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

function rssKiB(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmRSS:'));
    return line ? Number(line.split(/\s+/)[1]) : 0;
  } catch {
    return 0;
  }
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
    const m = byCommand.get(name) ?? { command: name, processes: 0, rssKiB: 0 };
    m.processes++;
    m.rssKiB += rssKiB(pid);
    byCommand.set(name, m);
    for (const child of children.get(pid) ?? []) visit(child, commands.get(child) ?? String(child));
  };
  if (commands.has(rootPid)) visit(rootPid, rootName);
  return [...byCommand.values()];
}
