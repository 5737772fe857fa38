// What the views share: the class names of buttons and inputs, and how an error is shown.
export const button =
  "rounded border border-zinc-300 px-3 py-1.5 text-sm hover:bg-zinc-100 disabled:opacity-50 dark:border-zinc-700 dark:hover:bg-zinc-800";

export const input =
  "rounded border border-zinc-300 bg-transparent px-2 py-1 text-sm dark:border-zinc-700";

/** An error of the API (its problem's title and detail) or of the form. */
export function Problem(props: { message: string }) {
  return (
    <p role="alert" className="rounded border border-red-300 p-3 text-red-700 dark:text-red-400">
      {props.message}
    </p>
  );
}
