/** Result rows, the console table, and bench/results/latest.json. */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { LatencySummary } from "./stats.ts";

export interface Target {
  /** e.g. "p99 <= 1.5x floor". */
  text: string;
  pass: boolean;
}

export interface ResultRow {
  /** What was measured, e.g. "SQL starcite.append". */
  case: string;
  latency?: LatencySummary;
  /** Operations (or events) per second. */
  throughput?: number;
  throughputUnit?: string;
  /** Ratios to the floor row of the same scenario (this / floor). */
  vsFloor?: { p99?: number; p999?: number; throughput?: number };
  /** Marks the row the ratios are taken against. */
  floor?: boolean;
  targets?: Target[];
  /** Further numbers: CPU, RSS, reads per batch, errors... */
  extra?: Record<string, number | string | boolean>;
  /** Puts the row into the cross-system comparison: the shared metric and which system it measured. */
  compare?: { metric: CompareMetric; system: System };
}

export type CompareMetric =
  | "append latency (sequential)"
  | "throughput, 32 producers, many sessions/streams"
  | "throughput, 32 producers, one session/stream"
  | "append-to-reader latency @100/s"
  | "append-to-reader latency @1000/s"
  | "replay 100k from 0";
export type System =
  | "Postgres floor"
  | "starcite SQL"
  | "starcite GraphQL"
  | "starcite REST"
  | "Durable Streams"
  | "Redis Streams"
  | "starcite Durable Streams";
const SYSTEMS: System[] = [
  "Postgres floor",
  "starcite SQL",
  "starcite GraphQL",
  "starcite REST",
  "Durable Streams",
  "Redis Streams",
  "starcite Durable Streams",
];
const METRICS: CompareMetric[] = [
  "append latency (sequential)",
  "throughput, 32 producers, many sessions/streams",
  "throughput, 32 producers, one session/stream",
  "append-to-reader latency @100/s",
  "append-to-reader latency @1000/s",
  "replay 100k from 0",
];
const isLatencyMetric = (m: CompareMetric) => m.includes("latency");

export interface ScenarioResult {
  scenario: string;
  title: string;
  rows: ResultRow[];
  notes: string[];
  /** Set when the scenario could not run (e.g. redis-server missing); rows is then empty. */
  skipped?: string;
  error?: string;
  seconds: number;
}

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  postgres: string;
  redis?: string;
  durableStreamsServer?: string;
  /** How the starcite server ran: built JavaScript or TypeScript through tsx (bench/run.ts). */
  server?: string;
  gitCommit?: string;
  /** 8 KiB write + fdatasync latency (ms) in the data directory, before and after the scenarios. */
  fsyncBefore?: LatencySummary;
  fsyncAfter?: LatencySummary;
  date: string;
  quick: boolean;
}

/** Sets vsFloor on every non-floor row from the given floor row. */
export function compareToFloor(rows: ResultRow[], floor: ResultRow): void {
  floor.floor = true;
  for (const row of rows) {
    if (row === floor) continue;
    const v: NonNullable<ResultRow["vsFloor"]> = {};
    if (row.latency && floor.latency) {
      v.p99 = row.latency.p99 / floor.latency.p99;
      v.p999 = row.latency.p999 / floor.latency.p999;
    }
    if (row.throughput !== undefined && floor.throughput) v.throughput = row.throughput / floor.throughput;
    row.vsFloor = v;
  }
}

export function machineInfo(pgVersion: string, quick: boolean, extra: Partial<MachineInfo> = {}): MachineInfo {
  const cpus = os.cpus();
  let gitCommit: string | undefined;
  try {
    gitCommit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
  } catch {
    gitCommit = undefined;
  }
  return {
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    postgres: pgVersion,
    gitCommit,
    date: new Date().toISOString(),
    quick,
    ...extra,
  };
}

const fmtMs = (v: number | undefined): string =>
  v === undefined || Number.isNaN(v) ? "" : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);

