// The email plugin (`[plugins.email]` in ssot.toml, `@@service(email, ...)` on models): after a
// write of a served model commits, the model's message kind (a template module of
// ./templates/, yours to edit) is rendered from the row and sent to the address in its `to`
// field. Through Resend's HTTP API (the official `resend` package) when RESEND_API_KEY is set, or
// SMTP through nodemailer when SMTP_URL is set; with neither (development) the message is printed
// to the log instead. A failed send is logged without the address or the message.

import nodemailer from "nodemailer";
import { Resend } from "resend";
import type { Logger } from "../logger.js";
import type { Data, ModelHooks, ServerPlugin } from "../plugin.js";
import { templates } from "./templates/index.js";

export type Event = "created" | "updated" | "deleted";

export interface Message {
  subject: string;
  text: string;
  html?: string;
}

/**
 * A message kind. `row` holds every field of the written row as Prisma returns it, hidden ones
 * too: put in the message only what its recipient may read.
 */
export interface Template {
  render(row: Data, event: Event): Message;
}

export interface Options {
  /** The sender (`[plugins.email] from`). */
  from: string;
  /** What each served model sends, and when. */
  messages: { model: string; template: string; to: string; on: Event[] }[];
}

/** Where messages go: a provider that sends one message, or throws what may be logged of why not. */
interface Transport {
  name: string;
  send(mail: Message & { from: string; to: string }): Promise<void>;
  close(): void;
}

/** What a failed send may log: codes and statuses, never the address or the message. */
class SendError extends Error {
  constructor(readonly detail: Record<string, string | number | undefined>) {
    super("email not sent");
  }
}

const EVENTS: Record<"create" | "update" | "delete", Event> = {
  create: "created",
  update: "updated",
  delete: "deleted",
};

function transportFromEnv(): Transport | null {
  const apiKey = process.env.RESEND_API_KEY ?? "";
  const smtpUrl = process.env.SMTP_URL ?? "";
  if (apiKey !== "" && smtpUrl !== "") {
    throw new Error(
      "email: both RESEND_API_KEY and SMTP_URL are set; set the one that says where messages go",
    );
  }
  if (apiKey !== "") {
    const resend = new Resend(apiKey);
    return {
      name: "resend",
      send: async (mail) => {
        const { error } = await resend.emails.send(mail);
        if (error !== null) {
          throw new SendError({ name: error.name, statusCode: error.statusCode ?? undefined });
        }
      },
      close: () => undefined,
    };
  }
  if (smtpUrl !== "") {
    const smtp = nodemailer.createTransport(smtpUrl);
    return {
      name: "smtp",
      send: async (mail) => {
        try {
          await smtp.sendMail(mail);
        } catch (err) {
          const { code, responseCode } = err as { code?: string; responseCode?: number };
          throw new SendError({ code, responseCode });
        }
      },
      close: () => smtp.close(),
    };
  }
  return null;
}

export function create(options: Options): ServerPlugin {
  const transport = transportFromEnv();
  let log: Logger | null = null;
  const models: Record<string, ModelHooks> = {};
  for (const m of options.messages) {
    const template = templates[m.template];
    if (template === undefined) throw new Error(`email: no template module for ${m.template}`);
    models[m.model] = {
      committed: async (e) => {
        const event = EVENTS[e.operation];
        const to = e.row[m.to];
        if (!m.on.includes(event) || typeof to !== "string" || to === "") return;
        const message = template.render(e.row, event);
        if (transport === null) {
          log?.info(
            { email: { from: options.from, to, ...message } },
            "email (no RESEND_API_KEY or SMTP_URL: printed, not sent)",
          );
          return;
        }
        try {
          await transport.send({ from: options.from, to, ...message });
        } catch (err) {
          const detail =
            err instanceof SendError
              ? err.detail
              : { error: err instanceof Error ? err.name : "unknown" };
          log?.error(
            { model: m.model, template: m.template, via: transport.name, ...detail },
            "email not sent",
          );
        }
      },
    };
  }
  return {
    name: "email",
    models,
    start: (cx) => {
      log = cx.log;
      if (transport === null) {
        cx.log.warn("no RESEND_API_KEY or SMTP_URL: emails are printed to the log, not sent");
      }
    },
    stop: () => transport?.close(),
  };
}
