"use client";

// A model's list: server-side sorting, filters and cursor pages kept in the URL, a column picker,
// row selection with bulk delete, CSV export of every row of the current filter, live rows.
import {
  columnVisibilityFeature,
  rowSelectionFeature,
  rowSortingFeature,
  tableFeatures,
  useTable,
  type ColumnDef,
  type RowSelectionState,
  type SortingState,
  type Updater,
} from "@tanstack/react-table";
import { Link } from "./link.js";
import { usePathname, useRouter, useSearchParams } from "next/navigation.js";
import { AlertDialog, DropdownMenu } from "radix-ui";
import { useMemo, useState, type FormEvent } from "react";
import { useDataClient } from "../../../src/hooks/index.js";
import {
  idOf,
  idSegments,
  linkHref,
  listParams,
  listQuery,
  PAGE_SIZES,
  rowTitle,
  parseListState,
  type FieldMeta,
  type ListState,
  type Row,
} from "./meta.js";
import { clientFor, type AdminModel } from "./model.js";
import { button, input, Problem } from "./styles.js";
import { csvLine, formatValue } from "./values.js";

const features = tableFeatures({ rowSortingFeature, rowSelectionFeature, columnVisibilityFeature });

type Column = ColumnDef<typeof features, Row>;

/** The checkbox column of rows to delete (only where the caller may delete some rows). */
const selectColumn: Column = {
  id: "_select",
  enableSorting: false,
  enableHiding: false,
  header: ({ table }) => (
    <input
      type="checkbox"
      aria-label="Select all rows"
      checked={table.getIsAllRowsSelected()}
      onChange={() => table.toggleAllRowsSelected()}
    />
  ),
  cell: ({ row }) => (
    <input
      type="checkbox"
      aria-label={`Select row ${row.id}`}
      checked={row.getIsSelected()}
      onChange={() => row.toggleSelected()}
    />
  ),
};

function apply<T>(updater: Updater<T>, old: T): T {
  return typeof updater === "function" ? (updater as (old: T) => T)(old) : updater;
}

/** Keeps the list's state in the URL: a reload or a shared link shows the same rows. */
function useListState(model: AdminModel): [ListState, (next: ListState) => void] {
  const search = useSearchParams();
  const router = useRouter();
  const path = usePathname();
  const state = parseListState(model.meta, Object.fromEntries(search.entries()));
  return [state, (next) => router.push(`${path}${listQuery(next)}`)];
}

