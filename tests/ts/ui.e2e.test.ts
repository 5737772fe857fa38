// The generated admin UI in Chromium (playwright-core), against the blog API on PostgreSQL: sign
// in, list (sort, filter, pages, URL state, CSV), detail with field masks, forms checked by the
// Zod schemas before any request, edit, bulk delete, live rows, and axe-core on each page kind.
// Run by ui.sh, which starts the API (API_URL) and `next start` of the UI (UI_URL).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AxeBuilder } from "@axe-core/playwright";
import { SignJWT } from "jose";
import Provider from "oidc-provider";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import type { Server } from "node:http";

const API = process.env.API_URL ?? "";
const UI = process.env.UI_URL ?? "";
const SHOTS = process.env.SHOTS ?? join(tmpdir(), "ui-shots");
const SECRET = new TextEncoder().encode(process.env.JWT_SECRET ?? "");
const run = Date.now().toString(36);
type Json = Record<string, unknown>;

async function token(claims: Json): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setExpirationTime("30m").sign(SECRET);
}

async function api(method: string, path: string, tok: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(API + path, {
    method,
    headers: { authorization: `Bearer ${tok}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text === "" ? {} : (JSON.parse(text) as Json) };
}

let browser: Browser;
let issuer: Server | undefined;
let bobDraft: number;
let admin: string;
const users: Record<string, { id: number; token: string }> = {};

async function user(name: string, role: string) {
  const r = await api("POST", "/api/users", admin, { email: `${name}-${run}@example.com`, name, role, passwordHash: "x" });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const id = r.body.id as number;
  users[name] = { id, token: await token({ id, role }) };
}

async function post(author: string, title: string, extra: Json = {}): Promise<number> {
  const slug = `${title.toLowerCase().replace(/[^a-z0-9]+/g, "-")}-${run}`;
  const r = await api("POST", "/api/posts", users[author]!.token, { title, slug, authorId: users[author]!.id, ...extra });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.id as number;
}

/** A browser context signed in with a cookie (as the sign-in page sets it), or anonymous. */
async function as(name: string | null, colorScheme: "light" | "dark" = "light"): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ locale: "en-US", timezoneId: "Europe/Berlin", colorScheme });
  if (name !== null) {
    await context.addCookies([{ name: "ssot_token", value: users[name]!.token, url: UI, httpOnly: true, sameSite: "Lax" }]);
  }
  return { context, page: await context.newPage() };
}

async function shot(page: Page, name: string) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function accessible(page: Page, what: string) {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join("; ")})`), [], what);
}

before(async () => {
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
    ],
    // Playwright gives every launch a fresh, empty profile (its own --user-data-dir).
  });
  admin = await token({ id: 1_000_000, role: "ADMIN" });
  await user("alice", "USER");
  await user("bob", "USER");
  await user("editor", "EDITOR");
  for (let i = 0; i < 12; i++) await post("alice", `Alice post ${String(i).padStart(2, "0")}`, { published: i % 2 === 0, reviewNote: "note" });
  bobDraft = await post("bob", "Bob draft", { published: false });
});

after(async () => {
  await browser?.close();
  issuer?.close();
});

/** Calls of the provider's UserInfo endpoint (the UI's server asks it, not the browser). */
let userinfoCalls = 0;

/**
 * A local OpenID provider (panva's oidc-provider, the certified implementation) at OIDC_ISSUER,
 * with the UI as a confidential client. Its development login form takes any name: the
 * account's `blog` scope carries the claims the blog's [plugins.oidc.claims] maps (an unknown
 * name gets none). PKCE is required. As OpenID Connect has it for the code flow, the ID token
 * holds `sub` only; the scopes' claims come from UserInfo.
 */
