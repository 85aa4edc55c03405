/**
 * `google.protobuf.Struct` (metadata, filters) as proto-loader decodes it with `oneofs: true`,
 * and the JSON it stands for. Pinecone's gRPC clients send metadata and filters as Structs; the
 * service layer takes the same JSON the REST API reads.
 */

export interface StructMessage {
  fields?: Record<string, ValueMessage>;
}

export interface ValueMessage {
  kind?: 'nullValue' | 'numberValue' | 'stringValue' | 'boolValue' | 'structValue' | 'listValue';
  nullValue?: unknown;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: StructMessage;
  listValue?: { values?: ValueMessage[] };
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A Struct as the JSON object it encodes; keys such as `__proto__` stay ordinary own keys. */
export function fromStruct(struct: StructMessage): Record<string, Json> {
  // fromEntries defines own properties: "__proto__" stays a key, not a prototype.
  return Object.fromEntries(Object.entries(struct.fields ?? {}).map(([key, value]) => [key, fromValue(value)]));
}

function fromValue(value: ValueMessage): Json {
  switch (value.kind ?? kindOf(value)) {
    case 'numberValue':
      return value.numberValue ?? 0;
    case 'stringValue':
      return value.stringValue ?? '';
    case 'boolValue':
      return value.boolValue ?? false;
    case 'structValue':
      return fromStruct(value.structValue ?? {});
    case 'listValue':
      return (value.listValue?.values ?? []).map(fromValue);
    default:
      // `null_value`, or a Value with no kind set: both mean JSON null.
      return null;
  }
}

/** The field a Value holds, for one decoded without its oneof's name (or built by hand). */
function kindOf(value: ValueMessage): ValueMessage['kind'] {
  if (value.numberValue !== undefined) return 'numberValue';
  if (value.stringValue !== undefined) return 'stringValue';
  if (value.boolValue !== undefined) return 'boolValue';
  if (value.structValue !== undefined) return 'structValue';
  if (value.listValue !== undefined) return 'listValue';
  return 'nullValue';
}

/** A JSON object as a Struct. */
export function toStruct(object: Record<string, unknown>): StructMessage {
  return { fields: Object.fromEntries(Object.entries(object).map(([key, value]) => [key, toValue(value)])) };
}

function toValue(value: unknown): ValueMessage {
  if (value === null || value === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof value === 'number') return { numberValue: value };
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(toValue) } };
  if (typeof value === 'object') return { structValue: toStruct(value as Record<string, unknown>) };
  return { nullValue: 'NULL_VALUE' };
}
