"use client";

import { Link } from "./link.js";
import { usePathname } from "next/navigation.js";

export function Nav(props: { links: { href: string; label: string }[] }) {
  const path = usePathname();
  return (
    <nav aria-label="Models">
      <ul className="space-y-1">
        {props.links.map((l) => {
          const current = path === l.href || path.startsWith(`${l.href}/`);
          return (
            <li key={l.href}>
              <Link
                href={l.href}
                aria-current={current ? "page" : undefined}
                className={`block rounded px-2 py-1 hover:bg-zinc-100 dark:hover:bg-zinc-800 ${current ? "bg-zinc-100 font-medium dark:bg-zinc-800" : ""}`}
              >
                {l.label}
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}

export function ThemeToggle() {
  function toggle() {
    const dark = !document.documentElement.classList.contains("dark");
    document.documentElement.classList.toggle("dark", dark);
    localStorage.setItem("theme", dark ? "dark" : "light");
  }
  return (
    <button type="button" onClick={toggle} className="underline">
      Toggle dark mode
    </button>
  );
}