function startIssuer(): Promise<Server> {
  const url = new URL(process.env.OIDC_ISSUER ?? "");
  const provider = new Provider(url.origin, {
    clients: [
      {
        client_id: process.env.OIDC_CLIENT_ID ?? "",
        client_secret: process.env.OIDC_CLIENT_SECRET ?? "",
        redirect_uris: [`${UI}/plugins/oidc/callback`],
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic",
      },
    ],
    claims: { openid: ["sub"], email: ["email"], blog: ["blog_user_id", "blog_role"] },
    scopes: ["openid", "email", "blog"],
    conformIdTokenClaims: true,
    pkce: { required: () => true },
    cookies: { keys: [`oidc-${run}`] },
    async findAccount(_ctx, sub) {
      const known = users[sub];
      const role = sub === "editor" ? "EDITOR" : "USER";
      return {
        accountId: sub,
        async claims() {
          return { sub, email: `${sub}@example.com`, ...(known === undefined ? {} : { blog_user_id: known.id, blog_role: role }) };
        },
      };
    },
  });
  provider.use(async (ctx, next) => {
    if (ctx.path === "/me") userinfoCalls++;
    await next();
  });
  return new Promise((resolve) => {
    const server = provider.listen(Number(url.port), "127.0.0.1", () => resolve(server));
  });
}

