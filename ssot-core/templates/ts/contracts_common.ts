// {{ header }}

/** Any JSON value (`Json` fields). */
export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Filter on a field whose values have an order. */
export interface OrderedFilter<T, N extends null = never> {
  equals?: T | N;
  not?: T | N;
  in?: T[];
  lt?: T;
  lte?: T;
  gt?: T;
  gte?: T;
}

/** Filter on a `String` field. */
export interface StringFilter<N extends null = never> extends OrderedFilter<string, N> {
  contains?: string;
  startsWith?: string;
  endsWith?: string;
}

/** Filter on an `Int` or `Float` field. */
export type NumberFilter<N extends null = never> = OrderedFilter<number, N>;

/** Filter on a `BigInt`, `Decimal` or `DateTime` field (values as their wire strings). */
export type OrderedStringFilter<N extends null = never> = OrderedFilter<string, N>;

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
