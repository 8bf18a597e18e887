import fs from "node:fs";
import { isStarciteError, Starcite } from "@starcite/sdk";
import { GLOBAL_OPTIONS, parse, UsageError, type OptionSpecs } from "./args.ts";
import { COMMANDS, GROUPS, requireEndpoint, type Command, type Context, type Io } from "./commands.ts";
import { resolveSettings, type CliSettings } from "./settings.ts";

export type { Io } from "./commands.ts";

/** Global options that take a value: skipped when looking for the command words. */
const VALUE_OPTIONS = new Set(["--config-dir", "--endpoint", "--api-key"]);

/** Indices of the leading command words (at most two), skipping global options placed before them. */
function commandWordIndices(argv: string[]): number[] {
  const found: number[] = [];
  for (let i = 0; i < argv.length && found.length < 2; i++) {
    const token = argv[i]!;
    if (token === "--") break;
    if (VALUE_OPTIONS.has(token)) {
      i++;
      continue;
    }
    if (token.startsWith("-")) {
      if (/^--(config-dir|endpoint|api-key)=/.test(token) || token === "--help" || token === "-h" || token === "--version") continue;
      break; // a command option: anything after it belongs to the command
    }
    found.push(i);
  }
  return found;
}

function version(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: string };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
}

function optionLines(options: OptionSpecs): string {
  const rows = Object.entries(options).map(
    ([name, o]) => [`${o.short ? `-${o.short}, ` : ""}--${name}${o.value ? ` ${o.value}` : ""}`, o.description] as const,
  );
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return rows.map(([flag, description]) => `  ${flag.padEnd(width)}${description.split("\n").join(`\n  ${" ".repeat(width)}`)}`).join("\n");
}

export function commandHelp(c: Command): string {
  return [
    `Usage: starcite ${c.name}${c.usage ? ` ${c.usage}` : ""}`,
    "",
    c.summary + ".",
    ...(c.description ? ["", c.description] : []),
    ...(Object.keys(c.options).length ? ["", "Options:", optionLines(c.options)] : []),
    "",
    "Global options:",
    optionLines(GLOBAL_OPTIONS),
    "",
    "Examples:",
    ...c.examples.map((e) => `  $ ${e}`),
    "",
  ].join("\n");
}

function groupHelp(group: string): string {
  const members = COMMANDS.filter((c) => c.name.startsWith(`${group} `));
  const width = Math.max(...members.map((c) => c.name.length)) + 2;
  return [
    `Usage: starcite ${group} <command> [options]`,
    "",
    `${GROUPS[group]}.`,
    "",
    "Commands:",
    ...members.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    "",
    `Run "starcite ${group} <command> --help" for a command's options.`,
    "",
  ].join("\n");
}

export function generalHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    "starcite: ordered, durable, resumable session streams for AI apps.",
    "",
    "Usage: starcite <command> [options]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    "",
    "Global options:",
    optionLines({ ...GLOBAL_OPTIONS, version: { type: "boolean", description: "Print the version" } }),
    "",
    "Settings come from flags, then STARCITE_ENDPOINT / STARCITE_API_KEY, then <config dir>/config.json.",
    'Run "starcite <command> --help" for a command\'s options. Exit codes: 0 ok, 1 failed, 2 bad usage.',
    "",
    "Example:",
    "  $ starcite config set endpoint http://localhost:4000",
    '  $ starcite create --id ses_demo --title "Draft contract"',
    '  $ starcite append ses_demo --agent drafter --text "Drafting clause 4.2..."',
    "  $ starcite tail ses_demo --cursor 0 --limit 5",
    "",
  ].join("\n");
}

/** Runs one command line; resolves with the exit code. Never throws: failures are printed as one line on stderr. */
export async function runCli(argv: string[], io: Io): Promise<number> {
  let command: Command | undefined;
  try {
    const indices = commandWordIndices(argv);
    const words = indices.map((i) => argv[i]!);
    const wantsHelp = argv.includes("--help") || argv.includes("-h");
    if (words.length === 0) {
      if (argv.includes("--version")) {
        io.stdout(`starcite ${version()}\n`);
        return 0;
      }
      if (wantsHelp || argv.length === 0) {
        io.stdout(generalHelp());
        return 0;
      }
      throw new UsageError("missing command");
    }
    if (words[0] === "help") {
      const rest = words.slice(1).join(" ");
      const target = COMMANDS.find((c) => c.name === rest) ?? COMMANDS.find((c) => c.name === words[1]);
      if (target) io.stdout(commandHelp(target));
      else if (words[1] && GROUPS[words[1]]) io.stdout(groupHelp(words[1]));
      else io.stdout(generalHelp());
      return 0;
    }
    let used = 0;
    if (words.length >= 2) command = COMMANDS.find((c) => c.name === `${words[0]} ${words[1]}`);
    if (command) used = 2;
    else {
      command = COMMANDS.find((c) => c.name === words[0]);
      used = 1;
    }
    if (!command) {
      if (GROUPS[words[0]!]) {
        if (wantsHelp || words.length === 1) {
          io.stdout(groupHelp(words[0]!));
          return wantsHelp ? 0 : 2;
        }
        throw new UsageError(`unknown command "${words[0]} ${words[1]}" (run "starcite ${words[0]} --help")`);
      }
      throw new UsageError(`unknown command "${words[0]}" (run "starcite --help")`);
    }
    const rest = argv.filter((_, i) => !indices.slice(0, used).includes(i));
    const p = parse(rest, command.options);
    if (p.values.help === true) {
      io.stdout(commandHelp(command));
      return 0;
    }
    let settings: CliSettings | undefined;
    let client: Starcite | undefined;
    const ctx: Context = {
      io,
      p,
      settings: () =>
        (settings ??= resolveSettings(
          {
            configDir: p.values["config-dir"] as string | undefined,
            endpoint: p.values.endpoint as string | undefined,
            apiKey: p.values["api-key"] as string | undefined,
          },
          io.env,
        )),
      client: () => {
        const s = ctx.settings();
        return (client ??= new Starcite({ baseUrl: requireEndpoint(s), ...(s.apiKey ? { apiKey: s.apiKey } : {}) }));
      },
    };
    return await command.run(ctx);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`error: usage: ${error.message}${command ? ` (see "starcite ${command.name} --help")` : ""}\n`);
      return 2;
    }
    if (isStarciteError(error)) {
      io.stderr(`error: ${error.code}: ${error.message.split("\n")[0]}\n`);
      return 1;
    }
    io.stderr(`error: internal_error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
