import { createHash, createPrivateKey, createPublicKey, hkdfSync, sign, type KeyObject } from "node:crypto";
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import type { WakeGrant } from "../../app/stream-subscriptions.ts";
import { StarciteError } from "../../db/errors.ts";

/** PKCS#8 DER header of an Ed25519 private key; the 32-byte seed follows it. */
const ED25519_PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

const derive = (secret: string, purpose: string): Buffer =>
  Buffer.from(hkdfSync("sha256", secret, "starcite", `durable streams ${purpose}`, 32));

export interface PublicJwk {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
  kid: string;
  use: "sig";
  alg: "EdDSA";
}

export type WakeTokenUse = "callback" | "claim";

/**
 * The server's keys for subscriptions, derived from its token secret (so every process of a deployment has the
 * same ones, and they survive restarts without being stored): the Ed25519 key that signs webhook requests
 * (published as a JWKS, kid from its RFC 7638 thumbprint) and the HMAC key of wake tokens (callback and claim
 * tokens: HS256 JWTs naming tenant, subscription, wake and generation).
 */
export class WakeKeys {
  readonly kid: string;
  readonly #signing: KeyObject;
  readonly #jwk: PublicJwk;
  readonly #tokenKey: Buffer;

  constructor(secret: string) {
    this.#signing = createPrivateKey({
      key: Buffer.concat([ED25519_PKCS8_PREFIX, derive(secret, "webhook signing")]),
      format: "der",
      type: "pkcs8",
    });
    const { x } = createPublicKey(this.#signing).export({ format: "jwk" }) as { x: string };
    const thumbprint = createHash("sha256")
      .update(JSON.stringify({ crv: "Ed25519", kty: "OKP", x }))
      .digest("base64url");
    this.kid = `ds_${thumbprint}`;
    this.#jwk = { kty: "OKP", crv: "Ed25519", x, kid: this.kid, use: "sig", alg: "EdDSA" };
    this.#tokenKey = derive(secret, "wake tokens");
  }

  jwks(): { keys: PublicJwk[] } {
    return { keys: [this.#jwk] };
  }

  /** Webhook-Signature: t=<unix seconds>,kid=<kid>,ed25519=<base64url signature of "<t>.<raw body>">. */
  signature(rawBody: string, now = Date.now()): string {
    const t = Math.floor(now / 1000);
    const sig = sign(null, Buffer.from(`${t}.${rawBody}`), this.#signing).toString("base64url");
    return `t=${t},kid=${this.kid},ed25519=${sig}`;
  }

  async token(grant: WakeGrant, use: WakeTokenUse): Promise<string> {
    return new SignJWT({ ten: grant.tenantId, wid: grant.wakeId, gen: grant.generation, use })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer("starcite-durable-streams")
      .setSubject(grant.subscriptionId)
      .setIssuedAt()
      .setExpirationTime("1h")
      .sign(this.#tokenKey);
  }

  /** The grant of a wake token for this use and subscription; unauthorized or token_expired otherwise. */
  async verify(token: string | undefined, use: WakeTokenUse, subscriptionId: string): Promise<WakeGrant> {
    if (!token) throw new StarciteError("unauthorized", `send the ${use} token as Authorization: Bearer <token>`);
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.#tokenKey, { algorithms: ["HS256"], issuer: "starcite-durable-streams" }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new StarciteError("token_expired", `the ${use} token has expired`);
      throw new StarciteError("unauthorized", `invalid ${use} token`);
    }
    if (
      payload.use !== use ||
      payload.sub !== subscriptionId ||
      typeof payload.ten !== "string" ||
      typeof payload.wid !== "string" ||
      typeof payload.gen !== "number"
    ) {
      throw new StarciteError("unauthorized", `invalid ${use} token`);
    }
    return { tenantId: payload.ten, subscriptionId, wakeId: payload.wid, generation: payload.gen };
  }
}
