/** IPC messages between the bench and a server it runs in a child process (bench/lib/child.ts). */

export type ChildRequest =
  { type: "stats"; id: number } | { type: "reset-peak"; id: number } | { type: "gc"; id: number } | { type: "close"; id: number };

export interface ChildStats {
  /** CPU time the child used since it started, in milliseconds. */
  cpuUserMs: number;
  cpuSystemMs: number;
  rss: number;
  heapUsed: number;
  /** Highest RSS seen by the child's 50 ms sampler since start or the last reset-peak. */
  peakRss: number;
  /** The kernel's lifetime maximum RSS of the child. */
  maxRssKernel: number;
  /**
   * How late the child's event loop ran a 10 ms timer since start or the last reset-peak (perf_hooks'
   * monitorEventLoopDelay), p99 and max in milliseconds: how long the server's main thread was busy in one go.
   */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

export type ChildReply =
  | { type: "ready"; url: string; pid: number }
  | { type: "failed"; error: string }
  | ({ type: "stats"; id: number } & ChildStats)
  | { type: "ok"; id: number };
