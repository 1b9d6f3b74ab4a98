import { createHash } from "node:crypto";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, logFormatFor } from "../../src/logger.js";
import { escapeWithin, fitEscaped, fitMrkdwn, messageMrkdwn } from "../../src/slack/blocks/kit.js";
import { boltLogger } from "../../src/slack/bolt-logger.js";
import { formatSize, slackDate, splitKey } from "../../src/slack/format.js";
import { KeyRefs } from "../../src/slack/key-refs.js";
import { MetadataSeal } from "../../src/slack/metadata.js";
import { readShareForm } from "../../src/slack/share-form.js";
import { responseUrlCheck, responseUrlHost } from "../../src/slack/web/response-url.js";
import { captureLogs } from "../support/log.js";

describe("modal metadata seal", () => {
  const seal = new MetadataSeal("secret");
  const state = {
    userId: "U1",
    viewRef: "handout-view-1",
    channelId: "C1",
    responseUrl: "https://hooks.slack.com/commands/T/1/x",
    query: "report",
  };

  it("opens what it sealed", () => {
    expect(seal.open(seal.seal(state))).toEqual(state);
  });

  it("refuses changed, foreign, truncated or missing metadata", () => {
    const sealed = seal.seal(state);
    const bytes = Buffer.from(sealed, "base64url");
    for (const at of [0, 12, bytes.length - 1]) {
      const changed = Buffer.from(bytes);
      changed[at] = (changed[at] as number) ^ 1;
      expect(seal.open(changed.toString("base64url")), `byte ${at}`).toBeUndefined();
    }
    expect(new MetadataSeal("other secret").open(sealed)).toBeUndefined();
    expect(seal.open(sealed.slice(0, -4))).toBeUndefined();
    expect(seal.open(`${sealed}.x`)).toBeUndefined();
    expect(seal.open(`${sealed}A`)).toBeUndefined();
    expect(seal.open(undefined)).toBeUndefined();
    expect(seal.open("")).toBeUndefined();
  });

  it("lets no one read what it carries: the response URL is in no decoding of the sealed text", () => {
    const sealed = seal.seal(state);
    for (const part of [sealed, ...sealed.split(".")]) {
      for (const encoding of ["base64url", "base64"] as const) {
        expect(Buffer.from(part, encoding).toString("latin1")).not.toContain("hooks.slack.com");
      }
    }
    expect(sealed).not.toContain("hooks.slack.com");
    // The same state seals differently each time, so equal states cannot be told apart either.
    expect(seal.seal(state)).not.toBe(sealed);
  });

  it("stays well within Slack's 3,000 characters, however long the query", () => {
    expect(seal.seal({ ...state, query: "q".repeat(5000) }).length).toBeLessThan(1000);
  });
});

describe("response URLs", () => {
  const accepts = responseUrlCheck("http://127.0.0.1:4000/api/");

  it("accepts Slack's hooks, GovSlack's, and SLACK_API_URL's origin", () => {
    for (const url of [
      "https://hooks.slack.com/commands/T0001/123/abc",
      "https://hooks.slack-gov.com/commands/T0001/123/abc",
      "http://127.0.0.1:4000/response/r-1",
    ]) {
      expect(accepts(url), url).toBe(true);
    }
  });

  it("refuses any other place, however it is spelled, and says only its host", () => {
    for (const url of [
      "http://hooks.slack.com/commands/T0001/123/abc",
      "https://hooks.slack.com.example.com/commands/T0001/123/abc",
      "https://hooks.slack.com:8443/commands/T0001/123/abc",
      "https://example.com/hooks.slack.com/commands",
      "https://user@hooks.slack.com/commands/T0001/123/abc",
      "http://127.0.0.1:4001/response/r-1",
      "hooks.slack.com/commands/T0001/123/abc",
      "",
      undefined,
    ]) {
      expect(accepts(url), String(url)).toBe(false);
    }
    expect(responseUrlCheck(undefined)("http://127.0.0.1:4000/response/r-1")).toBe(false);
    expect(responseUrlHost("https://example.com/secret/path")).toBe("example.com");
  });
});

