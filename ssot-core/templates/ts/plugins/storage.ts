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

import { randomUUID } from "node:crypto";
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
  const oldNode = nodeTooOld();
  const client = s3();
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
        await client.send(new DeleteObjectCommand({ Bucket: f.bucket, Key: key }));
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
        const post = await createPresignedPost(client, {
          Bucket: f.bucket,
          Key: key,
          Conditions: [
            ["content-length-range", 1, f.maxBytes],
            ["eq", "$Content-Type", contentType],
          ],
          Fields: { "Content-Type": contentType },
          Expires: options.expirySeconds,
        });
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
        const url = await getSignedUrl(
          client,
          new GetObjectCommand({ Bucket: f.bucket, Key: key }),
          { expiresIn: options.expirySeconds },
        );
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
          try {
            await client.send(new HeadObjectCommand({ Bucket: f.bucket, Key: key }));
          } catch (err) {
            if (isNotFound(err)) return refuse("was not uploaded");
            throw err;
          }
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
    start: (cx) => {
      log = cx.log;
      if (oldNode)
        cx.log.warn(
          { node: process.version },
          "storage: the AWS SDK's releases from 2027 need Node 22; this one still runs on Node 20",
        );
    },
    stop: () => client.destroy(),
  };
}
