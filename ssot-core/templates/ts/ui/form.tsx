"use client";

// Create and edit forms: react-hook-form, checked by the model's generated Zod schema before any
// request and by the server after it (its field errors land on their fields). Inputs keep the
// wire format: Decimal and BigInt as exact text, DateTime as a UTC instant, Json as JSON.
import { zodResolver } from "@hookform/resolvers/zod";
import { useQuery } from "@tanstack/react-query";
import { Link } from "./link.js";
import { useRouter } from "next/navigation.js";
import { useState } from "react";
import { useForm, type FieldErrors, type Resolver, type UseFormRegister } from "react-hook-form";
import type { z } from "zod";
import { useDataClient } from "../../../src/hooks/index.js";
import { ApiError } from "../../../src/sdk/index.js";
import { idSegments, MODELS, rowTitle, type FieldMeta, type Row } from "./meta.js";
import { clientFor, useRecord, type AdminModel } from "./model.js";
import { button, Problem } from "./styles.js";
import { draftsOf, DraftError, fileToBase64, inputOf, type Draft } from "./values.js";

const field =
  "w-full rounded border border-zinc-300 bg-transparent px-2 py-1.5 text-sm read-only:bg-zinc-100 disabled:opacity-60 dark:border-zinc-700 dark:read-only:bg-zinc-900";

export function CreateView(props: { model: AdminModel }) {
  const { model } = props;
  const create = model.useCreate?.() ?? null;
  const permissions = model.usePermissions();
  const router = useRouter();
  if (create === null || model.createSchema === null)
    return <p>{model.meta.label} rows cannot be created here.</p>;
  if (permissions.isPending) return <p>Loading…</p>;
  if (permissions.isError) return <Problem message={permissions.error.message} />;
  const may = permissions.data;
  if (!may.create) return <p>You may not create {model.meta.label.toLowerCase()} rows.</p>;
  // A field the policies never let the caller set is left out: the row gets its default.
  const fields = model.meta.fields.filter((f) => f.create && may.fields[f.name]?.write === true);
  return (
    <RowForm
      model={model}
      title={`New ${model.meta.label.toLowerCase()}`}
      fields={fields}
      editable={fields}
      schema={model.createSchema}
      creating
      submit={async (input) => {
        const row = await create.mutateAsync(input);
        router.push(`/admin/${model.meta.path}/${idSegments(model.meta, row)}`);
      }}
    />
  );
}

export function EditView(props: { model: AdminModel; id: string[] }) {
  const { model } = props;
  const { meta } = model;
  const { id, query } = useRecord(model, props.id);
  const permissions = model.usePermissions(id);
  const update = model.useUpdate?.() ?? null;
  const router = useRouter();
  if (query.isPending || permissions.isPending) return <p>Loading…</p>;
  if (query.isError) return <Problem message={query.error.message} />;
  if (permissions.isError) return <Problem message={permissions.error.message} />;
  if (update === null || model.updateSchema === null)
    return <p>{meta.label} rows cannot be edited here.</p>;
  const may = permissions.data;
  if (!may.update) return <p>You may not edit this {meta.label.toLowerCase()}.</p>;
  const row = query.data;
  // What the caller may read, and what it may set in this row; the rest is shown read-only.
  const writable = (f: FieldMeta) => f.update && may.fields[f.name]?.write === true;
  const fields = meta.fields.filter((f) => (f.output && Object.hasOwn(row, f.name)) || writable(f));
  return (
    <RowForm
      model={model}
      title={`Edit ${meta.label.toLowerCase()}: ${rowTitle(meta, row)}`}
      fields={fields}
      editable={fields.filter(writable)}
      schema={model.updateSchema}
      row={row}
      creating={false}
      submit={async (input) => {
        await update.mutateAsync({ id, input });
        router.push(`/admin/${meta.path}/${props.id.join("/")}`);
      }}
    />
  );
}

