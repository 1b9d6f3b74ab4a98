import type { ShareOpen, ShareRecord } from "../../domain/share.js";
import { splitKey } from "../format.js";
import { escapeWithin } from "./kit.js";

/** People named in one notice; the rest are counted (App Home lists them all). */
const PEOPLE_NAMED = 20;
const FILES_NAMED = 3;
const NAME_SHOWN = 80;

const times = (n: number): string => (n === 1 ? "" : n === 2 ? " twice" : ` ${n} times`);

/**
 * "<@U1> opened “q1.pdf” twice; <@U2> opened “q1.pdf” and “q2.pdf”": who opened what since the last
 * notice, in the order they first opened. Stays far under Slack's message length for any number of opens.
 */
export function openNoticeText(share: ShareRecord, opens: readonly ShareOpen[]): string {
  const byPerson = new Map<string, Map<string, number>>();
  for (const open of opens) {
    const files = byPerson.get(open.userId) ?? new Map<string, number>();
    files.set(open.key, (files.get(open.key) ?? 0) + 1);
    byPerson.set(open.userId, files);
  }
  const lines = [...byPerson].slice(0, PEOPLE_NAMED).map(([userId, files]) => {
    const named = [...files]
      .slice(0, FILES_NAMED)
      .map(([key, count]) => `“${escapeWithin(splitKey(key).name, NAME_SHOWN)}”${times(count)}`);
    const more = files.size > FILES_NAMED ? ` and ${files.size - FILES_NAMED} more files` : "";
    return `• <@${userId}> opened ${named.join(", ")}${more}`;
  });
  const others = byPerson.size - PEOPLE_NAMED;
  if (others > 0)
    lines.push(`• and ${others} more ${others === 1 ? "person" : "people"}: see Handout's App Home`);
  const head = share.keys.length === 1 ? "Your link was opened:" : "Your links were opened:";
  return [head, ...lines].join("\n");
}
