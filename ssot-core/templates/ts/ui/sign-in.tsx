import { signIn } from "./actions.js";

/** Paste a JWT or an API key (development); an auth plugin replaces this with its login. */
export function SignIn() {
  return (
    <form action={signIn} className="mx-auto max-w-xl space-y-4">
      <h1 className="text-2xl font-semibold">Sign in</h1>
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
  );
}
