// Authentication and CORS settings of a generated server (TREE, a blog tree with its database in
// DATABASE_URL), each in a server process started with those settings: RS256 with a PEM key,
// RS256 from a JWKS endpoint, issuer and audience checks, API keys, CORS origins. SERVER_BIN runs
// another server of the tree instead (the Rust server).

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { SignJWT, exportJWK, exportSPKI, generateKeyPair } from "jose";

const TREE = process.env.TREE ?? "";
let port = 3900 + Math.floor(Math.random() * 50);
const children: ChildProcess[] = [];

after(() => {
  for (const c of children) c.kill();
});

async function server(env: Record<string, string>): Promise<string> {
  port++;
  // SERVER_BIN: another server of the same tree (the Rust server's binary).
  const [cmd, args] = process.env.SERVER_BIN ? [process.env.SERVER_BIN, []] : ["node", ["--import", "tsx", "src/server/main.ts"]];
  const child = spawn(cmd, args, {
    cwd: TREE,
    env: { ...process.env, JWT_SECRET: "", PORT: String(port), LOG_LEVEL: "silent", ...env },
    stdio: "ignore",
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${url}/ready`)).ok) return url;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("server did not start");
}

async function status(url: string, headers: Record<string, string>): Promise<number> {
  return (await fetch(url, { headers })).status;
}

const claims = { id: 1, role: "EDITOR" };

describe("RS256", () => {
  it("verifies tokens with JWT_PUBLIC_KEY and refuses HS256 ones", async () => {
    const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
    const url = await server({ JWT_PUBLIC_KEY: await exportSPKI(publicKey) });
    const good = await new SignJWT(claims).setProtectedHeader({ alg: "RS256" }).setExpirationTime("5m").sign(privateKey);
    assert.equal(await status(`${url}/api/posts`, { authorization: `Bearer ${good}` }), 200);
    const hs = await new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(new TextEncoder().encode("guess"));
    assert.equal(await status(`${url}/api/posts`, { authorization: `Bearer ${hs}` }), 401);
    const other = (await generateKeyPair("RS256")).privateKey;
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: "RS256" }).sign(other);
    assert.equal(await status(`${url}/api/posts`, { authorization: `Bearer ${forged}` }), 401);
  });

  it("fetches keys from JWKS_URL and checks issuer and audience", async () => {
    const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256", use: "sig" };
    const jwks = createServer((_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => jwks.listen(0, "127.0.0.1", r));
    after(() => jwks.close());
    const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`;
    const url = await server({ JWKS_URL: jwksUrl, JWT_ISSUER: "https://issuer.test", JWT_AUDIENCE: "blog" });
    const sign = (iss: string, aud: string) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: "RS256", kid: "k1" })
        .setIssuer(iss)
        .setAudience(aud)
        .setExpirationTime("5m")
        .sign(privateKey);
    assert.equal(await status(`${url}/api/posts`, { authorization: `Bearer ${await sign("https://issuer.test", "blog")}` }), 200);
    assert.equal(await status(`${url}/api/posts`, { authorization: `Bearer ${await sign("https://evil.test", "blog")}` }), 401);
    assert.equal(await status(`${url}/api/posts`, { authorization: `Bearer ${await sign("https://issuer.test", "other")}` }), 401);
  });
});

describe("API keys and CORS", () => {
  it("takes API keys where @@auth allows them, with the configured claims", async () => {
    const url = await server({
      JWT_SECRET: "unused-secret-0123456789",
      API_KEYS: JSON.stringify({ "admin-key": { id: 9, role: "ADMIN" }, "user-key": { id: 10, role: "USER" } }),
      CORS_ORIGINS: "http://app.test",
    });
    const post = (key: string) =>
      fetch(`${url}/api/tags`, {
        method: "POST",
        headers: { "x-api-key": key, "content-type": "application/json" },
        body: JSON.stringify({ name: `k${Date.now()}${key.length}` }),
      });
    assert.equal((await post("admin-key")).status, 201, "Tag is @@auth(public); an admin key passes its policy");
    assert.equal((await post("user-key")).status, 403, "a USER key does not");
    assert.equal((await post("wrong-key")).status, 401);
    assert.equal(await status(`${url}/api/posts`, { "x-api-key": "admin-key" }), 401, "Post is @@auth(jwt) only");

    const preflight = await fetch(`${url}/api/tags`, {
      method: "OPTIONS",
      headers: { origin: "http://app.test", "access-control-request-method": "POST" },
    });
    assert.equal(preflight.headers.get("access-control-allow-origin"), "http://app.test");
    const foreign = await fetch(`${url}/api/tags`, { headers: { origin: "http://evil.test" } });
    assert.equal(foreign.headers.get("access-control-allow-origin"), null);
  });
});
