/**
 * CPU time used by the processes of one `wrangler dev` process group, read from /proc (Linux
 * only; elsewhere null). Less sensitive to other load on the machine than requests/s, and it
 * shows where the time goes: the Worker's workerd, the dev proxy's workerd, wrangler's Node.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface CpuMs {
  worker: number; // the workerd running the Worker under test
  devProxy: number; // wrangler dev's proxy workerd (the one listening on the public port)
  wrangler: number; // wrangler's Node process (prints request and console lines) and esbuild
}

const MS_PER_TICK = 10; // USER_HZ is 100 on Linux

export function groupCpuMs(pgid: number, kind: (cmdline: string) => keyof CpuMs): CpuMs | null {
  if (process.platform !== 'linux') return null;
  const cpu: CpuMs = { worker: 0, devProxy: 0, wrangler: 0 };
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // after "pid (comm) ": state ppid pgrp ... utime (index 11) stime (index 12)
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid) continue;
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      cpu[kind(cmd)] += (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK;
    } catch {
      // the process exited meanwhile
    }
  }
  return cpu;
}

/**
 * CPU ms so far of this process's thread named `thread` plus its child processes named
 * `child` (the Upstash bridge's worker thread and the redis-server it started).
 */
export function threadCpuMs(thread: string, child: string): number | null {
  if (process.platform !== 'linux') return null;
  let ms = 0;
  const ticks = (stat: string) => {
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), ms: (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK };
  };
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      if (readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() === thread)
        ms += ticks(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')).ms;
    } catch {
      // the thread exited meanwhile
    }
  }
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== child) continue;
      const stat = ticks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      if (stat.ppid === process.pid) ms += stat.ms;
    } catch {
      // the process exited meanwhile
    }
  }
  return ms;
}
