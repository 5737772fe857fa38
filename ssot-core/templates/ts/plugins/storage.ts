// The storage plugin (`@@service(storage, …)` on a model): the files of a model's rows in an
// S3-compatible bucket, uploaded and downloaded by the browser directly with URLs this server
// signs.
//
// Who may do what is the API's own rules: an upload URL goes to a caller who may write the field
// of the row (the model's update rule and the field's `@writable`), a download URL to a caller who
// may read the row and the field. The object's key is made here (`<path>/<id>/<field>/<uuid>`),
// never from the client's file name, and the field accepts only a key of its own row that exists
// in the bucket. The size and content-type limits are conditions of the signed POST policy: the
// storage server itself refuses an object that breaks them.
//
// STORAGE_DIR set (development): a local-disk driver instead of S3 — the files under that folder,
// served by a small HTTP server of this process (STORAGE_PORT, default 9009, on 127.0.0.1) that
// takes the same signed form uploads, with the same limits, and serves signed downloads.

import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { dirname, join, resolve, sep } from "node:path";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { createPresignedPost } from "@aws-sdk/s3-presigned-post";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { models } from "../../policies/index.js";
import type { Binding } from "../engine.js";
import { lazyInputs, parseId } from "../engine.js";
import type { FieldError } from "../errors.js";
import { HttpError } from "../errors.js";
import type { ApiRequest, ApiResponse, Services } from "../http.js";
import type { Logger } from "../logger.js";
import type { ModelHooks, PluginRoute, ServerPlugin } from "../plugin.js";

/** One model's files. */
export interface FileSpec {
  model: string;
  /** The stem of the model's validator module (`post`), for its input schemas. */
  stem: string;
  /** The `String?` field that holds the object's key. */
  field: string;
  bucket: string;
  maxBytes: number;
  /** Accepted content types; empty: any. */
  types: string[];
}

