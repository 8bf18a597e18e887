/**
 * starcite benchmarks.
 *
 *   npm run bench                      all scenarios
 *   npm run bench -- 1 2 redis         some (by number or name)
 *   npm run bench -- --quick           ~10x smaller counts: a smoke test for CI
 *   npm run bench -- --list            list the scenarios
 *   npm run bench -- --out FILE        write results there (default bench/results/latest.json,
 *                                      bench/results/quick.json with --quick)
 *   npm run bench -- --markdown        also print the results as a Markdown table (for bench/README.md)
 *
 * Starts an ephemeral embedded Postgres under os.tmpdir() (or uses DATABASE_URL), migrates it, gives each
 * scenario a fresh database, and runs the servers it needs. Prints a table per scenario and writes JSON.
 *
 * The starcite server runs as the production image runs it: tsc's JavaScript in dist/, built from src/ once per
 * run (~15 s, before the first scenario that starts it), so that the bench never measures a stale build.
 * BENCH_SERVER_BUILD=src runs it from src/ through tsx instead (`npm start`'s way), to compare.
 */
import path from "node:path";
import { describeBuild, onceBuilder, serverBuild } from "./lib/build.ts";
import { startPostgres } from "./lib/env.ts";
import {
  formatComparison,
  formatMarkdown,
  formatScenario,
  machineInfo,
  RESULTS_DIR,
  writeResults,
  type MachineInfo,
  type ScenarioResult,
} from "./lib/report.ts";
import { SkipScenario, type BenchContext, type Scenario } from "./lib/scenario.ts";
import { startChildServer } from "./lib/servers.ts";
import { probeFsync } from "./lib/disk.ts";
import type { LatencySummary } from "./lib/stats.ts";
import { scenarios } from "./scenarios/index.ts";

interface Args {
  quick: boolean;
  list: boolean;
  markdown: boolean;
  out: string;
  selected: Scenario[];
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, list: false, markdown: false, out: "", selected: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--quick") args.quick = true;
    else if (a === "--list") args.list = true;
    else if (a === "--markdown") args.markdown = true;
    else if (a === "--out") args.out = path.resolve(argv[++i] ?? "");
    else if (a === "--help" || a === "-h") args.list = true;
    else {
      const s = scenarios.find((x) => x.name === a || x.id === a);
      if (!s) {
        process.stderr.write(`unknown scenario ${JSON.stringify(a)}; --list shows them\n`);
        process.exit(2);
      }
      if (!args.selected.includes(s)) args.selected.push(s);
    }
  }
  if (args.selected.length === 0) args.selected = [...scenarios];
  // A --quick run is a smoke test: keep it away from the committed full results.
  args.out ||= path.join(RESULTS_DIR, args.quick ? "quick.json" : "latest.json");
  return args;
}

const fmtProbe = (s: LatencySummary) =>
  `8 KiB write + fdatasync p50 ${s.p50.toFixed(2)} / p99 ${s.p99.toFixed(2)} / p99.9 ${s.p999.toFixed(2)} / max ${s.max.toFixed(1)} ms (n=${s.n})`;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.list) {
    for (const s of scenarios) process.stdout.write(`${s.id.padEnd(4)} ${s.name.padEnd(22)} ${s.title}\n`);
    return;
  }
  const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);
  const build = serverBuild();
  const buildServer = onceBuilder(build, log);
  const pg = await startPostgres(log);
  // The results say how the server ran only when a scenario ran it.
  const machineExtra: Partial<MachineInfo> = {};
  const ctx: BenchContext = {
    quick: args.quick,
    pg,
    log,
    machine: machineExtra,
    scale: (n, min = 1) => (args.quick ? Math.max(min, Math.round(n / 10)) : n),
    startStarcite: (databaseUrl, poolSize = 10) => {
      buildServer();
      machineExtra.server = describeBuild(build);
      return startChildServer("starcite", {
        BENCH_DATABASE_URL: databaseUrl,
        BENCH_POOL_SIZE: String(poolSize),
        BENCH_SERVER_BUILD: build,
      });
    },
  };

  const probeMs = args.quick ? 500 : 3000;
  machineExtra.fsyncBefore = probeFsync(pg.tmpDir, probeMs);
  log(`disk flush probe: ${fmtProbe(machineExtra.fsyncBefore)}`);
  const results: ScenarioResult[] = [];
  let interrupted = false;
  process.once("SIGINT", () => {
    interrupted = true;
    log("interrupted: finishing the current scenario, then writing what there is");
  });
  try {
    for (const s of args.selected) {
      if (interrupted) break;
      log(`scenario ${s.id} ${s.name}: ${s.title}${args.quick ? " (quick)" : ""}`);
      const started = Date.now();
      const result: ScenarioResult = { scenario: `${s.id} ${s.name}`, title: s.title, rows: [], notes: [], seconds: 0 };
      try {
        const out = await s.run(ctx);
        result.rows = out.rows;
        result.notes = out.notes ?? [];
      } catch (error) {
        if (error instanceof SkipScenario) result.skipped = error.message;
        else {
          result.error = error instanceof Error ? error.message : String(error);
          log(`scenario ${s.name} failed: ${error instanceof Error ? error.stack : String(error)}`);
        }
      }
      result.seconds = (Date.now() - started) / 1000;
      results.push(result);
      process.stdout.write(formatScenario(result) + "\n");
    }
    machineExtra.fsyncAfter = probeFsync(pg.tmpDir, probeMs);
    log(`disk flush probe after the run: ${fmtProbe(machineExtra.fsyncAfter)}`);
  } finally {
    await pg.stop();
  }

  const comparison = formatComparison(results);
  if (comparison) process.stdout.write(comparison + "\n");
  const machine = machineInfo(pg.version, args.quick, machineExtra);
  writeResults(args.out, machine, results);
  log(`wrote ${path.relative(process.cwd(), args.out)}`);
  if (args.markdown) {
    process.stdout.write("\n" + formatMarkdown(results, machine) + "\n\n" + formatComparison(results, true) + "\n");
  }
  if (results.some((r) => r.error)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