describe("option values for keys", () => {
  const long = `reports/${"é".repeat(500)}.pdf`;

  it("carries short keys as themselves and long ones as a hash and their start, within 150 characters", () => {
    const refs = new KeyRefs();
    expect(refs.toValue("reports/q1.pdf")).toBe("k:reports/q1.pdf");
    expect(refs.toValue(`r/${"x".repeat(146)}`)).toBe(`k:r/${"x".repeat(146)}`);
    const value = refs.toValue(long);
    expect(value).toHaveLength(150);
    expect(value).toMatch(/^p:[A-Za-z0-9_-]{22}reports\/é+$/);
    expect(refs.fromValue(value)).toBe(long);
    expect(refs.fromValue("reports/q1.pdf")).toBeUndefined();
  });

  it("finds a long key again in another process, among indexed keys with the same start", () => {
    const value = new KeyRefs().toValue(long);
    const asked: string[] = [];
    const indexed = [`${long}.old`, `reports/${"é".repeat(500)}-draft.pdf`, long, "reports/short.pdf"];
    const lookup = {
      keysStartingWith(prefix: string) {
        asked.push(prefix);
        return indexed.filter((key) => key.startsWith(prefix));
      },
    };
    const elsewhere = new KeyRefs(lookup);
    expect(elsewhere.fromValue(value)).toBe(long);
    expect(asked).toEqual([value.slice(24)]);
    // Found once, remembered.
    expect(elsewhere.fromValue(value)).toBe(long);
    expect(asked).toHaveLength(1);
    // Without an index, or once the key is gone from it, the person is asked to choose again.
    expect(new KeyRefs().fromValue(value)).toBeUndefined();
    expect(new KeyRefs({ keysStartingWith: () => [`${long}.old`] }).fromValue(value)).toBeUndefined();
  });

  it("does not search the index for a value whose start is shorter than any it makes", () => {
    const asked: string[] = [];
    const refs = new KeyRefs({
      keysStartingWith: (prefix) => {
        asked.push(prefix);
        return [long];
      },
    });
    const value = new KeyRefs().toValue(long);
    expect(refs.fromValue(value.slice(0, 100))).toBeUndefined();
    expect(refs.fromValue(`p:${value.slice(2, 24)}r`)).toBeUndefined();
    expect(asked).toEqual([]);
    expect(refs.fromValue(value)).toBe(long);
    expect(asked).toHaveLength(1);
  });

  it("takes no forged value for a key: a wrong hash, a short key's hash, an over-long value", () => {
    const lookup = {
      keysStartingWith: (prefix: string) => [long, "reports/q1.pdf"].filter((k) => k.startsWith(prefix)),
    };
    const refs = new KeyRefs(lookup);
    const value = new KeyRefs().toValue(long);
    expect(refs.fromValue(`p:${"A".repeat(22)}${value.slice(24)}`)).toBeUndefined();
    const shortHash = createHash("sha256").update("reports/q1.pdf").digest("base64url").slice(0, 22);
    expect(refs.fromValue(`p:${shortHash}reports/`)).toBeUndefined();
    expect(refs.fromValue(`${value}é`)).toBeUndefined();
    expect(refs.fromValue(`p:${value.slice(2, 24)}`)).toBeUndefined();
    expect(refs.fromValue(`h:${value.slice(2)}`)).toBeUndefined();
  });

  it("never cuts a character in two at the end of a long key's start", () => {
    for (const pad of [0, 1]) {
      const key = `${"a".repeat(pad)}${"😀".repeat(200)}`;
      const value = new KeyRefs().toValue(key);
      expect(value.length).toBeLessThanOrEqual(150);
      expect(value).not.toMatch(/[\ud800-\udbff]$/);
      expect(new KeyRefs({ keysStartingWith: () => [key] }).fromValue(value)).toBe(key);
    }
  });
});

