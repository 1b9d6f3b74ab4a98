import { accessFor } from "../policy.js";
import type { Directory, FileInfo, FileSearch } from "../ports.js";
import { MAX_RESULTS } from "../search.js";
import type { ShareDependencies } from "./dependencies.js";

/** Files this person may share that match the query, best first, on the directory's recent answer. */
export async function findShareableFiles(
  deps: Pick<ShareDependencies, "policy"> & { readonly directory: Directory; readonly search: FileSearch },
  request: { userId: string; query: string },
): Promise<readonly FileInfo[]> {
  const access = accessFor(deps.policy(), await deps.directory.person(request.userId));
  return access.canShare ? deps.search.search(request.query, access.prefixes, MAX_RESULTS).files : [];
}
