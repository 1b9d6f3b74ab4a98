import type { PlainTextOption } from "@slack/types";
import type { FileInfo } from "../domain/ports.js";
import { shortenMiddle } from "../domain/search.js";
import { formatSize, splitKey } from "./format.js";
import type { KeyRefs } from "./key-refs.js";

/** A file as a menu option: its name as the text, its folder and size below, a reference as the value. */
export function fileOption(file: FileInfo, refs: KeyRefs): PlainTextOption {
  const { name, folder } = splitKey(file.key);
  return {
    text: { type: "plain_text", text: shortenMiddle(name), emoji: false },
    description: {
      type: "plain_text",
      text: shortenMiddle(`${folder || "(top level)"} · ${formatSize(file.size)}`),
      emoji: false,
    },
    value: refs.toValue(file.key),
  };
}
