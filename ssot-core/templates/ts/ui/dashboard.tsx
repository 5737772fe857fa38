import { Link } from "./_ui/link.js";
import { MODELS } from "./_ui/meta.js";

export default function Dashboard() {
  return (
    <div>
      <h1 className="mb-6 text-2xl font-semibold">Models</h1>
      <ul className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
        {Object.values(MODELS).map((m) => (
          <li key={m.name} className="rounded border border-zinc-200 p-4 dark:border-zinc-800">
            <Link href={`/admin/${m.path}`} className="font-medium underline">
              {m.label}
            </Link>
            {m.doc === null ? null : (
              <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">{m.doc}</p>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