function RowForm(props: {
  model: AdminModel;
  title: string;
  fields: FieldMeta[];
  editable: FieldMeta[];
  schema: NonNullable<AdminModel["createSchema"]>;
  row?: Row;
  creating: boolean;
  submit: (input: Row) => Promise<void>;
}) {
  const { fields, editable, creating } = props;
  const [before] = useState(() => draftsOf(fields, props.row));
  const zod = zodResolver(props.schema as z.ZodType<Row, Row>);
  // The Zod schema checks the input the form would send, not the form's text.
  const resolver: Resolver<Draft> = async (values, context, options) => {
    let payload: Row;
    try {
      payload = inputOf(editable, values, creating, before);
    } catch (e) {
      if (!(e instanceof DraftError)) throw e;
      return { values: {}, errors: { [e.field]: { type: "format", message: e.message } } };
    }
    const result = await zod(payload, context, options as never);
    if (Object.keys(result.errors).length > 0) {
      return { values: {}, errors: result.errors as FieldErrors<Draft> };
    }
    return { values: payload as Draft, errors: {} };
  };
  const form = useForm<Draft>({ defaultValues: before, resolver });
  const { errors, isSubmitting } = form.formState;
  const onSubmit = form.handleSubmit(async (payload) => {
    try {
      await props.submit(payload);
    } catch (e) {
      if (e instanceof ApiError && e.errors.length > 0) {
        for (const err of e.errors) {
          const field = err.path.split(".")[0] ?? "";
          form.setError(fields.some((f) => f.name === field) ? field : "root", {
            type: "server",
            message: err.message,
          });
        }
      } else {
        form.setError("root", {
          type: "server",
          message: e instanceof Error ? e.message : String(e),
        });
      }
    }
  });
  return (
    <form onSubmit={(e) => void onSubmit(e)} noValidate className="max-w-2xl space-y-5">
      <h1 className="text-2xl font-semibold">{props.title}</h1>
      {errors.root?.message === undefined ? null : <Problem message={errors.root.message} />}
      {fields.map((f) => {
        const error = errors[f.name]?.message;
        const readOnly = !editable.includes(f);
        const hint = [
          readOnly ? "read-only" : null,
          creating && !f.createOptional ? "required" : "optional",
          f.default === null ? null : `default: ${f.default}`,
        ]
          .filter(Boolean)
          .join(" · ");
        return (
          <div key={f.name}>
            <label htmlFor={`field-${f.name}`} className="mb-1 block text-sm font-medium">
              {f.label}
              <span className="ml-2 text-xs font-normal text-zinc-600 dark:text-zinc-400">
                {hint}
              </span>
            </label>
            <FieldInput
              field={f}
              register={form.register}
              readOnly={readOnly}
              invalid={error !== undefined}
              setValue={(v) => form.setValue(f.name, v, { shouldDirty: true })}
            />
            {f.doc === null ? null : (
              <p className="mt-1 text-xs text-zinc-600 dark:text-zinc-400">{f.doc}</p>
            )}
            {error === undefined ? null : (
              <p
                id={`error-${f.name}`}
                role="alert"
                className="mt-1 text-sm text-red-700 dark:text-red-400"
              >
                {error}
              </p>
            )}
          </div>
        );
      })}
      <div className="flex gap-3">
        <button type="submit" className={button} disabled={isSubmitting}>
          {creating ? "Create" : "Save"}
        </button>
        <Link href={`/admin/${props.model.meta.path}`} className={button}>
          Cancel
        </Link>
      </div>
    </form>
  );
}

function FieldInput(props: {
  field: FieldMeta;
  register: UseFormRegister<Draft>;
  readOnly: boolean;
  invalid: boolean;
  setValue: (value: string) => void;
}) {
  const { field: f, register, readOnly } = props;
  const common = {
    id: `field-${f.name}`,
    "aria-invalid": props.invalid,
    "aria-describedby": props.invalid ? `error-${f.name}` : undefined,
  };
  if (f.type === "Boolean" && !f.list) {
    return (
      <input
        type="checkbox"
        {...common}
        {...register(f.name)}
        disabled={readOnly}
        className="h-4 w-4"
      />
    );
  }
  if (f.kind === "enum" && !f.list) {
    return (
      <select {...common} {...register(f.name)} disabled={readOnly} className={field}>
        {f.nullable || f.createOptional ? <option value="">—</option> : null}
        {(f.values ?? []).map((v) => (
          <option key={v} value={v}>
            {v}
          </option>
        ))}
      </select>
    );
  }
  if (f.list || f.kind === "object" || f.type === "Json") {
    return (
      <textarea
        {...common}
        {...register(f.name)}
        readOnly={readOnly}
        rows={6}
        className={`${field} font-mono`}
      />
    );
  }
  if (f.type === "Bytes") {
    return (
      <div className="space-y-1">
        <input
          {...common}
          {...register(f.name)}
          readOnly={readOnly}
          className={`${field} font-mono`}
          placeholder="base64"
        />
        {readOnly ? null : (
          <input
            type="file"
            aria-label={`${f.label}: upload a file`}
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (file !== undefined) void fileToBase64(file).then(props.setValue);
            }}
          />
        )}
      </div>
    );
  }
  if (f.link !== null && !readOnly)
    return <RelationPicker field={f} common={common} register={register} />;
  const type = f.type === "DateTime" ? "datetime-local" : "text";
  const numeric = ["Int", "Float", "BigInt", "Decimal"].includes(f.type);
  return (
    <input
      type={type}
      step={type === "datetime-local" ? "0.001" : undefined}
      inputMode={numeric ? "decimal" : undefined}
      {...common}
      {...register(f.name)}
      readOnly={readOnly}
      className={field}
    />
  );
}

/** A foreign key: type to search the target model, pick a row; the id is what is sent. */
function RelationPicker(props: {
  field: FieldMeta;
  common: { id: string };
  register: UseFormRegister<Draft>;
}) {
  const { field: f } = props;
  const target = f.link === null ? undefined : MODELS[f.link.model];
  const client = useDataClient();
  const [search, setSearch] = useState("");
  const searchField = target?.searchField ?? null;
  const where =
    searchField === null || search === "" ? undefined : { [searchField]: { contains: search } };
  const params = { take: 20, where };
  const query = useQuery({
    queryKey: [target?.key ?? "", "list", params],
    queryFn: () => clientFor(client, target?.key ?? "").list(params),
    enabled: target !== undefined,
  });
  const list = `options-${f.name}`;
  return (
    <div className="flex gap-2">
      <input {...props.common} {...props.register(f.name)} list={list} className={field} />
      {searchField === null ? null : (
        <input
          type="search"
          aria-label={`Search ${target?.label ?? ""} by ${searchField}`}
          placeholder={`Search ${target?.label.toLowerCase() ?? ""}`}
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          className={field}
        />
      )}
      <datalist id={list}>
        {target === undefined
          ? null
          : (query.data?.data ?? []).map((r) => (
              <option key={idSegments(target, r)} value={String(r[f.link?.field ?? ""])}>
                {rowTitle(target, r)}
              </option>
            ))}
      </datalist>
    </div>
  );
}
