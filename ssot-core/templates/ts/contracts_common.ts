// {{ header }}

/** Any JSON value (`Json` fields). */
export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Filter on a `String` field. */
export interface StringFilter<N extends null = never> {
  equals?: string | N;
  not?: string | N;
  in?: string[];
  lt?: string;
  lte?: string;
  gt?: string;
  gte?: string;
  contains?: string;
  startsWith?: string;
  endsWith?: string;
}

/** Filter on an `Int` or `Float` field. */
export interface NumberFilter<N extends null = never> {
  equals?: number | N;
  not?: number | N;
  in?: number[];
  lt?: number;
  lte?: number;
  gt?: number;
  gte?: number;
}

/** Filter on a `BigInt`, `Decimal` or `DateTime` field (values as their wire strings). */
export interface OrderedStringFilter<N extends null = never> {
  equals?: string | N;
  not?: string | N;
  in?: string[];
  lt?: string;
  lte?: string;
  gt?: string;
  gte?: string;
}

/** Filter on a `Boolean` field. */
export interface BooleanFilter<N extends null = never> {
  equals?: boolean | N;
  not?: boolean | N;
}

/** Filter on an enum field. */
export interface EnumFilter<E extends string, N extends null = never> {
  equals?: E | N;
  not?: E | N;
  in?: E[];
}
