import { createHmac, timingSafeEqual } from "node:crypto";

/** What the modal carries between Slack requests. Sealed, because Slack hands it back through the client. */
export interface ModalState {
  /** The person the modal was opened for. */
  readonly userId: string;
  /** The conversation /share was typed in, and its response URL: absent for the global shortcut. */
  readonly channelId?: string;
  readonly responseUrl?: string;
  /** The command's query, offered again when the file menu opens empty. */
  readonly query: string;
  /** The share being extended, in the Share again modal. */
  readonly shareId?: string;
}

const MAX_QUERY = 100;

/**
 * Seals modal state with an HMAC so that a changed `private_metadata` is recognised and refused.
 * The key is derived from a secret the app already holds; it never leaves the process.
 */
export class MetadataSeal {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = createHmac("sha256", "handout/private_metadata").update(secret).digest();
  }

  seal(state: ModalState): string {
    const body = Buffer.from(JSON.stringify({ ...state, query: state.query.slice(0, MAX_QUERY) })).toString(
      "base64url",
    );
    return `${body}.${this.mac(body)}`;
  }

  /** The state, or undefined when the text was not sealed by this app or was changed. */
  open(text: string | undefined): ModalState | undefined {
    const [body, mac, ...rest] = (text ?? "").split(".");
    if (!body || !mac || rest.length > 0) return undefined;
    const expected = Buffer.from(this.mac(body));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      const state = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as ModalState;
      return typeof state.userId === "string" && typeof state.query === "string" ? state : undefined;
    } catch {
      return undefined;
    }
  }

  private mac(body: string): string {
    return createHmac("sha256", this.key).update(body).digest("base64url");
  }
}