describe("admin UI", () => {
  it("signs in through an OpenID provider: authorization code with PKCE, claims mapped, a session the API accepts", async () => {
    issuer ??= await startIssuer();
    const { context, page } = await as(null);
    const authorize: URL[] = [];
    page.on("request", (r) => {
      if (r.url().startsWith(`${process.env.OIDC_ISSUER}/auth`)) authorize.push(new URL(r.url()));
    });
    await page.goto(`${UI}/admin/sign-in`);
    await page.getByRole("link", { name: "Sign in with Blog SSO" }).click();
    await page.locator("input[name=login]").fill("editor");
    await page.locator("input[name=password]").fill("any");
    await page.locator("button[type=submit]").click(); // Sign-in
    await page.locator("button[type=submit]").click(); // Continue (consent)
    await page.waitForURL(`${UI}/admin`);
    assert.equal(await page.getByTestId("principal").textContent(), `#${users.editor!.id} (EDITOR)`);
    const q = authorize[0]!.searchParams;
    assert.equal(q.get("code_challenge_method"), "S256");
    assert.match(q.get("code_challenge") ?? "", /^[A-Za-z0-9_-]{43}$/);
    assert.ok((q.get("state") ?? "").length >= 32 && (q.get("nonce") ?? "").length >= 32, "state and nonce");
    assert.equal(q.get("scope"), "openid email blog");
    // The session: an HTTP-only cookie holding the API's own token with the mapped claims.
    const cookies = await context.cookies(UI);
    const session = cookies.find((c) => c.name === "ssot_token");
    assert.ok(session?.httpOnly, "the session cookie is HTTP-only");
    assert.equal(cookies.find((c) => c.name === "ssot_oidc")?.value ?? "", "", "the flow cookie is gone");
    const claims = JSON.parse(Buffer.from(session!.value.split(".")[1]!, "base64url").toString()) as Json;
    assert.deepEqual({ id: claims.id, role: claims.role }, { id: users.editor!.id, role: "EDITOR" });
    assert.ok(userinfoCalls > 0, "the ID token held sub only: the claims came from UserInfo");
    const minutes = ((claims.exp as number) - (claims.iat as number)) / 60;
    assert.equal(minutes, 480, "session_minutes");
    // The API takes it: an editor reads Bob's draft, in the UI and straight from the API.
    assert.equal((await api("GET", `/api/posts/${bobDraft}`, session!.value)).status, 200);
    assert.equal((await api("GET", `/api/posts/${bobDraft}`, users.alice!.token)).status, 404);
    await page.goto(`${UI}/admin/posts?sort=id`);
    await page.getByText("Bob draft").first().waitFor();
    await accessible(page, "signed in through OpenID Connect");
    await context.close();
  });

  it("refuses an OpenID sign-in it did not start, a forged state, and an account without the claims", async () => {
    issuer ??= await startIssuer();
    const { context, page } = await as(null);
    // A callback with no flow cookie (a link someone else made): nothing is exchanged.
    await page.goto(`${UI}/plugins/oidc/callback?code=forged&state=forged`);
    await page.waitForURL(`${UI}/admin/sign-in?error=expired`);
    assert.match((await page.locator("p[role=alert]").textContent()) ?? "", /took too long or was started elsewhere/);
    // A flow this browser started, answered with another state: refused before any token.
    await page.goto(`${UI}/plugins/oidc/sign-in`);
    await page.locator("input[name=login]").waitFor();
    await page.goto(`${UI}/plugins/oidc/callback?code=forged&state=forged`);
    await page.waitForURL(`${UI}/admin/sign-in?error=refused`);
    assert.equal((await context.cookies(UI)).some((c) => c.name === "ssot_token"), false);
    // An account the issuer vouches for but whose ID token lacks blog_user_id and blog_role.
    await page.goto(`${UI}/admin/sign-in`);
    await page.getByRole("link", { name: "Sign in with Blog SSO" }).click();
    await page.locator("input[name=login]").fill(`stranger-${run}`);
    await page.locator("input[name=password]").fill("any");
    await page.locator("button[type=submit]").click();
    await page.locator("button[type=submit]").click();
    await page.waitForURL(`${UI}/admin/sign-in?error=claims`);
    assert.match((await page.locator("p[role=alert]").textContent()) ?? "", /lacks what this application needs/);
    assert.equal((await context.cookies(UI)).some((c) => c.name === "ssot_token"), false, "no session");
    await context.close();
  });

  it("signs in with a pasted JWT, shows the principal, signs out", async () => {
    const { context, page } = await as(null);
    await page.goto(`${UI}/admin/sign-in`);
    await accessible(page, "sign-in page");
    await shot(page, "sign-in");
    await page.getByLabel("Token or key").fill(users.alice!.token);
    const signedIn = page.waitForResponse((r) => r.request().method() === "POST" && r.url().startsWith(`${UI}/admin/sign-in`));
    await page.getByRole("button", { name: "Sign in" }).click();
    const cookie = (await (await signedIn).headerValue("set-cookie")) ?? "";
    assert.match(cookie, /ssot_token=[^;]+;.*HttpOnly/i, "an HTTP-only cookie");
    assert.doesNotMatch(cookie, /;\s*Secure/i, "not Secure over plain http");
    await page.waitForURL(`${UI}/admin`);
    assert.equal(await page.getByTestId("principal").textContent(), `#${users.alice!.id} (USER)`);
    await accessible(page, "dashboard");
    await shot(page, "dashboard");
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${UI}/admin/sign-in`);
    assert.equal(await page.getByTestId("principal").count(), 0);
    await context.close();
  });

  it("marks the pasted credential's cookie Secure behind a proxy that terminates https", async () => {
    const context = await browser.newContext({ extraHTTPHeaders: { "x-forwarded-proto": "https" } });
    const page = await context.newPage();
    await page.goto(`${UI}/admin/sign-in`);
    await page.getByLabel("Token or key").fill(users.alice!.token);
    const signedIn = page.waitForResponse((r) => r.request().method() === "POST" && r.url().startsWith(`${UI}/admin/sign-in`));
    await page.getByRole("button", { name: "Sign in" }).click();
    const cookie = (await (await signedIn).headerValue("set-cookie")) ?? "";
    assert.match(cookie, /ssot_token=[^;]+;.*HttpOnly/i, cookie);
    assert.match(cookie, /;\s*Secure/i, "Secure when the browser came over https");
    await context.close();
  });

  it("shows the API's refusal to an anonymous caller as an error state", async () => {
    const { context, page } = await as(null);
    await page.goto(`${UI}/admin/posts`);
    await page.locator("p[role=alert]").waitFor();
    assert.match((await page.locator("p[role=alert]").textContent()) ?? "", /^401 Unauthorized/);
    await context.close();
  });

  it("renders the first page on the server with the cookie's credentials", async () => {
    const html = await (await fetch(`${UI}/admin/posts?sort=id`, { headers: { cookie: `ssot_token=${users.alice!.token}` } })).text();
    assert.match(html, /Alice post 00/, "the rows are in the server's HTML");
    assert.doesNotMatch(html, /Bob draft/);
    const anonymous = await (await fetch(`${UI}/admin/posts?sort=id`)).text();
    assert.doesNotMatch(anonymous, /Alice post 00/);
  });

  it("lists with server-side sort, filters and cursor pages kept in the URL", async () => {
    const { context, page } = await as("alice");
    await page.goto(`${UI}/admin/posts?take=10`);
    // Alice sees her 12 posts and not Bob's draft (the read policy).
    await page.getByTestId("total").waitFor();
    assert.equal(await page.getByTestId("total").textContent(), "12 rows");
    assert.equal(await page.getByRole("cell", { name: "Bob draft" }).count(), 0);
    assert.equal(await page.locator("tbody tr").count(), 10);
    // docs/ui.md's wrapper of this page (ui.sh put it there; regeneration kept it).
    await page.getByText("Posts are reviewed every Monday.").waitFor();
    // A figure, not a limit: the browser's first contentful paint of a server-rendered list.
    const fcp = await page.evaluate(() => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? -1);
    console.log(`first contentful paint of the posts list: ${Math.round(fcp)} ms`);
    await accessible(page, "list page");
    await shot(page, "list");
    // Sort by title, descending (two clicks), then page on with the cursor.
    await page.getByRole("button", { name: "Title" }).click();
    await page.waitForURL(/sort=title/);
    await page.getByRole("button", { name: /Title/ }).click();
    await page.waitForURL(/sort=-title/);
    await page.locator("tbody tr").first().getByText("Alice post 11").waitFor();
    await page.getByRole("button", { name: "Next page" }).click();
    await page.waitForURL(/cursor=/);
    await page.locator("tbody tr").first().getByText("Alice post 01").waitFor();
    assert.equal(await page.locator("tbody tr").count(), 2);
    // A text filter; the URL carries it through a reload.
    await page.getByRole("button", { name: "First page" }).click();
    await page.getByLabel("Title", { exact: true }).fill("post 0");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.waitForURL(/f\.title\.contains=post/);
    await page.reload();
    await page.getByTestId("total").getByText("10 rows").waitFor();
    assert.equal(await page.getByLabel("Title", { exact: true }).inputValue(), "post 0");
    // Boolean select.
    await page.getByLabel("Published", { exact: true }).selectOption("true");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.getByTestId("total").getByText("5 rows").waitFor();
    await context.close();
  });

  it("exports every row of the current filter as CSV, not only the visible page", async () => {
    const { context, page } = await as("alice");
    await page.goto(`${UI}/admin/posts?take=10&sort=id`);
    await page.getByTestId("total").waitFor();
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export CSV" }).click()]);
    const text = readFileSync((await download.path()) ?? "", "utf8");
    const lines = text.trim().split("\r\n");
    assert.equal(lines.length, 13, text);
    assert.match(lines[0] ?? "", /^id,title,slug/);
    assert.equal(lines[0]?.includes("reviewNote"), false, "a field Alice may not read is not exported");
    await context.close();
  });

  it("shows a field only to whom @readable lets read it", async () => {
    const id = (await api("GET", "/api/posts?take=1&sort=id", users.alice!.token)).body.data as Json[];
    const postId = id[0]!.id as number;
    for (const [who, sees] of [["alice", false], ["editor", true]] as const) {
      const { context, page } = await as(who);
      await page.goto(`${UI}/admin/posts/${postId}`);
      await page.locator('dd[data-field="title"]').waitFor();
      assert.equal(await page.locator('dd[data-field="reviewNote"]').count(), sees ? 1 : 0, who);
      if (who === "editor") {
        await accessible(page, "detail page");
        await shot(page, "detail");
      }
      await context.close();
    }
    // email: only for yourself (or an admin).
    const { context, page } = await as("alice");
    await page.goto(`${UI}/admin/users/${users.alice!.id}`);
    await page.locator('dd[data-field="email"]').waitFor();
    await page.goto(`${UI}/admin/users/${users.bob!.id}`);
    await page.locator('dd[data-field="name"]').waitFor();
    assert.equal(await page.locator('dd[data-field="email"]').count(), 0);
    await context.close();
  });

  it("checks a create form with the Zod schema before any request, then creates and edits", async () => {
    const { context, page } = await as("alice");
    let posts = 0;
    page.on("request", (r) => {
      if (r.method() === "POST" && r.url().startsWith(`${API}/api/posts`)) posts++;
    });
    await page.goto(`${UI}/admin/posts/new`);
    await page.getByLabel(/^Title/).fill("A new post");
    await page.getByLabel(/^Slug/).fill("Not A Slug!");
    await page.getByLabel(/^Author id/).fill(String(users.alice!.id));
    await page.getByRole("button", { name: "Create" }).click();
    await page.locator("#error-slug").waitFor();
    assert.match((await page.locator("#error-slug").textContent()) ?? "", /must match/);
    assert.equal(posts, 0, "no request for an invalid form");
    await accessible(page, "form page");
    await shot(page, "create");
    await page.getByLabel(/^Slug/).fill(`a-new-post-${run}`);
    await page.getByRole("button", { name: "Create" }).click();
    await page.waitForURL(/\/admin\/posts\/\d+$/);
    assert.equal(posts, 1);
    const id = Number(page.url().split("/").pop());
    assert.equal(await page.locator('dd[data-field="title"]').textContent(), "A new post");
    // Edit: the server's answer is the authority.
    await page.getByRole("link", { name: "Edit" }).click();
    await page.getByLabel(/^Title/).fill("An edited post");
    await page.getByRole("button", { name: "Save" }).click();
    await page.waitForURL(new RegExp(`/admin/posts/${id}$`));
    await page.locator('dd[data-field="title"]').getByText("An edited post").waitFor();
    assert.equal((await api("GET", `/api/posts/${id}`, users.alice!.token)).body.title, "An edited post");
    // What only the server can know (a slug that is taken) comes back as its problem.
    await page.goto(`${UI}/admin/posts/new`);
    await page.getByLabel(/^Title/).fill("Duplicate slug");
    await page.getByLabel(/^Slug/).fill(`a-new-post-${run}`);
    await page.getByLabel(/^Author id/).fill(String(users.alice!.id));
    await page.getByRole("button", { name: "Create" }).click();
    await page.locator("form p[role=alert]").waitFor();
    assert.match((await page.locator("form p[role=alert]").textContent()) ?? "", /^409 Conflict/);
    await context.close();
  });

  it("offers only what the policies allow, asking the API for the caller's permissions", async () => {
    const alicePost = (await api("GET", "/api/posts?take=1&sort=id&filter[published][equals]=true", users.alice!.token)).body.data as Json[];
    const postId = alicePost[0]!.id as number;
    const headers = async (page: Page) => (await page.locator("thead th").allTextContents()).map((t) => t.replace(/[↑↓]/g, "").trim());
    // Another user: reads Alice's published post, is offered neither Edit nor Delete.
    {
      const { context, page } = await as("bob");
      await page.goto(`${UI}/admin/posts/${postId}`);
      await page.locator('dd[data-field="title"]').waitFor();
      await page.waitForResponse((r) => r.url().endsWith(`/api/posts/${postId}/permissions`)).catch(() => undefined);
      await page.waitForLoadState("networkidle");
      assert.equal(await page.getByRole("link", { name: "Edit" }).count(), 0, "no Edit for another user's post");
      assert.equal(await page.getByRole("button", { name: "Delete" }).count(), 0, "no Delete for another user's post");
      await page.goto(`${UI}/admin/posts/${postId}/edit`);
      await page.getByText("You may not edit this post.").waitFor();
      await context.close();
    }
    // The author: Edit and Delete on her own post; no Review note column (editors only).
    {
      const { context, page } = await as("alice");
      await page.goto(`${UI}/admin/posts/${postId}`);
      await page.getByRole("link", { name: "Edit" }).waitFor();
      await page.getByRole("button", { name: "Delete" }).waitFor();
      await page.goto(`${UI}/admin/posts?sort=id`);
      await page.getByLabel("Select all rows").waitFor();
      assert.equal((await headers(page)).includes("Review note"), false);
      // Users: only admins create or delete them: no New button, no selection column.
      await page.goto(`${UI}/admin/users`);
      await page.getByTestId("total").waitFor();
      await page.waitForLoadState("networkidle");
      assert.equal(await page.getByRole("link", { name: "New user" }).count(), 0);
      assert.equal(await page.getByLabel("Select all rows").count(), 0);
      await page.goto(`${UI}/admin/users/new`);
      await page.getByText("You may not create user rows.").waitFor();
      await context.close();
    }
    // An editor sees the Review note column; an admin is offered everything.
    {
      const { context, page } = await as("editor");
      await page.goto(`${UI}/admin/posts?sort=id`);
      await page.getByTestId("total").waitFor();
      await page.locator("thead th", { hasText: "Review note" }).waitFor();
      await context.close();
    }
    {
      users.admin = { id: 1_000_000, token: admin };
      const { context, page } = await as("admin");
      await page.goto(`${UI}/admin/users`);
      await page.getByRole("link", { name: "New user" }).waitFor();
      await page.getByLabel("Select all rows").waitFor();
      await page.goto(`${UI}/admin/posts/${postId}`);
      await page.getByRole("button", { name: "Delete" }).waitFor();
      await page.locator('dd[data-field="reviewNote"]').waitFor();
      await context.close();
    }
  });

  it("the API stays the authority: the UI's requests, tampered with, are refused (403, 404)", async () => {
    const { context, page } = await as("alice");
    // Alice edits herself: her role is read-only in the form (@writable: admins only).
    await page.goto(`${UI}/admin/users/${users.alice!.id}/edit`);
    await page.getByLabel(/^Name/).waitFor();
    assert.equal(await page.getByLabel(/^Role/).isDisabled(), true, "role is read-only for Alice");
    assert.equal(await page.getByLabel(/^Email/).isEditable(), true);
    // The request the form sends is rewritten on its way to set the role anyway.
    await page.route(`${API}/api/users/${users.alice!.id}`, async (route) => {
      if (route.request().method() !== "PATCH") return route.continue();
      const body = { ...(route.request().postDataJSON() as Json), role: "ADMIN" };
      await route.continue({ postData: JSON.stringify(body) });
    });
    await page.getByLabel(/^Name/).fill("Alice the admin?");
    await page.getByRole("button", { name: "Save" }).click();
    await page.locator("form p[role=alert]").waitFor();
    assert.match((await page.locator("form p[role=alert]").textContent()) ?? "", /^403 Forbidden/);
    const me = (await api("GET", `/api/users/${users.alice!.id}`, admin)).body;
    assert.deepEqual([me.role, me.name], ["USER", "alice"], "nothing was written");
    // A delete of her own post, redirected to Bob's draft: that row does not exist for her.
    const bobsDraft = await post("bob", "Bob second draft");
    const mine = await post("alice", "Alice deletable");
    await page.route(`${API}/api/posts/${mine}`, (route) =>
      route.request().method() === "DELETE" ? route.continue({ url: `${API}/api/posts/${bobsDraft}` }) : route.continue(),
    );
    await page.goto(`${UI}/admin/posts/${mine}`);
    page.once("dialog", (d) => void d.accept());
    await page.getByRole("button", { name: "Delete" }).click();
    await page.locator("p[role=alert]").waitFor();
    assert.match((await page.locator("p[role=alert]").textContent()) ?? "", /^404 Not Found/);
    assert.equal((await api("GET", `/api/posts/${bobsDraft}`, users.bob!.token)).status, 200, "Bob's draft is still there");
    await context.close();
  });

  it("picks a relation by searching the target model", async () => {
    const { context, page } = await as("alice");
    await page.goto(`${UI}/admin/posts/new`);
    // The datalist of the Author id input is fed by the users list, filtered by name.
    const values = () => page.locator("#options-authorId option").evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    await page.waitForFunction(() => document.querySelectorAll("#options-authorId option").length > 0);
    assert.ok((await values()).length >= 3, "before the search: the first users");
    await page.getByLabel("Search user by name").fill("bob");
    await page.waitForFunction(() => document.querySelectorAll("#options-authorId option").length === 1);
    assert.deepEqual(await values(), [String(users.bob!.id)], "only the users whose name contains bob");
    await page.getByLabel(/^Author id/).fill(String(users.bob!.id));
    await context.close();
  });

  it("works from the keyboard and in dark mode", async () => {
    const { context, page } = await as(null, "dark");
    await page.goto(`${UI}/admin/sign-in`);
    assert.equal(await page.evaluate(() => document.documentElement.classList.contains("dark")), true, "follows the system's dark mode");
    // Tab to the token field (labels and focus order), type, Tab to the button, press Enter.
    let focused = "";
    for (let i = 0; i < 20 && focused !== "Token or key"; i++) {
      await page.keyboard.press("Tab");
      focused = await page.evaluate(() => (document.activeElement as HTMLElement | null)?.labels?.[0]?.textContent?.trim() ?? "");
    }
    assert.equal(focused, "Token or key", "the token field is reachable with Tab");
    await page.keyboard.type(users.alice!.token);
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), "Sign in");
    await page.keyboard.press("Enter");
    await page.waitForURL(`${UI}/admin`);
    await page.goto(`${UI}/admin/posts?sort=id`);
    await page.getByTestId("total").waitFor();
    // Sort from the keyboard: focus the Title header's button, press Enter.
    await page.getByRole("button", { name: "Title" }).focus();
    await page.keyboard.press("Enter");
    await page.waitForURL(/sort=title/);
    await accessible(page, "list page, dark");
    await shot(page, "list-dark");
    await context.close();
  });

  it("bulk-deletes the selected rows", async () => {
    const a = await post("alice", "Doomed one");
    const b = await post("alice", "Doomed two");
    const { context, page } = await as("alice");
    await page.goto(`${UI}/admin/posts?f.title.startsWith=Doomed`);
    await page.getByTestId("total").getByText("2 rows").waitFor();
    await page.getByLabel("Select all rows").check();
    await page.getByRole("button", { name: "Delete 2 selected" }).click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Delete" }).click();
    await page.getByText("No rows match.").waitFor();
    for (const id of [a, b]) assert.equal((await api("GET", `/api/posts/${id}`, users.alice!.token)).status, 404);
    await context.close();
  });

  it("shows a row created elsewhere on an open list without a reload (@@realtime)", async () => {
    const { context, page } = await as("alice");
    await page.goto(`${UI}/admin/posts?f.title.startsWith=Live`);
    await page.getByText("No rows match.").waitFor();
    await page.waitForTimeout(500); // the subscription is made after hydration
    await post("alice", "Live arrival");
    await page.getByRole("cell", { name: "Live arrival" }).waitFor({ timeout: 10_000 });
    await context.close();
  });

  // Last: it adds a post to Alice's, which the lists above count.
  it("uploads a post's cover from its page and shows it; a reader sees it without the upload (storage plugin)", async () => {
    const id = await post("alice", "Alice cover post", { published: true });
    const { context, page } = await as("alice");
    await page.goto(`${UI}/admin/posts/${id}`);
    // A 1×1 PNG, sent by the browser to the storage server with the URL the API signed.
    const png = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");
    await page.getByLabel("Upload a file").setInputFiles({ name: "../../etc/cover.png", mimeType: "image/png", buffer: png });
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('[data-field="cover"] img');
      return img !== null && img.complete && img.naturalWidth === 1;
    });
    const stored = (await api("GET", `/api/posts/${id}`, users.alice!.token)).body.cover;
    assert.match(String(stored), new RegExp(`^posts/${id}/cover/[0-9a-f-]{36}$`), "the server's key, not the file's name");
    await accessible(page, "a post with its cover");
    await shot(page, "post-cover");
    // A type the field does not take: the API refuses to sign, the page says so, the cover stays.
    await page.getByLabel("Replace the file").setInputFiles({ name: "page.html", mimeType: "text/html", buffer: Buffer.from("<p>hi</p>") });
    await page.locator('[data-field="cover"] [role=alert]').waitFor();
    assert.equal((await api("GET", `/api/posts/${id}`, users.alice!.token)).body.cover, stored);
    await context.close();
    // Bob may read Alice's published post and its cover, not change it: no upload is offered.
    const bob = await as("bob");
    await bob.page.goto(`${UI}/admin/posts/${id}`);
    await bob.page.locator('[data-field="cover"] img').waitFor();
    assert.equal(await bob.page.locator('[data-field="cover"] input[type=file]').count(), 0);
    await bob.context.close();
  });
});
