import { describe, expect, test } from "vitest";
import { expectError, useConfiguredCli } from "./support.ts";

/** Runs starcite with this file's HOME, whose config points at the test server. */
const { sc } = useConfiguredCli();

describe("tokens, keys and errors", () => {
  test("token create mints a session token that writes as its principal", async () => {
    await sc("create", "--id", "ses_tok");
    const minted = await sc("token", "create", "ses_tok", "--agent", "drafter", "--scopes", "session:read,session:append", "--ttl", "600");
    expect(minted).toMatchObject({ code: 0, stderr: "" });
    const token = minted.stdout.trim();
    expect(token.split(".")).toHaveLength(3);
    const who = await sc("whoami", "--api-key", token);
    expect(who.stdout).toContain("agent agent:drafter in tenant acme");
    expect(who.stdout).toContain("session: ses_tok");
    expect((await sc("append", "ses_tok", "--text", "as the token", "--api-key", token)).stdout).toBe("seq=1 deduped=false\n");
    expectError(await sc("append", "ses_tok", "--user", "alice", "--text", "impersonation", "--api-key", token), "forbidden_actor");
    expect((await sc("tail", "ses_tok", "--no-follow", "--api-key", token)).stdout).toBe("[drafter] as the token\n");

    const readOnly = (await sc("token", "create", "ses_tok", "--user", "viewer", "--scopes", "session:read", "--json")).stdout;
    expect(JSON.parse(readOnly)).toMatchObject({ token: expect.any(String), expiresAt: expect.any(String) });
    expectError(await sc("append", "ses_tok", "--text", "x", "--api-key", JSON.parse(readOnly).token), "forbidden_scope");
    expectError(await sc("token", "create", "ses_tok"), "usage", 2);
    expectError(await sc("token", "create", "ses_nope", "--user", "a"), "session_not_found");
  });

  test("keys create prints the secret once; keys list; keys revoke; a revoked key is refused", async () => {
    const created = await sc("keys", "create", "--tenant", "acme", "--name", "ci");
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^sk_\S+\n$/);
    const secret = created.stdout.trim();
    expect(created.stderr).toMatch(
      /^Created key key_\S+ "ci" in tenant acme with scopes \S+\. The secret above is shown only this once\.\n$/,
    );
    expect(
      created.stderr
        .match(/scopes (\S+)\./)![1]!
        .split(",")
        .sort(),
    ).toEqual(["session:append", "session:create", "session:read"]);
    const keyId = /key_\S+/.exec(created.stderr)![0];

    const list = await sc("keys", "list");
    expect(list.stdout).toMatch(new RegExp(`\\n${keyId}\\s+acme\\s+ci\\s+\\S+\\s+session:\\S+\\s`));
    expect(list.stdout).not.toContain(secret);
    const listed = (await sc("keys", "list", "--json")).stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(listed.find((k) => k.id === keyId)).toMatchObject({ tenantId: "acme", name: "ci", revokedAt: null });

    expect((await sc("create", "--id", "ses_ci", "--api-key", secret)).stdout).toBe("ses_ci\n");
    expect(await sc("keys", "revoke", keyId)).toMatchObject({ code: 0, stdout: `revoked ${keyId}\n` });
    expectError(await sc("create", "--api-key", secret), "unauthorized");
    expectError(await sc("tail", "ses_ci", "--api-key", secret), "unauthorized");
    expectError(await sc("keys", "list", "--api-key", "sk_not_a_real_key"), "unauthorized");
    expectError(await sc("keys", "revoke", "key_missing"), "key_not_found");

    const other = JSON.parse(
      (await sc("keys", "create", "--tenant", "globex", "--name", "reader", "--scopes", "session:read", "--json")).stdout,
    );
    expect(other).toMatchObject({ secret: expect.stringMatching(/^sk_/), key: { tenantId: "globex", scopes: ["session:read"] } });
  });
});
