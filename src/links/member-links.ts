import { isShareId } from "../domain/share-id.js";

/** The stable link of file `index` (0-based) of a members-only share: it opens only through the gate. */
export const memberLinkUrl = (publicUrl: string, shareId: string, index: number): string =>
  `${publicUrl.replace(/\/+$/, "")}/o/${shareId}/${index}`;

/** The share and file a gate path names, or undefined for any other path. */
export function parseMemberPath(path: string): { shareId: string; index: number } | undefined {
  const match = /^\/o\/([^/]+)\/(0|[1-9]\d{0,3})$/.exec(path);
  if (!match || !isShareId(match[1])) return undefined;
  return { shareId: match[1], index: Number(match[2]) };
}
