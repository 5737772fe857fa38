// The AI plugin (`@@service(ai, …)` on a model, `[plugins.ai]` in ssot.toml): routes that hand a
// row to a language model — `POST /api/<models>/:id/ai/<name>` answers with the model's text
// (`chat`) or the row's embedding (`embedding`).
//
// The row is the one the caller may read, as the API sends it: the read policy decides whether it
// exists for them (404 otherwise), and a field they may not read (`@readable`) is not in it, so it
// never reaches the prompt. Calls count against a per-caller limit of their own
// (`requests_per_minute`). Neither the prompt, the answer nor the key is ever logged; a provider's
// failure is logged with its status and code, and answered 502. The provider is
// ./ai_provider.ts: any OpenAI-compatible API by default, yours to replace.

import { models } from "../../policies/index.js";
import type { ModelSpec } from "../../policies/index.js";
import { Authenticator } from "../auth.js";
import type { Binding } from "../engine.js";
import { lazyInputs, parseId } from "../engine.js";
import type { FieldError } from "../errors.js";
import { HttpError } from "../errors.js";
import type { ApiRequest, ApiResponse, Services } from "../http.js";
import type { Logger } from "../logger.js";
import type { PluginRoute, ServerPlugin } from "../plugin.js";
import { provider } from "./ai_provider.js";

export interface ChatMessage {
  role: "system" | "user";
  content: string;
}

/** What the plugin needs of a provider: ./ai_provider.ts makes one. */
export interface Provider {
  /** The assistant's answer to `messages`. */
  chat(request: { model: string; messages: ChatMessage[] }): Promise<string>;
  /** The embedding of `input`. */
  embed(request: { model: string; input: string }): Promise<number[]>;
}

/** One `@@service(ai, …)`. */
export interface Task {
  model: string;
  /** The stem of the model's validator module (`post`). */
  stem: string;
  /** The route's last segment and the SDK's name (`summary`). */
  name: string;
  task: "chat" | "embedding";
  /** The fields put in the prompt, in this order (those the caller may read). */
  fields: string[];
  /** The system message of a chat. */
  instructions: string;
}

export interface Options {
  /** `[plugins.ai] model` and `embedding_model`. */
  chatModel: string;
  embeddingModel: string;
  /** The longest `input` a caller may add to a chat. */
  maxInputChars: number;
  /** Calls per caller and minute, per task. */
  requestsPerMinute: number;
  tasks: Task[];
}

/** A field's value as prompt text. */
function text(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** The row's readable fields of `fields`, one `name: value` line each. */
export function document(row: Record<string, unknown>, fields: string[]): string {
  return fields
    .filter((f) => row[f] !== undefined && row[f] !== null)
    .map((f) => `${f}: ${text(row[f])}`)
    .join("\n");
}

/**
 * The request's body: a chat takes `{ input? }`, the caller's own words after the row (at most
 * `max` characters); an embedding takes nothing.
 */
function requestInput(body: unknown, t: Task, max: number): string | undefined {
  const b = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const errors: FieldError[] = [];
  for (const [key, value] of Object.entries(b)) {
    if (key !== "input" || t.task !== "chat") {
      errors.push({ path: key, message: "is not a field of this request" });
    } else if (typeof value !== "string" || value.length > max) {
      errors.push({ path: "input", message: `must be a text of at most ${max} characters` });
    }
  }
  if (errors.length > 0) throw new HttpError(400, "The request is not valid.", errors);
  return typeof b.input === "string" && b.input.trim() !== "" ? b.input : undefined;
}

export function create(options: Options): ServerPlugin {
  const ai = provider();
  let log: Logger | null = null;
  const routes: PluginRoute[] = [];
  for (const t of options.tasks) {
    const spec = models[t.model];
    if (spec === undefined) throw new Error(`ai: no model ${t.model}`);
    const binding: Binding = { spec, inputs: lazyInputs(t.stem) };
    // The task's own rate limit: a name no model has, the caller's key as the API counts it.
    const limit = {
      ...spec,
      name: `ai:${t.model}:${t.name}`,
      rateLimit: { limit: options.requestsPerMinute, windowSeconds: 60 },
    } satisfies ModelSpec;
    routes.push({
      method: "POST",
      path: `/api/${spec.path}/${spec.id.map((k) => `:${k}`).join("/")}/ai/${t.name}`,
      handler: async (s: Services, req: ApiRequest): Promise<ApiResponse> => {
        const auth = await s.auth.authenticate(req.headers, spec.auth);
        const principal = Authenticator.describe(auth);
        await s.rateLimits.consume(
          limit,
          principal !== undefined ? `principal:${principal}` : `ip:${req.ip}`,
        );
        const input = requestInput(req.body, t, options.maxInputChars);
        const id = parseId(
          spec,
          spec.id.map((k) => req.params[k] ?? ""),
        );
        // The row as the caller may see it: 404 when they may not read it, without the fields
        // they may not read.
        const row = await s.engine.get(binding, id, {}, auth);
        if (ai === null) throw new HttpError(503, "No AI provider is configured on this server.");
        const record = document(row, t.fields);
        try {
          if (t.task === "embedding") {
            const embedding = await ai.embed({ model: options.embeddingModel, input: record });
            return { status: 200, body: { embedding } };
          }
          const messages: ChatMessage[] = [
            { role: "system", content: t.instructions },
            { role: "user", content: record },
          ];
          if (input !== undefined) messages.push({ role: "user", content: input });
          const answer = await ai.chat({ model: options.chatModel, messages });
          return { status: 200, body: { text: answer } };
        } catch (err) {
          const { status, code, name } = err as { status?: number; code?: string; name?: string };
          log?.error(
            { model: t.model, task: t.name, status, code, error: name },
            "ai: the provider failed",
          );
          throw new HttpError(502, "The AI provider did not answer.");
        }
      },
    });
  }
  return {
    name: "ai",
    routes,
    start: (cx) => {
      log = cx.log;
      if (ai === null) cx.log.warn("ai: no AI_API_KEY or AI_BASE_URL: the AI routes answer 503");
    },
  };
}
