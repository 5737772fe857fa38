// A user's plugin, as a user writes it in the tree's src/server/custom.ts: server.sh copies it
// into the blog trees before they are built (and generates again, which must keep it).
// plugins.e2e.test.ts drives it: every hook records what it saw, `GET /plugin/audit` returns the
// record, a tag named `refused-by-hook` is refused before it is written, and a tag named
// `rolled-back-by-hook` is written, then the after-hook throws and the write is rolled back, and
// `x-changed-by-hook` is stored as `x-changed`.

import { HttpError } from "./errors.js";
import type { Caller, ServerPlugin } from "./plugin.js";

interface Entry {
  hook: string;
  model: string;
  principal: unknown;
  /** What the hook saw of the row: its id, or the input's name. */
  what: unknown;
}

export function plugins(): ServerPlugin[] {
  const audit: Entry[] = [];
  let started = false;
  // The principal's claims are the tree's own type (`[auth.claims]`): `id` is a number here.
  const principal = (auth: Caller): number | null => auth?.id ?? null;
  return [
    {
      name: "audit",
      start: () => {
        started = true;
      },
      models: {
        Tag: {
          beforeCreate: (cx, input) => {
            audit.push({
              hook: "beforeCreate",
              model: cx.model,
              principal: principal(cx.auth),
              what: input.name,
            });
            if (input.name === "refused-by-hook") {
              throw new HttpError(422, "Tags may not be called that.", [
                { path: "name", message: "refused by a hook" },
              ]);
            }
            // A hook may change the input: `x-changed-by-hook` is stored as `x-changed`.
            return { ...input, name: String(input.name).replace(/-changed-by-hook$/, "-changed") };
          },
          afterCreate: (cx, row) => {
            audit.push({
              hook: "afterCreate",
              model: cx.model,
              principal: principal(cx.auth),
              what: row.id,
            });
            if (row.name === "rolled-back-by-hook")
              throw new HttpError(409, "Rolled back by a hook.");
          },
          beforeDelete: (cx, id) => {
            audit.push({
              hook: "beforeDelete",
              model: cx.model,
              principal: principal(cx.auth),
              what: id[0],
            });
          },
        },
        "*": {
          committed: (e) => {
            audit.push({
              hook: `committed ${e.operation}`,
              model: e.model,
              principal: principal(e.auth),
              what: e.id[0],
            });
          },
        },
      },
      routes: [
        {
          method: "GET",
          path: "/plugin/audit",
          handler: async () => ({ status: 200, body: { started, audit } }),
        },
      ],
    },
  ];
}