describe("reading the share form", () => {
  const now = new Date("2026-11-26T12:00:00Z");
  const refs = new KeyRefs();
  const values = (overrides: Record<string, unknown> = {}) => ({
    files: { files_input: { selected_options: [{ value: "k:reports/q1.pdf" }] } },
    expiry: { expiry_input: { selected_option: { value: "86400" } } },
    expiry_at: { expiry_at_input: { selected_date_time: null } },
    destination: { destination_input: { selected_conversation: "C0GENERAL" } },
    how: { how_input: { selected_option: { value: "post" } } },
    note: { note_input: { value: "  for Thursday  " } },
    ...overrides,
  });

  it("reads a complete form", () => {
    expect(readShareForm(values(), refs, now)).toEqual({
      form: {
        keys: ["reports/q1.pdf"],
        expiresAt: new Date("2026-11-27T12:00:00Z"),
        expiryField: "expiry",
        channelId: "C0GENERAL",
        mode: "post",
        note: "for Thursday",
        announcement: undefined,
        access: undefined,
        notifyOpens: false,
      },
    });
  });

  it("prefers a chosen date and time to the preset", () => {
    const at = Date.parse("2026-12-01T09:00:00Z") / 1000;
    const read = readShareForm(
      values({ expiry_at: { expiry_at_input: { selected_date_time: at } } }),
      refs,
      now,
    );
    expect(read.form?.expiresAt).toEqual(new Date("2026-12-01T09:00:00Z"));
    expect(read.form?.expiryField).toBe("expiry_at");
  });

  it("answers each mistake next to its field", () => {
    const read = readShareForm(
      values({
        files: { files_input: { selected_options: [] } },
        expiry_at: { expiry_at_input: { selected_date_time: Date.parse("2026-11-26T11:00:00Z") / 1000 } },
        destination: { destination_input: { selected_conversation: "not a channel" } },
        how: { how_input: { selected_option: { value: "broadcast" } } },
        note: { note_input: { value: "x".repeat(2001) } },
      }),
      refs,
      now,
    );
    expect(read.errors).toEqual({
      files: "Choose at least one file.",
      expiry_at: "That time has passed. Choose a time in the future.",
      destination: "Choose where to share the files.",
      how: "Choose how to share the files.",
      note: "Keep the note under 2000 characters.",
    });
  });

  it("asks for an announcement's title, and refuses an unknown mention", () => {
    const read = readShareForm(
      values({
        how: { how_input: { selected_option: { value: "announce" } } },
        mention: { mention_input: { selected_option: { value: "everyone" } } },
      }),
      refs,
      now,
    );
    expect(read.errors).toEqual({
      title: "An announcement needs a title.",
      mention: "Choose whom to notify.",
    });
  });

  it("does not recognise a forged option value", () => {
    const read = readShareForm(
      values({ files: { files_input: { selected_options: [{ value: "h:forged" }, { value: 7 }] } } }),
      refs,
      now,
    );
    expect(read.errors?.files).toMatch(/no longer recognises one of these files/);
  });
});

describe("formatting", () => {
  it("shows sizes, dates in the reader's zone, and a key's name and folder", () => {
    expect(formatSize(0)).toBe("0 B");
    expect(formatSize(1_234)).toBe("1.2 KB");
    expect(formatSize(123_456_789)).toBe("123 MB");
    expect(slackDate(new Date("2026-11-27T09:30:45Z"))).toBe(
      "<!date^1795771845^{date_short_pretty} at {time}|2026-11-27 09:30 UTC>",
    );
    expect(splitKey("reports/2026/q1.pdf")).toEqual({ name: "q1.pdf", folder: "reports/2026/" });
    expect(splitKey("top.pdf")).toEqual({ name: "top.pdf", folder: "" });
  });
});

