// The external_writes plugin (`[plugins.external_writes]` in ssot.toml): writes that other
// programs make to the tables of `@@realtime` models — a migration, a script, a Rust service —
// reach the API's subscribers under the same policies as the API's own. A trigger on each table
// (`external-writes.sql`) reports the row's key with pg_notify; this module listens on a
// connection of its own, and the engine loads the row and publishes it like its own writes.
// With REDIS_URL one instance listens at a time (a PostgreSQL advisory lock elects it) and Redis
// fans its events out; without, every instance listens for its own subscribers. Notifications
// sent while no one listened are gone: when listening starts again, subscribers resync.

import pg from "pg";
import { outageLog } from "../logger.js";
import type { PluginContext, ServerPlugin } from "../plugin.js";

export interface Options {
  /** Create the function and the triggers at startup (`install = false`: a DBA applies the SQL). */
  install: boolean;
  /** `CREATE OR REPLACE FUNCTION ssot_changes() ...`. */
  function: string;
  /** Each `@@realtime` model's table and the trigger that reports its writes. */
  tables: {
    model: string;
    table: string;
    trigger: string;
    /** What follows the table in `trigger`: the end of the installed definition, when current. */
    call: string;
  }[];
}

const CHANNEL = "ssot_changes";
/** The advisory lock whose holder listens when instances share Redis. */
const LEADER = `SELECT pg_try_advisory_lock(hashtext('${CHANNEL}:listen')) AS leader`;
const RETRY_MS = 2000;

interface Notification {
  m: string;
  op: "insert" | "update" | "delete";
  k: unknown[] | null;
}

/** Creates the function, and the triggers that are missing or differ, in one transaction. */
async function install(url: string, options: Options): Promise<number> {
  const client = new pg.Client({ connectionString: url, application_name: "ssot" });
  await client.connect();
  let created = 0;
  try {
    await client.query("BEGIN");
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('${CHANNEL}:install'))`);
    await client.query(options.function);
    for (const t of options.tables) {
      const { rows } = await client.query<{ def: string }>(
        `SELECT pg_get_triggerdef(oid) AS def FROM pg_trigger WHERE tgname = '${CHANNEL}' AND tgrelid = to_regclass($1)`,
        [t.table],
      );
      // pg_get_triggerdef qualifies the table with its schema: compare what follows it.
      if (rows[0]?.def.endsWith(t.call) === true) continue;
      await client.query(`DROP TRIGGER IF EXISTS ${CHANNEL} ON ${t.table}`);
      await client.query(t.trigger);
      created++;
    }
    await client.query("COMMIT");
  } catch (e) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw e;
  } finally {
    await client.end();
  }
  return created;
}

export function create(options: Options): ServerPlugin {
  let stopped = false;
  let client: pg.Client | null = null;
  let timer: NodeJS.Timeout | null = null;

  return {
    name: "external_writes",
    async start(cx: PluginContext) {
      const { config, log, services } = cx;
      const url = process.env.EXTERNAL_WRITES_URL || config.databaseUrl;
      if (options.install) {
        try {
          const created = await install(url, options);
          if (created > 0) log.info({ triggers: created }, "external writes: triggers created");
        } catch (err) {
          log.error(
            { err },
            "external writes: could not create the triggers (apply external-writes.sql)",
          );
        }
      }
      const outage = outageLog(log, "external writes: listening");
      // Notifications are handled one after the other, in the order PostgreSQL sent them.
      let queue = Promise.resolve();
      const enqueue = (n: Notification) => {
        queue = queue
          .then(() => services.engine.changedOutside(n.m, n.op, n.k))
          .catch((err: unknown) => log.error({ err, model: n.m }, "external writes: delivering"));
      };
      // Listening before, or another instance was: taking over leaves a gap.
      let gap = false;
      const handle = (payload: string | undefined) => {
        try {
          enqueue(JSON.parse(payload ?? "") as Notification);
        } catch (err) {
          log.error({ err }, "external writes: a notification that does not parse");
        }
      };
      const retry = () => {
        if (stopped || timer !== null) return;
        timer = setTimeout(() => {
          timer = null;
          void listen();
        }, RETRY_MS);
        timer.unref();
      };
      const listen = async (): Promise<void> => {
        const c = new pg.Client({ connectionString: url, application_name: "ssot" });
        client = c;
        c.on("error", (err) => {
          outage.error(err);
          void c.end().catch(() => undefined);
        });
        c.on("end", () => {
          if (client === c) client = null;
          retry();
        });
        try {
          await c.connect();
          if (config.redisUrl !== null) {
            const { rows } = await c.query<{ leader: boolean }>(LEADER);
            // Another instance listens; this one asks again after a while.
            if (rows[0]?.leader !== true) {
              gap = true;
              await c.end();
              return;
            }
          }
          c.on("notification", (msg) => {
            if (msg.channel === CHANNEL) handle(msg.payload);
          });
          await c.query(`LISTEN ${CHANNEL}`);
          outage.back();
          // What was written while no one listened is not known: the subscribers refetch.
          if (gap) for (const t of options.tables) enqueue({ m: t.model, op: "update", k: null });
          gap = true;
        } catch (err) {
          outage.error(err);
          await c.end().catch(() => undefined);
        }
      };
      await listen();
    },
    async stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      await client?.end().catch(() => undefined);
    },
  };
}
