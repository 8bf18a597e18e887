import { describe, expect, test } from "vitest";
import { expectError, useConfiguredCli } from "./support.ts";

/** Runs starcite with this file's HOME, whose config points at the test server. */
const { sc } = useConfiguredCli();

describe("sessions", () => {
  test("create prints the id (generated without --id); sessions list, get and update", async () => {
    const generated = await sc("create", "--title", "Untitled", "--metadata", '{"customer":"acme"}');
    expect(generated).toMatchObject({ code: 0, stderr: "" });
    expect(generated.stdout).toMatch(/^ses_[A-Za-z0-9_-]+\n$/);
    const id = generated.stdout.trim();
    expect(await sc("create", "--id", "ses_cli", "--title", "Draft contract")).toMatchObject({ code: 0, stdout: "ses_cli\n" });
    expectError(await sc("create", "--id", "ses_cli"), "session_exists");
    expectError(await sc("create", "--metadata", "[1,2]"), "usage", 2);
    expectError(await sc("create", "--metadata", "{oops"), "usage", 2);

    const got = await sc("sessions", "get", id, "--json");
    expect(JSON.parse(got.stdout)).toMatchObject({
      id,
      title: "Untitled",
      metadata: { customer: "acme" },
      lastSeq: 0,
      version: 1,
      archived: false,
    });
    const human = await sc("sessions", "get", "ses_cli");
    expect(human.stdout).toMatch(/^id:\s+ses_cli\ntitle:\s+Draft contract\nlast_seq:\s+0\n/);
    expectError(await sc("sessions", "get", "ses_missing"), "session_not_found");

    const list = await sc("sessions", "list");
    expect(list.stdout.split("\n")[0]).toMatch(/^ID\s+LAST_SEQ\s+VERSION\s+ARCHIVED\s+UPDATED\s+TITLE$/);
    expect(list.stdout).toMatch(/\nses_cli\s+0\s+1\s+no\s+\S+\s+Draft contract\n/);
    const json = (await sc("sessions", "list", "--json", "--limit", "1", "--after", "ses_a")).stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(json).toHaveLength(1);

    expect(await sc("sessions", "update", "ses_cli", "--title", "Final contract", "--metadata", '{"v":2}')).toMatchObject({
      code: 0,
      stdout: "ses_cli version=2\n",
    });
    expectError(await sc("sessions", "update", "ses_cli", "--archive", "--expected-version", "1"), "version_conflict");
    expect((await sc("sessions", "update", "ses_cli", "--archive", "--expected-version", "2")).stdout).toBe("ses_cli version=3\n");
    expect((await sc("sessions", "list", "--archived", "--json")).stdout).toContain('"id":"ses_cli"');
    expectError(await sc("sessions", "update", "ses_cli"), "usage", 2);
  });
});

describe("append and tail", () => {
  test("append's options end up in the event; tail --no-follow --json shows them", async () => {
    await sc("create", "--id", "ses_opts");
    expect((await sc("append", "ses_opts", "--user", "alice", "--text", "hello")).stdout).toBe("seq=1 deduped=false\n");
    const full = await sc(
      "append",
      "ses_opts",
      "--agent",
      "searcher",
      "--type",
      "tool_result",
      "--payload",
      '{"rows":3}',
      "--source",
      "search",
      "--metadata",
      '{"ms":12}',
      "--refs",
      '{"parent":1}',
      "--expected-seq",
      "1",
    );
    expect(full).toMatchObject({ code: 0, stdout: "seq=2 deduped=false\n", stderr: "" });
    expect((await sc("append", "ses_opts", "--actor", "tool:calc", "--payload", '{"sum":5}', "--json")).stdout).toBe(
      '{"seq":3,"lastSeq":3,"deduped":false}\n',
    );

    const events = (await sc("tail", "ses_opts", "--no-follow", "--json")).stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(events).toHaveLength(3);
    expect(events[0]).toMatchObject({ seq: 1, type: "content", actor: "user:alice", payload: { text: "hello" } });
    expect(events[1]).toMatchObject({
      seq: 2,
      type: "tool_result",
      actor: "agent:searcher",
      payload: { rows: 3 },
      source: "search",
      metadata: { ms: 12 },
      refs: { parent: 1 },
    });
    // Human lines: the text, or the payload as JSON when there is no text.
    expect(await sc("tail", "ses_opts", "--no-follow")).toMatchObject({
      code: 0,
      stdout: '[alice] hello\n[searcher] {"rows":3}\n[calc] {"sum":5}\n',
    });
    expect((await sc("tail", "ses_opts", "--no-follow", "--cursor", "2")).stdout).toBe('[calc] {"sum":5}\n');
    expect((await sc("tail", "ses_opts", "--no-follow", "--limit", "1")).stdout).toBe("[alice] hello\n");
    expectError(await sc("tail", "ses_opts", "--cursor", "9"), "invalid_argument");

    expectError(await sc("append", "ses_opts", "--text", "late", "--expected-seq", "1"), "expected_seq_conflict");
    expectError(await sc("append", "ses_missing", "--text", "x"), "session_not_found");
    expectError(await sc("append", "ses_opts", "--agent", "a", "--user", "b", "--text", "x"), "usage", 2);
    expectError(await sc("append", "ses_opts"), "usage", 2);
    expectError(await sc("append", "ses_opts", "--text", "x", "--producer-seq", "1"), "usage", 2);
    expectError(await sc("append", "ses_opts", "--text", "x", "--bogus"), "usage", 2);
  });

  test("a retried append with the same producer seq prints deduped=true and the same seq", async () => {
    await sc("create", "--id", "ses_retry");
    await sc("append", "ses_retry", "--user", "alice", "--text", "first");
    const args = [
      "append",
      "ses_retry",
      "--agent",
      "drafter",
      "--text",
      "Drafting clause 4.2...",
      "--producer-id",
      "drafter-1",
      "--producer-seq",
      "1",
    ];
    expect(await sc(...args)).toMatchObject({ code: 0, stdout: "seq=2 deduped=false\n" });
    expect(await sc(...args)).toMatchObject({ code: 0, stdout: "seq=2 deduped=true\n" });
    expect(
      (await sc("append", "ses_retry", "--agent", "drafter", "--text", "next", "--producer-id", "drafter-1", "--producer-seq", "2")).stdout,
    ).toBe("seq=3 deduped=false\n");
    // Same producer seq, different content: refused, not overwritten.
    expectError(
      await sc("append", "ses_retry", "--agent", "drafter", "--text", "changed", "--producer-id", "drafter-1", "--producer-seq", "2"),
      "producer_replay_conflict",
    );
    expectError(
      await sc("append", "ses_retry", "--text", "skip", "--producer-id", "drafter-1", "--producer-seq", "9"),
      "producer_seq_conflict",
    );
    expect((await sc("tail", "ses_retry", "--no-follow")).stdout).toBe("[alice] first\n[drafter] Drafting clause 4.2...\n[drafter] next\n");
  });
});