describe("Block Kit text within Slack's limits", () => {
  const escapedLength = (text: string) =>
    text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").length;

  it("caps text by its length once escaped, keeping its start and end and never cutting an entity", () => {
    for (const raw of ["&".repeat(600), `<${"a&b>".repeat(900)}`, `report ${"é&".repeat(400)} final.pdf`]) {
      const shown = escapeWithin(raw, 200);
      expect(shown.length).toBeLessThanOrEqual(200);
      expect(shown).not.toMatch(/&(?!amp;|lt;|gt;)/);
      expect(escapedLength(fitEscaped(raw, 75))).toBeLessThanOrEqual(75);
    }
    expect(escapeWithin("q1 & q2.pdf", 200)).toBe("q1 &amp; q2.pdf");
    expect(escapeWithin(`${"x".repeat(300)}.pdf`, 100)).toMatch(/…x+\.pdf$/);
  });

  it("cuts composed mrkdwn that adds up too long at a place that breaks no token or entity", () => {
    expect(fitMrkdwn(`${"a".repeat(2995)}<@U0ANA> more`, 3000)).toBe(`${"a".repeat(2995)}…`);
    expect(fitMrkdwn(`${"a".repeat(2985)}<@U0ANA> and more`, 3000)).toBe(
      `${"a".repeat(2985)}<@U0ANA> and m…`,
    );
    expect(fitMrkdwn(`${"b".repeat(2997)}&amp;`, 3000)).toBe(`${"b".repeat(2997)}…`);
    expect(fitMrkdwn("short", 3000)).toBe("short");
  });

  it("escapes a domain message's words but keeps its conversation mentions", () => {
    expect(messageMrkdwn("You may not share “<b>&c.pdf”. Join <#C0GENERAL>.")).toBe(
      "You may not share “&lt;b&gt;&amp;c.pdf”. Join <#C0GENERAL>.",
    );
  });
});

describe("logging", () => {
  it("scrubs signatures, tokens, response URLs and private keys from what is logged, at any depth", () => {
    const logs = captureLogs("debug");
    const deep = { a: { b: { c: { d: { e: { f: "xoxb-123-456" } } } } } };
    logs.logger.info(
      {
        link: "https://d1.cloudfront.net/a.pdf?hid=x&Expires=1&Signature=abcdefgh~_-&Key-Pair-Id=K1",
        responseUrl: "https://hooks.slack.com/commands/T0001/123/abcdef",
        deep,
      },
      "token xapp-1-A0001-999 and -----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----",
    );
    const text = logs.text();
    expect(text).not.toContain("abcdefgh");
    expect(text).not.toContain("T0001/123/abcdef");
    expect(text).not.toContain("xapp-1-A0001");
    expect(text).not.toContain("MIIE");
    expect(text).not.toContain("xoxb-123");
    expect(text).toContain("Signature=[redacted]");
  });

  it("writes readable lines in the pretty format, scrubbed as JSON lines are", () => {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        chunks.push(String(chunk));
        done();
      },
    });
    const logger = createLogger("info", stream, "pretty");
    logger.warn({ token: "xoxb-123-456", port: 3000 }, "a warning for a person");
    const text = chunks.join("");
    expect(text).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] WARN.*: a warning for a person\n/);
    expect(text).toContain("port: 3000");
    expect(text).not.toContain("xoxb-123");
    expect(text).not.toContain('"level"');
  });

  it("logs JSON for machines and readable lines on a terminal, unless LOG_FORMAT says which", () => {
    expect(logFormatFor(undefined, { isTTY: true })).toBe("pretty");
    expect(logFormatFor(undefined, { isTTY: false })).toBe("json");
    expect(logFormatFor(undefined, {})).toBe("json");
    expect(logFormatFor("json", { isTTY: true })).toBe("json");
    expect(logFormatFor("pretty", {})).toBe("pretty");
  });

  it("gives Bolt's messages to the one logger, errors included, and builds debug text only when written", () => {
    const logs = captureLogs("info");
    const bolt = boltLogger(logs.logger);
    let built = 0;
    bolt.debug({
      toJSON: () => {
        built++;
        return "expensive";
      },
    });
    bolt.error(new Error("socket closed"));
    expect(built).toBe(0);
    expect(logs.lines()[0]).toMatchObject({ component: "slack", msg: "Error: socket closed" });
  });
});
