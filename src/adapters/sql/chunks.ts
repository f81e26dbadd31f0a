/** Largest IN-list one statement gets (well under SQLite's and PostgreSQL's parameter limits). */
export const IN_LIST_MAX = 500;

/**
 * Runs `query` on the distinct `ids`, at most `IN_LIST_MAX` per call, and concatenates the rows:
 * the one way the repositories batch lookups by id.
 */
export async function inChunks<K, R>(ids: readonly K[], query: (chunk: K[]) => Promise<R[]>): Promise<R[]> {
  const unique = [...new Set(ids)];
  const out: R[] = [];
  for (let i = 0; i < unique.length; i += IN_LIST_MAX) out.push(...(await query(unique.slice(i, i + IN_LIST_MAX))));
  return out;
}