export function fmtRate(v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return "";
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (v >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(2)}k`;
  return v.toFixed(0);
}

const fmtRatio = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? "" : `${v.toFixed(2)}x`);

function fmtExtra(extra: ResultRow["extra"]): string {
  if (!extra) return "";
  return Object.entries(extra)
    .map(([k, v]) => `${k}=${typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : String(v)}`)
    .join(" ");
}

/** Console table for one scenario. */
export function formatScenario(result: ScenarioResult): string {
  const lines: string[] = [];
  lines.push(`\n== ${result.scenario}: ${result.title} (${result.seconds.toFixed(1)} s)`);
  if (result.skipped) {
    lines.push(`   SKIPPED: ${result.skipped}`);
    return lines.join("\n");
  }
  if (result.error) lines.push(`   ERROR: ${result.error}`);
  const header = ["case", "n", "p50 ms", "p99 ms", "p99.9 ms", "throughput", "p99/floor", "tput/floor", "targets", "extra"];
  const body = result.rows.map((r) => [
    r.case + (r.floor ? " [floor]" : ""),
    r.latency ? String(r.latency.n) : "",
    fmtMs(r.latency?.p50),
    fmtMs(r.latency?.p99),
    fmtMs(r.latency?.p999),
    r.throughput === undefined ? "" : `${fmtRate(r.throughput)} ${r.throughputUnit ?? "/s"}`,
    fmtRatio(r.vsFloor?.p99),
    fmtRatio(r.vsFloor?.throughput),
    (r.targets ?? []).map((t) => `${t.pass ? "PASS" : "FAIL"} ${t.text}`).join("; "),
    fmtExtra(r.extra),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const numeric = new Set([1, 2, 3, 4, 5, 6, 7]);
  const fmtRow = (cells: string[]) =>
    "   " +
    cells
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  lines.push(fmtRow(header));
  lines.push("   " + widths.map((w) => "-".repeat(w)).join("  "));
  for (const row of body) lines.push(fmtRow(row));
  for (const note of result.notes) lines.push(`   note: ${note}`);
  return lines.join("\n");
}

/** Markdown table of all results (used for bench/README.md). */
export function formatMarkdown(results: ScenarioResult[], machine: MachineInfo): string {
  const out: string[] = [];
  out.push(
    `Machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.os}; ` +
      `Node ${machine.node}; PostgreSQL ${machine.postgres}` +
      (machine.redis ? `; Redis ${machine.redis}` : "") +
      (machine.durableStreamsServer ? `; @durable-streams/server ${machine.durableStreamsServer}` : "") +
      (machine.server ? `; starcite server: ${machine.server}` : "") +
      `; commit ${machine.gitCommit ?? "?"}; ${machine.date}${machine.quick ? " (--quick)" : ""}.`,
  );
  const probe = (s: LatencySummary | undefined) =>
    s ? `p50 ${fmtMs(s.p50)} / p99 ${fmtMs(s.p99)} / p99.9 ${fmtMs(s.p999)} / max ${fmtMs(s.max)} ms` : "?";
  out.push("");
  out.push(`Disk flush (8 KiB write + fdatasync) before the run: ${probe(machine.fsyncBefore)}; after: ${probe(machine.fsyncAfter)}.`);
  out.push("");
  out.push("| scenario | case | n | p50 ms | p99 ms | p99.9 ms | throughput | p99 / floor | tput / floor | targets |");
  out.push("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
  for (const r of results) {
    if (r.skipped) {
      out.push(`| ${r.scenario} | skipped: ${r.skipped} | | | | | | | | |`);
      continue;
    }
    for (const row of r.rows) {
      out.push(
        `| ${r.scenario} | ${row.case}${row.floor ? " **(floor)**" : ""}${row.extra ? ` <br><sub>${fmtExtra(row.extra)}</sub>` : ""} | ` +
          `${row.latency?.n ?? ""} | ${fmtMs(row.latency?.p50)} | ${fmtMs(row.latency?.p99)} | ${fmtMs(row.latency?.p999)} | ` +
          `${row.throughput === undefined ? "" : `${fmtRate(row.throughput)} ${row.throughputUnit ?? "/s"}`} | ` +
          `${fmtRatio(row.vsFloor?.p99)} | ${fmtRatio(row.vsFloor?.throughput)} | ` +
          `${(row.targets ?? []).map((t) => `${t.pass ? "✅" : "❌"} ${t.text}`).join("<br>")} |`,
      );
    }
  }
  return out.join("\n");
}

/**
 * Side by side: each shared metric across systems, from rows that carry `compare`. Latency cells are
 * p50 / p99 / p99.9 ms; throughput cells are per second. The last column says whether starcite through
 * GraphQL (or SQL where GraphQL was not measured) is ahead of the Durable Streams peer.
 */
export function formatComparison(results: ScenarioResult[], markdown = false): string {
  const cells = new Map<string, ResultRow>();
  for (const r of results) for (const row of r.rows) if (row.compare) cells.set(`${row.compare.metric}|${row.compare.system}`, row);
  if (cells.size === 0) return "";
  const cell = (row: ResultRow | undefined, m: CompareMetric): string => {
    if (!row) return "";
    if (isLatencyMetric(m)) return row.latency ? `${fmtMs(row.latency.p50)} / ${fmtMs(row.latency.p99)} / ${fmtMs(row.latency.p999)}` : "";
    return row.throughput === undefined ? "" : fmtRate(row.throughput);
  };
  const header = ["metric", ...SYSTEMS, "starcite vs Durable Streams"];
  const body: string[][] = [];
  for (const m of METRICS) {
    const rowsFor = SYSTEMS.map((s) => cells.get(`${m}|${s}`));
    if (rowsFor.every((r) => !r)) continue;
    const bySystem = (system: System) => rowsFor[SYSTEMS.indexOf(system)];
    const ours = bySystem("starcite GraphQL") ?? bySystem("starcite SQL");
    const peer = bySystem("Durable Streams");
    let verdict = "";
    if (ours && peer) {
      if (isLatencyMetric(m) && ours.latency && peer.latency) {
        const x = ours.latency.p99 / peer.latency.p99;
        verdict = `${x <= 1 ? "ahead" : "behind"}: p99 ${x.toFixed(2)}x the peer's`;
      } else if (ours.throughput !== undefined && peer.throughput) {
        const x = ours.throughput / peer.throughput;
        verdict = `${x >= 1 ? "ahead" : "behind"}: ${x.toFixed(2)}x the peer's rate`;
      }
      if (ours === bySystem("starcite SQL")) verdict += " (SQL)";
    }
    body.push([`${m}${isLatencyMetric(m) ? " (p50/p99/p99.9 ms)" : " (/s)"}`, ...rowsFor.map((r) => cell(r, m)), verdict]);
  }
  if (markdown) {
    return [`| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`, ...body.map((b) => `| ${b.join(" | ")} |`)].join(
      "\n",
    );
  }
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (c: string[]) =>
    "   " +
    c
      .map((x, i) => x.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return ["\n== side by side", line(header), "   " + widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}

export const RESULTS_DIR = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../results");

export function writeResults(file: string, machine: MachineInfo, results: ScenarioResult[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify({ machine, results }, null, 2) + "\n");
}
