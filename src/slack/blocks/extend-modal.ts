import type { KnownBlock, ModalView } from "@slack/types";
import type { Access } from "../../domain/policy.js";
import type { ShareRecord } from "../../domain/share.js";
import { EXTEND_VIEW } from "../ids.js";
import { LIMIT, mrkdwn, plain } from "./kit.js";
import { expiryBlocks } from "./share-modal.js";
import { fileList } from "./share-state.js";

/** Share the same files again with a new expiry: the choice of expiry, within what the policy allows now. */
export function extendView(privateMetadata: string, share: ShareRecord, access: Access): ModalView {
  const intro = `New links to these files, posted in <#${share.channelId}>:\n`;
  const blocks: KnownBlock[] = [
    { type: "section", text: mrkdwn(`${intro}${fileList(share, LIMIT.section - intro.length)}`) },
    ...expiryBlocks(access, "New links expire after"),
  ];
  return {
    type: "modal",
    callback_id: EXTEND_VIEW,
    title: plain("Share again"),
    submit: plain("Share"),
    close: plain("Cancel"),
    private_metadata: privateMetadata,
    blocks,
  };
}