export function ListView(props: { model: AdminModel }) {
  const { model } = props;
  const { meta } = model;
  const [state, setState] = useListState(model);
  const params = listParams(state);
  const query = model.useList(params);
  model.useSubscription?.();
  // What the policies let the caller do with this model: no New button, no selection and no
  // column where they deny it for every row.
  const may = model.usePermissions().data;
  const deletable = model.useDelete !== null && may?.delete === true;
  const remove = model.useDelete?.() ?? null;
  const [selection, setSelection] = useState<RowSelectionState>({});
  const [failed, setFailed] = useState<string | null>(null);
  const rows = useMemo(() => query.data?.data ?? [], [query.data]);
  // A `@readable` field the caller may not read is absent from every row: no column for it.
  const shown = meta.fields.filter(
    (f) =>
      f.output &&
      may?.fields[f.name]?.read !== false &&
      (!f.masked || rows.some((r) => Object.hasOwn(r, f.name))),
  );
  const columns = useMemo<Column[]>(
    () => [
      ...(deletable ? [selectColumn] : []),
      ...shown.map((f): Column => ({
        id: f.name,
        accessorFn: (row) => row[f.name],
        header: f.label,
        enableSorting: f.filter,
        cell: ({ row }) => <Cell model={model} field={f} row={row.original} />,
      })),
    ],
    [model, deletable, shown.map((f) => f.name).join()],
  );
  const sorting: SortingState = state.orderBy.map((s) => ({
    id: s.replace(/^-/, ""),
    desc: s.startsWith("-"),
  }));
  const visibility = Object.fromEntries(state.hidden.map((h) => [h, false]));
  const table = useTable({
    features,
    columns,
    data: rows,
    getRowId: (row) => idSegments(meta, row),
    manualSorting: true,
    enableMultiSort: false,
    state: { sorting, rowSelection: selection, columnVisibility: visibility },
    onSortingChange: (u) => {
      const next = apply(u, sorting);
      setState({
        ...state,
        cursor: undefined,
        orderBy: next.map((s) => (s.desc ? `-${s.id}` : s.id)),
      });
    },
    onRowSelectionChange: (u) => setSelection((old) => apply(u, old)),
    onColumnVisibilityChange: (u) => {
      const next = apply(u, visibility);
      setState({ ...state, hidden: Object.keys(next).filter((k) => next[k] === false) });
    },
  });
  const selected = rows.filter((r) => selection[idSegments(meta, r)] === true);

  // Each row is deleted on its own; the policy of a row may refuse (a 403 or 404 from the API).
  async function deleteSelected() {
    if (remove === null) return;
    const refused: string[] = [];
    for (const row of selected) {
      try {
        await remove.mutateAsync(idOf(meta, row));
      } catch (e) {
        refused.push(`${rowTitle(meta, row)}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    setSelection({});
    setFailed(
      refused.length === 0
        ? null
        : `${refused.length} of ${selected.length} not deleted. ${refused.join("; ")}`,
    );
  }

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center gap-3">
        <h1 className="mr-auto text-2xl font-semibold">{meta.label}</h1>
        {query.data === undefined ? null : (
          <span className="text-sm text-zinc-600 dark:text-zinc-400" data-testid="total">
            {query.data.meta.total} rows
          </span>
        )}
        <ColumnPicker table={table} />
        <ExportCsv model={model} state={state} fields={shown} />
        {model.useCreate === null || may?.create !== true ? null : (
          <Link href={`/admin/${meta.path}/new`} className={button}>
            New {meta.label.toLowerCase()}
          </Link>
        )}
      </div>
      <Filters model={model} state={state} setState={setState} />
      {!deletable || selected.length === 0 ? null : (
        <BulkDelete count={selected.length} onConfirm={deleteSelected} />
      )}
      {failed === null ? null : <Problem message={failed} />}
      {query.isError ? <Problem message={query.error.message} /> : null}
      <div className="overflow-x-auto">
        <table className="w-full border-collapse text-sm">
          <thead>
            {table.getHeaderGroups().map((group) => (
              <tr key={group.id} className="border-b border-zinc-200 dark:border-zinc-800">
                {group.headers.map((header) => {
                  const sorted = header.column.getIsSorted();
                  return (
                    <th
                      key={header.id}
                      scope="col"
                      className="px-2 py-2 text-left font-medium"
                      aria-sort={
                        sorted === "asc"
                          ? "ascending"
                          : sorted === "desc"
                            ? "descending"
                            : undefined
                      }
                    >
                      {header.column.getCanSort() ? (
                        <button
                          type="button"
                          className="underline-offset-2 hover:underline"
                          onClick={header.column.getToggleSortingHandler()}
                        >
                          <table.FlexRender header={header} />
                          {sorted === "asc" ? " ▲" : sorted === "desc" ? " ▼" : ""}
                        </button>
                      ) : (
                        <table.FlexRender header={header} />
                      )}
                    </th>
                  );
                })}
              </tr>
            ))}
          </thead>
          <tbody>
            {table.getRowModel().rows.map((row) => (
              <tr key={row.id} className="border-b border-zinc-100 dark:border-zinc-900">
                {row.getVisibleCells().map((cell) => (
                  <td key={cell.id} className="max-w-xs truncate px-2 py-1.5">
                    <table.FlexRender cell={cell} />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        {query.isSuccess && rows.length === 0 ? (
          <p className="p-6 text-center text-zinc-600 dark:text-zinc-400">No rows match.</p>
        ) : null}
        {query.isPending ? <p className="p-6 text-center">Loading…</p> : null}
      </div>
      <div className="flex items-center gap-3">
        <button
          type="button"
          className={button}
          disabled={state.cursor === undefined}
          onClick={() => setState({ ...state, cursor: undefined })}
        >
          First page
        </button>
        <button
          type="button"
          className={button}
          disabled={!query.data?.meta.nextCursor}
          onClick={() => setState({ ...state, cursor: query.data?.meta.nextCursor ?? undefined })}
        >
          Next page
        </button>
        <label className="ml-auto flex items-center gap-2 text-sm">
          Rows per page
          <select
            className={input}
            value={state.take}
            onChange={(e) =>
              setState({ ...state, cursor: undefined, take: Number(e.target.value) })
            }
          >
            {PAGE_SIZES.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
      </div>
    </div>
  );
}

/** A cell: the id links to the row, a foreign key to the row it names. */
function Cell(props: { model: AdminModel; field: FieldMeta; row: Row }) {
  const { model, field, row } = props;
  const text = formatValue(field, row[field.name]);
  if (field.id && model.useOne !== null) {
    return (
      <Link className="underline" href={`/admin/${model.meta.path}/${idSegments(model.meta, row)}`}>
        {text}
      </Link>
    );
  }
  if (field.link !== null && row[field.name] !== null && row[field.name] !== undefined) {
    return (
      <Link className="underline" href={linkHref(field.link, row[field.name])}>
        {text}
      </Link>
    );
  }
  return (
    <span title={field.type === "DateTime" ? String(row[field.name] ?? "") : undefined}>
      {text}
    </span>
  );
}

function ColumnPicker(props: { table: ReturnType<typeof useTable<typeof features, Row>> }) {
  return (
    <DropdownMenu.Root>
      <DropdownMenu.Trigger className={button}>Columns</DropdownMenu.Trigger>
      <DropdownMenu.Portal>
        <DropdownMenu.Content
          align="end"
          className="z-10 min-w-40 rounded border border-zinc-200 bg-white p-1 shadow dark:border-zinc-800 dark:bg-zinc-900"
        >
          {props.table
            .getAllLeafColumns()
            .filter((c) => c.getCanHide())
            .map((c) => (
              <DropdownMenu.CheckboxItem
                key={c.id}
                checked={c.getIsVisible()}
                onCheckedChange={(v) => c.toggleVisibility(v)}
                onSelect={(e) => e.preventDefault()}
                className="flex cursor-default items-center gap-2 rounded px-2 py-1 text-sm outline-none data-[highlighted]:bg-zinc-100 dark:data-[highlighted]:bg-zinc-800"
              >
                <span className="w-4">{c.getIsVisible() ? "✓" : ""}</span>
                {c.id}
              </DropdownMenu.CheckboxItem>
            ))}
        </DropdownMenu.Content>
      </DropdownMenu.Portal>
    </DropdownMenu.Root>
  );
}

function BulkDelete(props: { count: number; onConfirm: () => Promise<void> }) {
  return (
    <AlertDialog.Root>
      <AlertDialog.Trigger className={`${button} border-red-400 text-red-700 dark:text-red-400`}>
        Delete {props.count} selected
      </AlertDialog.Trigger>
      <AlertDialog.Portal>
        <AlertDialog.Overlay className="fixed inset-0 bg-black/40" />
        <AlertDialog.Content className="fixed top-1/3 left-1/2 w-96 -translate-x-1/2 rounded bg-white p-6 shadow dark:bg-zinc-900">
          <AlertDialog.Title className="text-lg font-semibold">
            Delete {props.count} rows?
          </AlertDialog.Title>
          <AlertDialog.Description className="mt-2 text-sm">
            This cannot be undone.
          </AlertDialog.Description>
          <div className="mt-4 flex justify-end gap-2">
            <AlertDialog.Cancel className={button}>Cancel</AlertDialog.Cancel>
            <AlertDialog.Action
              className={`${button} border-red-400`}
              onClick={() => void props.onConfirm()}
            >
              Delete
            </AlertDialog.Action>
          </div>
        </AlertDialog.Content>
      </AlertDialog.Portal>
    </AlertDialog.Root>
  );
}

/** Filter inputs by field type: text contains/starts with, ranges, selects, relation ids. */
function Filters(props: { model: AdminModel; state: ListState; setState: (s: ListState) => void }) {
  const fields = props.model.meta.fields.filter((f) => f.filter && !f.list);
  if (fields.length === 0) return null;
  const current = props.state.where;
  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const data = new FormData(e.currentTarget);
    const where: ListState["where"] = {};
    for (const [key, value] of data.entries()) {
      const [field, op] = key.split(":");
      if (field === undefined || op === undefined || typeof value !== "string" || value === "")
        continue;
      if (op === "text") {
        const how = String(data.get(`${field}:how`) ?? "contains");
        (where[field] ??= {})[how] = value;
      } else if (op !== "how") {
        (where[field] ??= {})[op] = value;
      }
    }
    props.setState({ ...props.state, cursor: undefined, where });
  }
  return (
    <form onSubmit={submit} className="flex flex-wrap items-end gap-3" aria-label="Filters">
      {fields.map((f) => (
        <FilterInput key={f.name} field={f} current={current[f.name] ?? {}} />
      ))}
      <button type="submit" className={button}>
        Apply filters
      </button>
      <button
        type="button"
        className={button}
        onClick={() => props.setState({ ...props.state, cursor: undefined, where: {} })}
      >
        Clear
      </button>
    </form>
  );
}

function FilterInput(props: { field: FieldMeta; current: Record<string, string> }) {
  const { field: f, current } = props;
  if (f.kind === "enum" || f.type === "Boolean") {
    const options = f.kind === "enum" ? (f.values ?? []) : ["true", "false"];
    return (
      <div>
        <label htmlFor={`filter-${f.name}`} className="mb-1 block text-xs font-medium">
          {f.label}
        </label>
        <select
          id={`filter-${f.name}`}
          name={`${f.name}:equals`}
          defaultValue={current.equals ?? ""}
          className={input}
        >
          <option value="">any</option>
          {options.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      </div>
    );
  }
  if (f.type === "String" && f.link === null) {
    const how = current.startsWith !== undefined ? "startsWith" : "contains";
    return (
      <fieldset className="block">
        <legend className="mb-1 block text-xs font-medium">{f.label}</legend>
        <select
          name={`${f.name}:how`}
          defaultValue={how}
          aria-label={`${f.label}: how to match`}
          className={input}
        >
          <option value="contains">contains</option>
          <option value="startsWith">starts with</option>
        </select>{" "}
        <input
          name={`${f.name}:text`}
          aria-label={f.label}
          defaultValue={current[how] ?? ""}
          className={input}
        />
      </fieldset>
    );
  }
  if (f.link !== null || f.type === "String") {
    return (
      <label className="block">
        <span className="mb-1 block text-xs font-medium">{f.label} (id)</span>
        <input name={`${f.name}:equals`} defaultValue={current.equals ?? ""} className={input} />
      </label>
    );
  }
  const type = f.type === "DateTime" ? "datetime-local" : "text";
  return (
    <fieldset className="block">
      <legend className="mb-1 block text-xs font-medium">{f.label}</legend>
      <input
        type={type}
        name={`${f.name}:gte`}
        aria-label={`${f.label} from`}
        placeholder="from"
        defaultValue={current.gte ?? ""}
        className={`${input} w-32`}
      />{" "}
      <input
        type={type}
        name={`${f.name}:lte`}
        aria-label={`${f.label} to`}
        placeholder="to"
        defaultValue={current.lte ?? ""}
        className={`${input} w-32`}
      />
    </fieldset>
  );
}

/** Every row of the current filter, page by page through the API, as one CSV file. */
function ExportCsv(props: { model: AdminModel; state: ListState; fields: FieldMeta[] }) {
  const client = useDataClient();
  const [busy, setBusy] = useState(false);
  async function run() {
    setBusy(true);
    try {
      const api = clientFor(client, props.model.meta.key);
      const names = props.fields.map((f) => f.name);
      const lines = [csvLine(names)];
      let cursor: string | undefined;
      const base = listParams({ ...props.state, cursor: undefined, take: 100 });
      do {
        const page = await api.list({ ...base, cursor });
        for (const row of page.data) lines.push(csvLine(names.map((n) => row[n])));
        cursor = page.meta.nextCursor ?? undefined;
      } while (cursor !== undefined);
      const url = URL.createObjectURL(
        new Blob([lines.join("\r\n") + "\r\n"], { type: "text/csv" }),
      );
      const a = document.createElement("a");
      a.href = url;
      a.download = `${props.model.meta.path}.csv`;
      a.click();
      URL.revokeObjectURL(url);
    } finally {
      setBusy(false);
    }
  }
  return (
    <button type="button" className={button} disabled={busy} onClick={() => void run()}>
      {busy ? "Exporting…" : "Export CSV"}
    </button>
  );
}
