import type { ReactNode } from "react";
import { MODELS } from "./_ui/meta.js";
import { Providers } from "./_ui/providers.js";
import { browserApiUrl, credentials, principalLabel } from "./_ui/session.js";
import { Nav, ThemeToggle } from "./_ui/shell.js";
import { signOut } from "./_ui/actions.js";

export const dynamic = "force-dynamic";

export default async function AdminLayout(props: { children: ReactNode }) {
  const creds = await credentials();
  const who = principalLabel(creds);
  const links = Object.values(MODELS).map((m) => ({ href: `/admin/${m.path}`, label: m.label }));
  return (
    <Providers apiUrl={browserApiUrl()} credentials={creds}>
      <div className="flex min-h-screen">
        <aside className="w-56 shrink-0 border-r border-zinc-200 p-4 dark:border-zinc-800">
          <a href="/admin" className="mb-4 block text-lg font-semibold">
            Admin
          </a>
          <Nav links={links} />
        </aside>
        <div className="flex min-w-0 flex-1 flex-col">
          <header className="flex items-center justify-end gap-3 border-b border-zinc-200 px-6 py-3 text-sm dark:border-zinc-800">
            <ThemeToggle />
            {who === null ? (
              <a className="underline" href="/admin/sign-in">
                Sign in
              </a>
            ) : (
              <form action={signOut} className="flex items-center gap-3">
                <span data-testid="principal">{who}</span>
                <button type="submit" className="underline">
                  Sign out
                </button>
              </form>
            )}
          </header>
          <main className="min-w-0 flex-1 p-6">{props.children}</main>
        </div>
      </div>
    </Providers>
  );
}