export interface Options {
  /** How long an upload or download URL is valid. */
  expirySeconds: number;
  files: FileSpec[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The S3 client of S3_ENDPOINT, S3_REGION and S3_FORCE_PATH_STYLE (credentials: the AWS SDK's chain). */
function s3(): S3Client {
  const endpoint = process.env.S3_ENDPOINT ?? "";
  return new S3Client({
    region: process.env.S3_REGION || "us-east-1",
    ...(endpoint !== "" ? { endpoint } : {}),
    forcePathStyle: process.env.S3_FORCE_PATH_STYLE === "true",
    // Checksums only where S3 requires them: other S3-compatible servers do not all take the
    // newer ones.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === "NotFound" || e.name === "NoSuchKey" || e.$metadata?.httpStatusCode === 404;
}

/** What the upload route accepts: `{ contentType, size? }`. */
function uploadInput(body: unknown, f: FileSpec): { contentType: string } {
  const errors: FieldError[] = [];
  const b = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const { contentType, size } = b;
  if (typeof contentType !== "string" || !/^[\w!#$&^.+-]+\/[\w!#$&^.+-]+$/.test(contentType)) {
    errors.push({ path: "contentType", message: "must be a content type like image/png" });
  } else if (f.types.length > 0 && !f.types.includes(contentType)) {
    errors.push({ path: "contentType", message: `must be one of ${f.types.join(", ")}` });
  }
  if (
    size !== undefined &&
    (typeof size !== "number" || !Number.isInteger(size) || size < 1 || size > f.maxBytes)
  ) {
    errors.push({ path: "size", message: `must be from 1 to ${f.maxBytes} bytes` });
  }
  for (const key of Object.keys(b)) {
    if (key !== "contentType" && key !== "size")
      errors.push({ path: key, message: "is not a field of an upload" });
  }
  if (errors.length > 0) throw new HttpError(400, "The upload is not valid.", errors);
  return { contentType: contentType as string };
}

/** Where the files are: an S3-compatible server, or a folder (STORAGE_DIR). */
interface Store {
  /** A signed form upload of exactly `key`, of `contentType`, from 1 to `maxBytes` bytes. */
  presignedPost(
    bucket: string,
    key: string,
    contentType: string,
    maxBytes: number,
    expiresIn: number,
  ): Promise<{ url: string; fields: Record<string, string> }>;
  signedGet(bucket: string, key: string, expiresIn: number): Promise<string>;
  exists(bucket: string, key: string): Promise<boolean>;
  remove(bucket: string, key: string): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

function s3Store(): Store {
  const client = s3();
  return {
    presignedPost: (Bucket, Key, contentType, maxBytes, Expires) =>
      createPresignedPost(client, {
        Bucket,
        Key,
        Conditions: [
          ["content-length-range", 1, maxBytes],
          ["eq", "$Content-Type", contentType],
        ],
        Fields: { "Content-Type": contentType },
        Expires,
      }),
    signedGet: (Bucket, Key, expiresIn) =>
      getSignedUrl(client, new GetObjectCommand({ Bucket, Key }), { expiresIn }),
    exists: async (Bucket, Key) => {
      try {
        await client.send(new HeadObjectCommand({ Bucket, Key }));
        return true;
      } catch (err) {
        if (isNotFound(err)) return false;
        throw err;
      }
    },
    remove: async (Bucket, Key) => {
      await client.send(new DeleteObjectCommand({ Bucket, Key }));
    },
    start: () => Promise.resolve(),
    stop: () => Promise.resolve(client.destroy()),
  };
}

/**
 * The local-disk driver: `<dir>/<bucket>/<key>` and its content type beside it
 * (`<key>.type`), served on 127.0.0.1:`port`. Uploads are forms like S3's presigned POST (the
 * signed fields, then the file) whose signature (HMAC-SHA256 with a key of this process) covers
 * the bucket, the key, the content type, the size limit and the expiry; downloads are signed the
 * same way. Any other request is refused. A form is read into memory up to `maxBytes` (the largest
 * file any field takes) and 64 KiB for the rest of it. Browsers of the API's CORS_ORIGINS may read
 * its answers (an upload from the admin UI).
 */
function localStore(dir: string, port: number, maxBytes: number): Store {
  const secret = randomBytes(32);
  const base = `http://127.0.0.1:${port}`;
  const sign = (...parts: (string | number)[]) =>
    createHmac("sha256", secret).update(parts.join("\n")).digest("base64url");
  const same = (a: string, b: string) =>
    a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
  const root = resolve(dir);
  const origins = (process.env.CORS_ORIGINS ?? "")
    .split(",")
    .map((o) => o.trim())
    .filter((o) => o !== "");
  /** The file of a key; null for a path that would leave the bucket. */
  const fileOf = (bucket: string, key: string): string | null => {
    const file = resolve(root, bucket, key);
    return /^[a-z0-9.-]+$/.test(bucket) && file.startsWith(join(root, bucket) + sep) ? file : null;
  };
  const fail = (res: ServerResponse, status: number, code: string) => {
    res.writeHead(status, { "content-type": "application/xml" });
    res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code></Error>`);
  };
  let server: Server | null = null;

  const upload = async (bucket: string, req: IncomingMessage) => {
    // Read at most the largest allowed file and the form around it.
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > maxBytes + 65536) throw Object.assign(new Error(), { code: "EntityTooLarge" });
      chunks.push(c);
    }
    const headers = { "content-type": req.headers["content-type"] ?? "" };
    const form = await new Response(Buffer.concat(chunks), { headers }).formData();
    const field = (name: string) => {
      const v = form.get(name);
      return typeof v === "string" ? v : "";
    };
    const [key, type, max, expires] = [
      field("key"),
      field("Content-Type"),
      field("x-max-bytes"),
      field("x-expires"),
    ];
    const file = form.get("file");
    if (!same(field("x-signature"), sign("POST", bucket, key, type, max, expires))) return 403;
    if (Number(expires) < Date.now() / 1000) return 403;
    if (typeof file === "string" || file === null) return 400;
    if (file.size < 1 || file.size > Number(max)) return "EntityTooLarge";
    const path = fileOf(bucket, key);
    if (path === null) return 403;
    await mkdir(dirname(path), { recursive: true });
    await writeFile(`${path}.upload`, Buffer.from(await file.arrayBuffer()));
    await writeFile(`${path}.type`, type);
    await rename(`${path}.upload`, path);
    return 204;
  };

  return {
    presignedPost: (bucket, key, contentType, maxBytes, expiresIn) => {
      const expires = Math.floor(Date.now() / 1000) + expiresIn;
      const signature = sign("POST", bucket, key, contentType, maxBytes, expires);
      return Promise.resolve({
        url: `${base}/${bucket}`,
        fields: {
          key,
          "Content-Type": contentType,
          "x-max-bytes": String(maxBytes),
          "x-expires": String(expires),
          "x-signature": signature,
        },
      });
    },
    signedGet: (bucket, key, expiresIn) => {
      const expires = Math.floor(Date.now() / 1000) + expiresIn;
      const q = new URLSearchParams({
        expires: String(expires),
        signature: sign("GET", bucket, key, expires),
      });
      const path = key.split("/").map(encodeURIComponent).join("/");
      return Promise.resolve(`${base}/${bucket}/${path}?${q.toString()}`);
    },
    exists: async (bucket, key) => {
      const path = fileOf(bucket, key);
      return (
        path !== null &&
        (await stat(path).then(
          (s) => s.isFile(),
          () => false,
        ))
      );
    },
    remove: async (bucket, key) => {
      const path = fileOf(bucket, key);
      if (path !== null)
        await Promise.all([rm(path, { force: true }), rm(`${path}.type`, { force: true })]);
    },
    start: async () => {
      await mkdir(root, { recursive: true });
      server = createServer((req, res) => {
        const url = new URL(req.url ?? "/", base);
        // A browser uploads from the UI's origin: the origins of CORS_ORIGINS may read the answer.
        const origin = req.headers.origin;
        if (origin !== undefined && (origins.includes(origin) || origins.includes("*"))) {
          res.setHeader("access-control-allow-origin", origin);
          res.setHeader("vary", "origin");
          if (req.method === "OPTIONS") {
            res.setHeader("access-control-allow-methods", "GET, POST");
            return void res.writeHead(204).end();
          }
        }
        const [bucket = "", ...rest] = url.pathname.slice(1).split("/");
        const run = async () => {
          // Inside `run`: a malformed escape is a refused request, not an uncaught error.
          const key = rest.map(decodeURIComponent).join("/");
          if (req.method === "POST" && rest.length === 0) {
            const result = await upload(bucket, req);
            if (result === 204) return void res.writeHead(204).end();
            return fail(
              res,
              typeof result === "number" ? result : 400,
              typeof result === "number" ? "AccessDenied" : result,
            );
          }
          if (req.method === "GET" && rest.length > 0) {
            const expires = url.searchParams.get("expires") ?? "";
            const signature = url.searchParams.get("signature") ?? "";
            const path = fileOf(bucket, key);
            if (
              !same(signature, sign("GET", bucket, key, expires)) ||
              Number(expires) < Date.now() / 1000 ||
              path === null
            ) {
              return fail(res, 403, "AccessDenied");
            }
            const body = await readFile(path).catch(() => null);
            if (body === null) return fail(res, 404, "NoSuchKey");
            const type = await readFile(`${path}.type`, "utf8").catch(
              () => "application/octet-stream",
            );
            return void res
              .writeHead(200, { "content-type": type, "x-content-type-options": "nosniff" })
              .end(body);
          }
          fail(res, 405, "MethodNotAllowed");
        };
        run().catch((err: unknown) => {
          if (res.headersSent) return;
          if (err instanceof URIError) fail(res, 400, "InvalidURI");
          else if ((err as { code?: string }).code === "EntityTooLarge") {
            fail(res, 400, "EntityTooLarge");
          } else fail(res, 500, "InternalError");
        });
      });
      const s = server;
      await new Promise<void>((ok, no) => s.once("error", no).listen(port, "127.0.0.1", ok));
    },
    stop: () => new Promise<void>((ok) => (server === null ? ok() : server.close(() => ok()))),
  };
}

/**
 * The AWS SDK prints a warning of its own to stderr on Node < 22 (its releases from 2027 need
 * Node 22): said once in the server's structured log instead, so that every line stays JSON.
 */
function nodeTooOld(): boolean {
  const major = Number(process.versions.node.split(".")[0]);
  if (major >= 22) return false;
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  return true;
}

export function create(options: Options): ServerPlugin {
  const dir = process.env.STORAGE_DIR ?? "";
  const local = dir !== "";
  // Before the S3 client exists: it reads the setting that silences its own warning.
  const oldNode = !local && nodeTooOld();
  const largest = Math.max(...options.files.map((f) => f.maxBytes));
  const store = local
    ? localStore(dir, Number(process.env.STORAGE_PORT || 9009), largest)
    : s3Store();
  let log: Logger | null = null;
  const routes: PluginRoute[] = [];
  const hooks: Record<string, ModelHooks> = {};

  for (const f of options.files) {
    const spec = models[f.model];
    if (spec === undefined) throw new Error(`storage: no model ${f.model}`);
    const binding: Binding = { spec, inputs: lazyInputs(f.stem) };
    const one = `/api/${spec.path}/${spec.id.map((k) => `:${k}`).join("/")}`;
    /** Every key of a row starts with this. */
    const prefix = (id: unknown[]): string =>
      `${spec.path}/${id.map((v) => encodeURIComponent(String(v))).join("/")}/${f.field}/`;
    const ownKey = (id: unknown[], key: unknown): key is string =>
      typeof key === "string" &&
      key.startsWith(prefix(id)) &&
      UUID.test(key.slice(prefix(id).length));
    const idOf = (req: ApiRequest): unknown[] =>
      parseId(
        spec,
        spec.id.map((k) => req.params[k] ?? ""),
      );
    const remove = async (key: string): Promise<void> => {
      try {
        await store.remove(f.bucket, key);
      } catch (err) {
        const { name } = err as { name?: string };
        log?.error({ model: f.model, field: f.field, error: name }, "storage: object not deleted");
      }
    };

    routes.push({
      method: "POST",
      path: `${one}/${f.field}/upload`,
      handler: async (s: Services, req: ApiRequest): Promise<ApiResponse> => {
        const auth = await s.auth.authenticate(req.headers, spec.auth);
        const id = idOf(req);
        // 404 for a row the caller may not read, as the API answers.
        const may = await s.engine.permissions(binding, id, auth);
        if (may.fields[f.field]?.write !== true)
          throw new HttpError(403, "You may not change the file of this row.");
        const { contentType } = uploadInput(req.body, f);
        const key = prefix(id) + randomUUID();
        const post = await store.presignedPost(
          f.bucket,
          key,
          contentType,
          f.maxBytes,
          options.expirySeconds,
        );
        const expiresAt = new Date(Date.now() + options.expirySeconds * 1000).toISOString();
        return {
          status: 201,
          body: { url: post.url, fields: post.fields, key, maxBytes: f.maxBytes, expiresAt },
        };
      },
    });
    routes.push({
      method: "GET",
      path: `${one}/${f.field}`,
      handler: async (s: Services, req: ApiRequest): Promise<ApiResponse> => {
        const auth = await s.auth.authenticate(req.headers, spec.auth);
        const id = idOf(req);
        // The row as the caller may see it: a field they may not read is not in it.
        const row = await s.engine.get(binding, id, {}, auth);
        const key = row[f.field];
        if (!ownKey(id, key)) throw new HttpError(404, "The row has no file.");
        const url = await store.signedGet(f.bucket, key, options.expirySeconds);
        const expiresAt = new Date(Date.now() + options.expirySeconds * 1000).toISOString();
        return { status: 200, body: { url, expiresAt } };
      },
    });

    /** The key a row had before an update that changes it: deleted once the update commits. */
    const replaced = new Map<string, string>();
    const refuse = (message: string): never => {
      throw new HttpError(400, "The file is not valid.", [{ path: f.field, message }]);
    };
    hooks[f.model] = {
      beforeCreate: (_cx, input) => {
        if (input[f.field] !== undefined && input[f.field] !== null)
          refuse("upload the file once the row exists");
        return undefined;
      },
      beforeUpdate: async (cx, id, input) => {
        const k = JSON.stringify(id);
        replaced.delete(k);
        if (!(f.field in input)) return undefined;
        const key = input[f.field];
        if (key !== null) {
          if (!ownKey(id, key)) return refuse("is not a key of an upload to this row");
          if (!(await store.exists(f.bucket, key))) return refuse("was not uploaded");
        }
        const where = Object.fromEntries(spec.id.map((name, i) => [name, id[i]]));
        const db = cx.db as Record<
          string,
          { findFirst(a: object): Promise<Record<string, unknown> | null> }
        >;
        const before = await db[spec.delegate]?.findFirst({ where, select: { [f.field]: true } });
        const old = before?.[f.field];
        if (typeof old === "string" && old !== key) replaced.set(k, old);
        return undefined;
      },
      committed: async (e) => {
        if (e.operation === "delete") {
          const key = e.row[f.field];
          if (ownKey(e.id, key)) await remove(key);
        } else if (e.operation === "update") {
          const k = JSON.stringify(e.id);
          const old = replaced.get(k);
          replaced.delete(k);
          if (old !== undefined && old !== e.row[f.field] && ownKey(e.id, old)) await remove(old);
        }
      },
    };
  }

  return {
    name: "storage",
    routes,
    models: hooks,
    start: async (cx) => {
      log = cx.log;
      if (oldNode)
        cx.log.warn(
          { node: process.version },
          "storage: the AWS SDK's releases from 2027 need Node 22; this one still runs on Node 20",
        );
      await store.start();
      if (local)
        cx.log.warn({ dir }, "storage: files on local disk (STORAGE_DIR), for development");
    },
    stop: () => store.stop(),
  };
}
