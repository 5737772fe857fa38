// Load benchmark of a running generated server: requests/s and latency percentiles for a list and
// a get-by-id route. Usage: node load.mjs URL TOKEN POST_ID SECONDS LABEL. Prints one JSON line.
import autocannon from "autocannon";

const [url, token, id, seconds, label] = process.argv.slice(2);
const headers = { authorization: `Bearer ${token}` };

async function run(path) {
  const r = await autocannon({ url: url + path, connections: 16, duration: Number(seconds), headers });
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${path}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { rps: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99 };
}

const list = await run("/api/posts?take=20&include=author");
const get = await run(`/api/posts/${id}`);
console.log(JSON.stringify({ label, list, get }));
