/**
 * During preview, inputs that depend on other resources' unknown outputs reach check and diff as
 * this sentinel string (@pulumi/pulumi runtime/rpc.ts `unknownValue`). It means "may change":
 * never store it, never act on it.
 */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function isUnknown(value: unknown): boolean {
  return value === UNKNOWN;
}

/** True when the value or anything inside it is unknown. */
export function containsUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}
