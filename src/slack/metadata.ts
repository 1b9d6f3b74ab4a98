import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";

/** What the modal carries between Slack requests. Sealed, because Slack hands it back through the client. */
export interface ModalState {
  /** The person the modal was opened for. */
  readonly userId: string;
  /** The modal's `external_id`, made when it opens: a submission updates that modal and no other. */
  readonly viewRef: string;
  /** The conversation /share was typed in, and its response URL: absent for the global shortcut. */
  readonly channelId?: string;
  readonly responseUrl?: string;
  /** The command's query, offered again when the file menu opens empty. */
  readonly query: string;
  /** The share being extended, in the Share again modal. */
  readonly shareId?: string;
}

const MAX_QUERY = 100;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** A new modal's `external_id`: random, so that it is unique in the workspace and cannot be guessed. */
export const newViewRef = (): string => `handout-${randomBytes(16).toString("base64url")}`;

const optionalText = (value: unknown): boolean => value === undefined || typeof value === "string";

const isModalState = (value: unknown): value is ModalState => {
  if (typeof value !== "object" || value === null) return false;
  const state = value as Record<string, unknown>;
  return (
    typeof state.userId === "string" &&
    typeof state.viewRef === "string" &&
    typeof state.query === "string" &&
    optionalText(state.channelId) &&
    optionalText(state.responseUrl) &&
    optionalText(state.shareId)
  );
};

/**
 * Seals modal state with AES-256-GCM. A changed `private_metadata` fails to open and is refused, and
 * what it carries cannot be read by the client or in a log: a response URL lets whoever holds it post
 * into the conversation. Encrypted rather than kept in a store, so that any replica, or a Lambda
 * container that never saw the modal open, opens it with nothing shared but the secret. The key is
 * derived from a secret the app already holds; it never leaves the process.
 */
export class MetadataSeal {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = Buffer.from(hkdfSync("sha256", secret, "", "handout/private_metadata/aes-256-gcm", 32));
  }

  seal(state: ModalState): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv, { authTagLength: TAG_BYTES });
    const plain = JSON.stringify({ ...state, query: state.query.slice(0, MAX_QUERY) });
    const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
    return Buffer.concat([iv, body, cipher.getAuthTag()]).toString("base64url");
  }

  /** The state, or undefined when the text was not sealed by this app or was changed. */
  open(text: string | undefined): ModalState | undefined {
    if (!text || !BASE64URL.test(text)) return undefined;
    const bytes = Buffer.from(text, "base64url");
    if (bytes.length <= IV_BYTES + TAG_BYTES || bytes.toString("base64url") !== text) return undefined;
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.key, bytes.subarray(0, IV_BYTES), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)),
        decipher.final(),
      ]);
      const state: unknown = JSON.parse(plain.toString("utf8"));
      return isModalState(state) ? state : undefined;
    } catch {
      return undefined;
    }
  }
}
