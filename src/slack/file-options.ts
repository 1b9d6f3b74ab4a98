import type { PlainTextOption } from "@slack/types";
import type { FileInfo } from "../domain/ports.js";
import { LIMIT, plain } from "./blocks/kit.js";
import { formatSize, splitKey } from "./format.js";
import type { KeyRefs } from "./key-refs.js";

/** A file as a menu option: its name as the text, its folder and size below, a reference as the value. */
export function fileOption(file: FileInfo, refs: KeyRefs): PlainTextOption {
  const { name, folder } = splitKey(file.key);
  return {
    text: { ...plain(name, LIMIT.option), emoji: false },
    description: {
      ...plain(`${folder || "(top level)"} · ${formatSize(file.size)}`, LIMIT.option),
      emoji: false,
    },
    value: refs.toValue(file.key),
  };
}
