/**
 * A disk probe: 8 KiB write + fdatasync in a loop in the directory that holds the bench's Postgres and Redis
 * data. Every durable append here waits for one of these flushes (or shares one), so the probe's tail bounds
 * what any of the systems can show at p99 / p99.9 on this machine.
 */
import fs from "node:fs";
import path from "node:path";
import { Recorder, now, type LatencySummary } from "./stats.ts";

export function probeFsync(dir: string, durationMs: number): LatencySummary {
  const file = path.join(dir, `fsync-probe-${process.pid}`);
  const fd = fs.openSync(file, "w");
  const buf = Buffer.alloc(8192, 7);
  const rec = new Recorder(1 << 14);
  const end = Date.now() + durationMs;
  let pos = 0;
  try {
    while (Date.now() < end) {
      const t = now();
      fs.writeSync(fd, buf, 0, buf.length, pos);
      fs.fdatasyncSync(fd);
      rec.since(t);
      pos = (pos + buf.length) % (16 * 1024 * 1024);
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
  }
  return rec.summary();
}
