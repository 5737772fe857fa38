// The email plugin (`[plugins.email]` in ssot.toml, `@@service(email, ...)` on models): after a
// write of a served model commits, the model's message kind (a template module of
// ./templates/, yours to edit) is rendered from the row and sent to the address in its `to`
// field. SMTP through nodemailer when SMTP_URL is set; without it (development) the message is
// printed to the log instead. A failed send is logged without the address or the message.

import nodemailer from "nodemailer";
import type { Transporter } from "nodemailer";
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

const EVENTS: Record<"create" | "update" | "delete", Event> = {
  create: "created",
  update: "updated",
  delete: "deleted",
};

export function create(options: Options): ServerPlugin {
  const url = process.env.SMTP_URL ?? "";
  const transport: Transporter | null = url === "" ? null : nodemailer.createTransport(url);
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
            "email (no SMTP_URL: printed, not sent)",
          );
          return;
        }
        try {
          await transport.sendMail({ from: options.from, to, ...message });
        } catch (err) {
          const { code, responseCode } = err as { code?: string; responseCode?: number };
          log?.error(
            { model: m.model, template: m.template, code, responseCode },
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
      if (transport === null) cx.log.warn("no SMTP_URL: emails are printed to the log, not sent");
    },
    stop: () => transport?.close(),
  };
}
