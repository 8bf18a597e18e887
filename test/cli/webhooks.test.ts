import { expect, test } from "vitest";
import { createApiKey } from "../../src/db/keys.ts";
import { cli, expectError, useConfiguredCli } from "./support.ts";

/** Runs starcite with this file's HOME, whose config points at the test server (auth on, a tenant:admin key). */
const cliEnv = useConfiguredCli();
const { sc } = cliEnv;

test("webhooks create prints the secret once; list, update, deliveries and delete manage the endpoint", async () => {
  const created = await sc("webhooks", "create", "http://127.0.0.1:9/hooks", "--type", "tool_call,tool_result", "--no-lifecycle");
  expect(created.code).toBe(0);
  expect(created.stdout).toMatch(/^whsec_[A-Za-z0-9_-]+\n$/);
  const id = /Created webhook endpoint (whk_\S+)/.exec(created.stderr)![1]!;

  const listed = (await sc("webhooks", "list", "--json")).stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  expect(listed).toEqual([
    expect.objectContaining({
      id,
      url: "http://127.0.0.1:9/hooks",
      types: ["tool_call", "tool_result"],
      events: true,
      lifecycle: false,
      enabled: true,
    }),
  ]);
  expect(JSON.stringify(listed)).not.toContain("whsec_");

  expect((await sc("webhooks", "update", id, "--disable", "--all-types")).stdout).toMatch(new RegExp(`^${id}\\s+disabled\\s+.*events\\n$`));
  expect((await sc("webhooks", "deliveries", id, "--pending")).stdout).toBe("");
  expectError(await sc("webhooks", "create", "ftp://example.com/x"), "webhook_url_rejected");
  expect((await sc("webhooks", "delete", id)).stdout).toBe(`deleted ${id}\n`);
  expectError(await sc("webhooks", "delete", id), "webhook_not_found");
});

test("webhooks need the tenant:admin scope", async () => {
  const { secret } = await createApiKey(cliEnv.s.db.sql, { tenantId: "acme", name: "reader", scopes: ["session:read"] });
  expectError(await cli(["webhooks", "list", "--api-key", secret], { home: cliEnv.home }), "forbidden_scope");
});
