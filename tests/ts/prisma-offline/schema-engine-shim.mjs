#!/usr/bin/env node
// Stand-in for Prisma's native `schema-engine` binary (not on npm; downloaded from Prisma's binary host),
// speaking the same stdio JSON-RPC protocol, backed by @prisma/schema-engine-wasm + a driver adapter.
// Use: PRISMA_SCHEMA_ENGINE_BINARY=/path/to/schema-engine-shim.mjs npx prisma db push|migrate dev|migrate deploy|migrate diff
import fs from 'node:fs'
import readline from 'node:readline'
import { createEngineRaw, adapterFactoryForUrl, cliCommand } from './wasm-schema-engine.mjs'

const argv = process.argv.slice(2)
const datamodels = []
let datasource = null
const rest = []
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]
  if (a === '--datamodels') datamodels.push(argv[++i])
  else if (a === '--datasource') datasource = JSON.parse(argv[++i])
  else if (a === '--enabled-preview-features' || a === '--extension-types') i++
  else rest.push(a)
}
const log = (level, message, error_code) => process.stderr.write(JSON.stringify({ timestamp: new Date().toISOString(), level, fields: { message, ...(error_code ? { error_code } : {}) }, target: 'schema_engine::logger' }) + '\n')

if (rest.includes('--version') || rest.includes('-V')) {
  console.log('schema-engine-cli wasm-shim')
  process.exit(0)
}
if (rest[0] === 'cli') {
  log('INFO', 'Starting schema engine CLI (wasm shim)') // the Prisma CLI skips the first stderr line
  try {
    await cliCommand(rest[1], datasource?.url)
    process.exit(0)
  } catch (e) {
    log('ERROR', e.message, e.code)
    process.exit(1)
  }
}

const url = datasource?.url ?? process.env.DATABASE_URL
if (!url) {
  log('ERROR', 'schema-engine-shim: no datasource url (set datasource.url in prisma.config.ts)')
  process.exit(1)
}
const files = datamodels.map((p) => ({ path: p, content: fs.readFileSync(p, 'utf8') }))
let enginePromise
const engine = () => (enginePromise ??= createEngineRaw(adapterFactoryForUrl(url, datasource?.shadowDatabaseUrl), files))
const METHOD = { getDatabaseVersion: 'version' }
const SQLITE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
);`
const PG_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS _prisma_migrations (
    id                      VARCHAR(36) PRIMARY KEY NOT NULL,
    checksum                VARCHAR(64) NOT NULL,
    finished_at             TIMESTAMPTZ,
    migration_name          VARCHAR(255) NOT NULL,
    logs                    TEXT,
    rolled_back_at          TIMESTAMPTZ,
    started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    applied_steps_count     INTEGER NOT NULL DEFAULT 0
);`

const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
let pending = 0
let closed = false
const maybeExit = () => { if (closed && pending === 0) process.exit(0) }
rl.on('line', async (line) => {
  if (!line.trim()) return
  const req = JSON.parse(line)
  if (!req.method) return // a reply from the CLI to our "print" request
  pending++
  let resp
  try {
    if (req.method === 'reset' && url.startsWith('file:')) {
      // the wasm engine's SQLite reset only deletes rows; the native one recreates the file: do that
      const old = enginePromise
      enginePromise = undefined
      if (old) (await old).raw.free()
      await cliCommand('drop-database', url)
      await cliCommand('create-database', url)
      resp = { jsonrpc: '2.0', id: req.id, result: null }
    } else if (req.method === 'createDatabase') {
      await cliCommand('create-database', url)
      resp = { jsonrpc: '2.0', id: req.id, result: { databaseName: new URL(url.replace(/^file:/, 'file://')).pathname.split('/').pop() } }
    } else {
      const e = await engine()
      const m = METHOD[req.method] ?? req.method
      if (typeof e.raw[m] !== 'function') throw Object.assign(new Error(`schema-engine-shim: method ${req.method} is not supported by the wasm engine`), { code: null })
      let result
      try {
        result = await e.call(m, req.params)
      } catch (err) {
        // The wasm engine only recognises "no _prisma_migrations table" for native drivers and reports P1014 instead:
        // create the table with the engine's own DDL (on the engine's own connection) and retry once.
        if (!/_prisma_migrations/.test(String(err?.message))) throw err
        await e.call('dbExecute', { datasourceType: { tag: 'url', url }, script: url.startsWith('file:') ? SQLITE_MIGRATIONS_TABLE : PG_MIGRATIONS_TABLE })
        result = await e.call(m, req.params)
      }
      if (m === 'diff' && typeof result?.stdout === 'string') {
        // the native engine hands diff output to the CLI through a "print" request
        if (result.stdout) process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: 1_000_000 + req.id, method: 'print', params: { content: result.stdout.replace(/\n$/, '') } }) + '\n')
        delete result.stdout
      }
      resp = { jsonrpc: '2.0', id: req.id, result: result ?? null }
    }
  } catch (err) {
    const message = String(err?.message ?? err)
    log('ERROR', message)
    resp = { jsonrpc: '2.0', id: req.id, error: { code: 4466, message: 'An error happened. Check the data field for details.', data: { is_panic: /RuntimeError|unreachable/.test(message), message, error_code: err?.code ?? undefined, meta: err?.meta } } }
  }
  process.stdout.write(JSON.stringify(resp) + '\n')
  pending--
  maybeExit()
})
rl.on('close', () => { closed = true; maybeExit() })
