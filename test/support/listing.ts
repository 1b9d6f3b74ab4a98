import { type ListedObject, type ListRequest, listBucket, type PageSource } from "../../src/search/lister.js";

/** Listing helpers shared by the index tests over memory and over s3rver. */
export const sortedKeys = (objects: readonly { key: string }[]) => objects.map((o) => o.key).sort();

export async function listAll(source: PageSource, roots: readonly string[], options = {}) {
  const objects: ListedObject[] = [];
  const progress = await listBucket(source, roots, {
    ...options,
    onObjects: (batch) => objects.push(...batch),
  });
  return { keys: sortedKeys(objects), requests: progress.requests };
}

/** A source that records what was asked, and how many requests were in flight at most. */
export function recording(inner: PageSource) {
  const requests: ListRequest[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const source: PageSource = {
    async listPage(request, signal) {
      requests.push(request);
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      try {
        return await inner.listPage(request, signal);
      } finally {
        inFlight--;
      }
    },
  };
  return { source, requests, maxInFlight: () => maxInFlight };
}
