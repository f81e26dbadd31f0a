import type { AppError } from "../../ports/errors.ts";

/** True when `e` is a unique/primary-key violation on SQLite or PostgreSQL. */
export function isUniqueViolation(e: unknown): boolean {
  if (typeof e !== "object" || e === null) return false;
  const code = (e as { code?: unknown }).code;
  return code === "23505" || code === "SQLITE_CONSTRAINT_PRIMARYKEY" || code === "SQLITE_CONSTRAINT_UNIQUE";
}

/** Maps driver errors to core errors at the storage boundary. */
export async function mapErrors<T>(fn: () => Promise<T>, onUnique: () => AppError): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isUniqueViolation(e)) throw onUnique();
    throw e;
  }
}
