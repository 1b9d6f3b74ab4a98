/** The names Slack hands back to us: callback, block and action IDs. */
export const SHARE_VIEW = "handout_share";
export const SHARE_SHORTCUT = "handout_share_shortcut";

export const Field = {
  files: "files",
  expiry: "expiry",
  expiryAt: "expiry_at",
  destination: "destination",
  how: "how",
  title: "title",
  message: "message",
  mention: "mention",
  pin: "pin",
  note: "note",
  open: "open",
  notifyOpens: "notify_opens",
} as const;

/** Each input block holds one element; its action ID is the block's with this suffix. */
export const actionOf = (field: string): string => `${field}_input`;

export const DOWNLOAD_ACTION = /^download_\d+$/;

export const SHARE_AGAIN_ACTION = "handout_share_again";
export const REVOKE_ACTION = "handout_revoke";
export const EXTEND_ACTION = "handout_extend";
export const HOME_FILTER_ACTION = "handout_home_filter";
export const EXTEND_VIEW = "handout_extend";
