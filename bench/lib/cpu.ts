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

export function groupCpuMs(pgid: number, publicPort: number): CpuMs | null {
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
      const kind = !cmd.includes('workerd')
        ? 'wrangler'
        : cmd.includes(`entry=127.0.0.1:${publicPort}`)
          ? 'devProxy'
          : 'worker';
      cpu[kind] += (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK;
    } catch {
      // the process exited meanwhile
    }
  }
  return cpu;
}
