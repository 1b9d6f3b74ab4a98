import { type Access, accessFor, type Person } from "../policy.js";
import type { Directory, FileSearch, SearchResult } from "../ports.js";
import { MAX_RESULTS } from "../search.js";
import type { ShareDependencies } from "./dependencies.js";

/** What a share form opens with: what the person may share, whom to ask otherwise, and the files matching the query. */
export interface ShareStart {
  readonly access: Access;
  /** Whom a person without a grant should ask, in the policy's words. */
  readonly contact: string | undefined;
  /** Files matching the query the form was opened with; none searched for an empty query or no grant. */
  readonly found: SearchResult | undefined;
}

type Lookups = Pick<ShareDependencies, "policy"> & {
  readonly directory: Directory;
  readonly search: FileSearch;
};

function startFor(deps: Lookups, person: Person, query: string): ShareStart {
  const policy = deps.policy();
  const access = accessFor(policy, person);
  const wanted = query.trim();
  const found =
    access.canShare && wanted ? deps.search.search(wanted, access.prefixes, MAX_RESULTS) : undefined;
  return { access, contact: policy.contact, found };
}

/** The start, from the directory's recent answer alone (no request is made); undefined when it has none. */
export function startShareFromCache(
  deps: Lookups,
  request: { userId: string; query: string },
): ShareStart | undefined {
  const person = deps.directory.known(request.userId);
  return person ? startFor(deps, person, request.query) : undefined;
}

/** The start, looking the person up. */
export async function startShare(
  deps: Lookups,
  request: { userId: string; query: string },
): Promise<ShareStart> {
  return startFor(deps, await deps.directory.person(request.userId), request.query);
}
