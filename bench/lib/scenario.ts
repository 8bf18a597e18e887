/** What a scenario is and what it gets to work with. */
import type { PostgresEnv } from "./env.ts";
import type { MachineInfo, ResultRow } from "./report.ts";
import type { ChildServer } from "./servers.ts";

export interface BenchContext {
  quick: boolean;
  pg: PostgresEnv;
  log(line: string): void;
  /** `n` normally, about n/10 (at least `min`) with --quick. */
  scale(n: number, min?: number): number;
  /** The starcite server (startServer) in a child process on `databaseUrl`. */
  startStarcite(databaseUrl: string, poolSize?: number): Promise<ChildServer>;
  /** Adds facts to the machine block of the results (e.g. the Redis version). */
  machine: Partial<MachineInfo>;
}

export interface ScenarioOutput {
  rows: ResultRow[];
  notes?: string[];
}

export interface Scenario {
  /** Command-line name, e.g. "append-latency". */
  name: string;
  /** Number in the benchmark issue ("1", "2", "6b"...), also accepted on the command line. */
  id: string;
  title: string;
  run(ctx: BenchContext): Promise<ScenarioOutput>;
}

/** Thrown by a scenario that cannot run here; the runner prints the message and moves on. */
export class SkipScenario extends Error {
  override readonly name = "SkipScenario";
}

/** A scenario part that was skipped but the rest of the scenario ran. */
export function skippedRow(caseName: string, why: string): ResultRow {
  return { case: caseName, extra: { skipped: why } };
}
