"use client";

// One row: every field the caller may read, formatted by type; to-one relations as links, to-many
// relations as paged lists of the target's rows under the target's own read policy.
import { useQuery } from "@tanstack/react-query";
import { Link } from "./link.js";
import { useRouter } from "next/navigation.js";
import { useState } from "react";
import { useDataClient } from "../../../src/hooks/index.js";
import {
  idSegments,
  linkHref,
  MODELS,
  rowTitle,
  type FieldMeta,
  type RelationMeta,
  type Row,
} from "./meta.js";
import { clientFor, useRecord, type AdminModel } from "./model.js";
import { button, Problem } from "./styles.js";
import { formatValue } from "./values.js";
import { FIELD_WIDGETS } from "./widgets.js";

export function DetailView(props: { model: AdminModel; id: string[] }) {
  const { model } = props;
  const { meta } = model;
  const { id, query } = useRecord(model, props.id);
  // Edit and Delete are offered only where the row's policies allow them.
  const may = model.usePermissions(id).data;
  model.useSubscription?.();
  const remove = model.useDelete?.() ?? null;
  const router = useRouter();
  if (query.isPending) return <p>Loading…</p>;
  if (query.isError) return <Problem message={query.error.message} />;
  const row = query.data;
  const fields = meta.fields.filter((f) => f.output && Object.hasOwn(row, f.name));
  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-center gap-3">
        <h1 className="mr-auto text-2xl font-semibold">
          {meta.label}: {rowTitle(meta, row)}
        </h1>
        <Link href={`/admin/${meta.path}`} className={button}>
          Back to list
        </Link>
        {model.useUpdate === null || may?.update !== true ? null : (
          <Link href={`/admin/${meta.path}/${idSegments(meta, row)}/edit`} className={button}>
            Edit
          </Link>
        )}
        {remove === null || may?.delete !== true ? null : (
          <button
            type="button"
            className={`${button} border-red-400 text-red-700 dark:text-red-400`}
            onClick={() => {
              if (!window.confirm(`Delete this ${meta.label.toLowerCase()}?`)) return;
              remove.mutate(id, { onSuccess: () => router.push(`/admin/${meta.path}`) });
            }}
          >
            Delete
          </button>
        )}
      </div>
      {remove?.isError ? <Problem message={remove.error.message} /> : null}
      <dl className="grid grid-cols-[max-content_1fr] gap-x-6 gap-y-2">
        {fields.map((f) => (
          <Field
            key={f.name}
            model={meta.name}
            field={f}
            row={row}
            id={id}
            writable={may?.update === true && may.fields[f.name]?.write === true}
          />
        ))}
      </dl>
      {meta.relations
        .filter((r) => r.many && r.by !== null)
        .map((r) => (
          <SubList key={r.name} relation={r} id={row[meta.id[0]?.name ?? ""]} />
        ))}
    </div>
  );
}

function Field(props: {
  model: string;
  field: FieldMeta;
  row: Row;
  id: unknown;
  writable: boolean;
}) {
  const { field: f, row } = props;
  const value = row[f.name];
  const Widget = FIELD_WIDGETS[`${props.model}.${f.name}`];
  let shown;
  if (Widget !== undefined) {
    shown = <Widget id={props.id} value={value} writable={props.writable} />;
  } else if (f.link !== null && value !== null && value !== undefined) {
    const target = MODELS[f.link.model];
    shown =
      target === undefined ? (
        String(value)
      ) : (
        <Link className="underline" href={linkHref(f.link, value)}>
          {target.label} {String(value)}
        </Link>
      );
  } else if (f.type === "Json" || f.kind === "object") {
    shown = (
      <pre className="overflow-x-auto rounded bg-zinc-100 p-2 text-xs dark:bg-zinc-900">
        {formatValue(f, value)}
      </pre>
    );
  } else if (f.type === "Bytes" && typeof value === "string") {
    shown = (
      <a
        className="underline"
        download={`${f.name}.bin`}
        href={`data:application/octet-stream;base64,${value}`}
      >
        Download ({formatValue(f, value)})
      </a>
    );
  } else if (f.type === "DateTime" && typeof value === "string") {
    shown = <time dateTime={value}>{formatValue(f, value)}</time>;
  } else {
    shown = formatValue(f, value);
  }
  return (
    <>
      <dt className="font-medium text-zinc-600 dark:text-zinc-400">{f.label}</dt>
      <dd data-field={f.name} className="min-w-0 break-words">
        {shown}
      </dd>
    </>
  );
}

/** The rows of a to-many relation, a page at a time, as the target's read policy allows. */
function SubList(props: { relation: RelationMeta; id: unknown }) {
  const { relation } = props;
  const target = MODELS[relation.model];
  const client = useDataClient();
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const by = relation.by ?? "";
  const params = { take: 10, cursor, where: { [by]: { equals: String(props.id) } } };
  const query = useQuery({
    queryKey: [target?.key ?? relation.model, "list", params],
    queryFn: () => clientFor(client, target?.key ?? "").list(params),
    enabled: target !== undefined,
  });
  if (target === undefined) return null;
  return (
    <section aria-labelledby={`rel-${relation.name}`} className="space-y-2">
      <h2 id={`rel-${relation.name}`} className="text-lg font-semibold">
        {relation.label}
        {query.data === undefined ? null : ` (${query.data.meta.total})`}
      </h2>
      {query.isError ? <Problem message={query.error.message} /> : null}
      <ul className="list-disc pl-6">
        {(query.data?.data ?? []).map((r) => (
          <li key={idSegments(target, r)}>
            {target.view ? (
              rowTitle(target, r)
            ) : (
              <Link className="underline" href={`/admin/${target.path}/${idSegments(target, r)}`}>
                {rowTitle(target, r)}
              </Link>
            )}
          </li>
        ))}
      </ul>
      {query.data?.data.length === 0 ? (
        <p className="text-sm text-zinc-600 dark:text-zinc-400">None.</p>
      ) : null}
      <div className="flex gap-2">
        <button
          type="button"
          className={button}
          disabled={cursor === undefined}
          onClick={() => setCursor(undefined)}
        >
          First
        </button>
        <button
          type="button"
          className={button}
          disabled={!query.data?.meta.nextCursor}
          onClick={() => setCursor(query.data?.meta.nextCursor ?? undefined)}
        >
          More
        </button>
      </div>
    </section>
  );
}
