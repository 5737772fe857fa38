"use client";

// The `{{field}}` of a {{Model}} on its page of the admin UI (the storage plugin): the stored file,
// shown when it is an image, and for a caller who may write the field an upload of another one.
// The types and the size are offered as the plugin takes them; the API and the storage server
// check them again.
import { useState } from "react";
import type { {{Type}}Id } from "../../../src/contracts/{{stem}}.js";
import { use{{Type}}{{Upper}}Url, useUpload{{Type}}{{Upper}} } from "../../../src/hooks/index.js";
import { Problem } from "../../admin/_ui/styles.js";

const TYPES: string[] = [];
const MAX_BYTES = 0;

export function {{Type}}{{Upper}}Field(props: { id: unknown; value: unknown; writable: boolean }) {
  const id = props.id as {{Type}}Id;
  const upload = useUpload{{Type}}{{Upper}}();
  const [tooLarge, setTooLarge] = useState(false);
  const stored = props.value !== null && props.value !== undefined;
  return (
    <div className="space-y-2">
      {stored ? <Stored id={id} /> : <span>None</span>}
      {props.writable ? (
        <label className="block">
          <span className="mb-1 block text-sm">
            {stored ? "Replace the file" : "Upload a file"}
          </span>
          <input
            type="file"
            accept={TYPES.join(",")}
            disabled={upload.isPending}
            className="text-sm"
            onChange={(e) => {
              const file = e.target.files?.[0];
              e.target.value = "";
              if (file === undefined) return;
              setTooLarge(file.size > MAX_BYTES);
              if (file.size <= MAX_BYTES) upload.mutate({ id, file });
            }}
          />
        </label>
      ) : null}
      {upload.isPending ? <p>Uploading…</p> : null}
      {tooLarge ? (
        <Problem message={`The file is larger than ${String(MAX_BYTES / 1048576)} MB.`} />
      ) : null}
      {upload.isError ? <Problem message={upload.error.message} /> : null}
    </div>
  );
}

/** The stored file through a signed download URL: an image is shown, anything else linked. */
function Stored(props: { id: {{Type}}Id }) {
  const url = use{{Type}}{{Upper}}Url(props.id);
  if (url.isPending) return <span>Loading…</span>;
  if (url.isError) return <Problem message={url.error.message} />;
  return TYPES.length > 0 && TYPES.every((t) => t.startsWith("image/")) ? (
    <a href={url.data.url}>
      <img
        src={url.data.url}
        alt="{{label}}"
        className="max-h-48 rounded border border-zinc-300 dark:border-zinc-700"
      />
    </a>
  ) : (
    <a className="underline" href={url.data.url}>
      Download
    </a>
  );
}
