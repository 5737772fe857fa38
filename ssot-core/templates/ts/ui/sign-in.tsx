import { signIn } from "./actions.js";

interface Sso {
  name: string;
  href: string;
  /** The variable that configures it: the button shows when it is set. */
  env: string;
}

/** The single sign-on of an auth plugin (the `oidc` plugin's). */
const SSO: Sso | null = null;

const ERRORS: Record<string, string> = {
  unconfigured: "Single sign-on is not configured on this server.",
  expired: "The sign-in took too long or was started elsewhere: try again.",
  refused: "The identity provider did not confirm the sign-in: try again.",
  claims: "Your account lacks what this application needs to know about you: ask an administrator.",
};

/** Single sign-on when an auth plugin offers it; paste a JWT or an API key (development). */
export function SignIn({ error }: { error?: string | undefined }) {
  const message = error === undefined ? undefined : (ERRORS[error] ?? "The sign-in failed.");
  const sso = SSO !== null && (process.env[SSO.env] ?? "") !== "" ? SSO : null;
  return (
    <div className="mx-auto max-w-xl space-y-6">
      <h1 className="text-2xl font-semibold">Sign in</h1>
      {message !== undefined ? (
        <p
          role="alert"
          className="rounded border border-red-300 p-3 text-red-700 dark:text-red-300"
        >
          {message}
        </p>
      ) : null}
      {sso !== null ? (
        <a
          href={sso.href}
          className="inline-block rounded bg-zinc-900 px-4 py-2 text-white dark:bg-zinc-100 dark:text-zinc-900"
        >
          Sign in with {sso.name}
        </a>
      ) : null}
      <form action={signIn} className="space-y-4">
        {sso !== null ? <h2 className="text-lg font-medium">With a token</h2> : null}
        <fieldset className="flex gap-4">
          <legend className="mb-2 text-sm font-medium">Credential</legend>
          <label className="flex items-center gap-2">
            <input type="radio" name="kind" value="token" defaultChecked /> JWT
          </label>
          <label className="flex items-center gap-2">
            <input type="radio" name="kind" value="apiKey" /> API key
          </label>
        </fieldset>
        <label className="block">
          <span className="mb-1 block text-sm font-medium">Token or key</span>
          <textarea
            name="credential"
            rows={5}
            required
            className="w-full rounded border border-zinc-300 bg-transparent p-2 font-mono text-sm dark:border-zinc-700"
          />
        </label>
        <button
          type="submit"
          className="rounded bg-zinc-900 px-4 py-2 text-white dark:bg-zinc-100 dark:text-zinc-900"
        >
          Sign in
        </button>
      </form>
    </div>
  );
}
