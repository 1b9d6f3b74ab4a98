import { accessFor } from "../policy.js";
import { type RequestProblem, type ShareRequestParts, shareRequestProblem } from "../share-request.js";
import type { ShareDependencies } from "./dependencies.js";

/**
 * The check `shareFiles` makes, on the person as the directory last saw them: quick enough to answer a
 * form next to its fields. The share itself asks Slack afresh and checks again.
 */
export async function checkShare(
  deps: Pick<ShareDependencies, "directory" | "policy" | "now" | "memberLinks">,
  request: ShareRequestParts & { readonly userId: string },
): Promise<RequestProblem | undefined> {
  const person = await deps.directory.person(request.userId);
  return shareRequestProblem(request, accessFor(deps.policy(), person), deps.now(), !!deps.memberLinks);
}
