import { describe, expect, it } from "vitest";
import {
  clientsBuiltOutsideApp,
  importMapProblems,
  readSources,
  repositoryRoot,
  specifiers,
} from "../support/import-map.js";

describe("the folder tree as a map of who may import whom", () => {
  it("has no import in src/ that points the wrong way, and no import cycle", async () => {
    const files = await readSources(repositoryRoot, "src");
    expect(files.size).toBeGreaterThan(50);
    expect(importMapProblems(files)).toEqual([]);
  });

  it("builds every SDK and Slack client in src/app/, Socket Mode's own client excepted", async () => {
    const files = await readSources(repositoryRoot, "src");
    expect(clientsBuiltOutsideApp(files)).toEqual([]);
    const withStrays = new Map([
      ["src/app/clients.ts", "export const s3 = () => new S3Client({});"],
      ["src/cli/ledger.ts", "const client = new DynamoDBClient({});"],
      ["src/slack/web/directory.ts", "const web = new WebClient(token, {});"],
    ]);
    expect(clientsBuiltOutsideApp(withStrays)).toEqual([
      "src/cli/ledger.ts builds a DynamoDBClient: build it in src/app/clients.ts",
      "src/slack/web/directory.ts builds a WebClient: build it in src/app/clients.ts",
    ]);
  });

  it("reads static, type-only, multi-line, re-exported, side-effect and dynamic imports", () => {
    const text = [
      'import { a } from "./a.js";',
      'import type { B } from "../b.js";',
      "import {",
      "  c,",
      "  type D,",
      '} from "node:fs";',
      'export { e } from "./e.js";',
      'import "./side.js";',
      'const f = await import("better-sqlite3");',
      'const text = "not an import from \\"./nothing.js\\"";',
    ].join("\n");
    expect(specifiers(text).sort()).toEqual([
      "../b.js",
      "./a.js",
      "./e.js",
      "./side.js",
      "better-sqlite3",
      "node:fs",
    ]);
  });

  it("names each forbidden import and each cycle in a tree that has them", () => {
    const files = new Map([
      [
        "src/domain/share.ts",
        'import { randomBytes } from "node:crypto";\nimport { addDays } from "date-fns";',
      ],
      [
        "src/domain/ports.ts",
        'import type { WebClient } from "@slack/web-api";\nimport type { Share } from "./share.js";',
      ],
      ["src/domain/policy.ts", 'import { sign } from "../signing/signer.js";'],
      ["src/signing/signer.ts", 'import { toWholeSecond } from "../domain/expiry.js";'],
      ["src/slack/web/poster.ts", 'import { shareMessages } from "../blocks/share-message.js";'],
      ["src/ledger/sqlite.ts", 'import { home } from "../slack/listeners/home.js";'],
      ["src/config/config.ts", 'import type { SigningKey } from "../signing/signer.js";'],
      ["src/a.ts", 'import { b } from "./b.js";'],
      ["src/b.ts", 'import { c } from "./c.js";'],
      ["src/c.ts", 'import type { A } from "./a.js";'],
      ["src/slack/blocks/share-message.ts", 'import type { Share } from "../../domain/share.js";'],
    ]);
    expect(importMapProblems(files)).toEqual([
      "src/domain/share.ts imports node:crypto: the domain imports nothing outside src/domain/ but date-fns",
      "src/domain/ports.ts imports @slack/web-api: the domain imports nothing outside src/domain/ but date-fns",
      "src/domain/policy.ts imports ../signing/signer.js: the domain imports nothing outside src/domain/ but date-fns",
      "src/slack/web/poster.ts imports src/slack/blocks/share-message.ts: adapters do not import Slack UI (blocks, listeners)",
      "src/ledger/sqlite.ts imports src/slack/listeners/home.ts: adapters do not import Slack UI (blocks, listeners)",
      "src/config/config.ts imports src/signing/signer.ts: config does not import adapters or the composition root",
      "import cycle: src/a.ts → src/b.ts → src/c.ts → src/a.ts",
    ]);
  });

  it("finds a cycle of a file with itself and of two type-only imports", () => {
    const files = new Map([
      ["src/domain/ledger.ts", 'import type { Posted } from "./ports.js";'],
      ["src/domain/ports.ts", 'import type { ShareRecord } from "./ledger.js";'],
      ["src/self.ts", 'export { x } from "./self.js";'],
    ]);
    expect(importMapProblems(files)).toEqual([
      "import cycle: src/domain/ledger.ts → src/domain/ports.ts → src/domain/ledger.ts",
      "import cycle: src/self.ts → src/self.ts",
    ]);
  });
});
