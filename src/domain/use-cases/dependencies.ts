/** What the use cases are given: the ports, the policy as it stands, the clock and the id source. */
import type { ShareLedger } from "../ledger.js";
import type { AccessPolicy } from "../policy.js";
import type {
  Directory,
  FileCatalog,
  LinkSigner,
  MemberLinks,
  Poster,
  RevocationList,
  ShareMessages,
} from "../ports.js";

export interface ShareDependencies {
  readonly directory: Directory;
  readonly policy: () => AccessPolicy;
  readonly catalog: FileCatalog;
  readonly signer: LinkSigner;
  /** Present when the gate is set up (HANDOUT_PUBLIC_URL): members-only links are possible. */
  readonly memberLinks?: MemberLinks | undefined;
  readonly poster: Poster;
  readonly ledger: ShareLedger;
  readonly now: () => Date;
  /** A new share's id (`newShareId` in production). */
  readonly newId: () => string;
  /** Told when a file the person chose is no longer in the bucket, so that search stops offering it. */
  readonly fileGone?: (key: string) => void;
}

export interface LifeDependencies extends ShareDependencies {
  readonly messages: ShareMessages;
  /** The edge deny list, when a CloudFront KeyValueStore is configured. */
  readonly revocations?: RevocationList | undefined;
  /** Whether a revoked share's links stop opening (an edge deny list, or Handout serving them itself). */
  readonly revokedLinksRefused: boolean;
}
