import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeFormEncoded, decodeXmlText, parseListObjectsV2 } from "../../src/files/list-objects-xml.js";

const escapeXml = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

interface Entry {
  key: string;
  size: number;
  lastModified: number;
}

/** An answer shaped as S3 sends it, with the elements the index ignores around the ones it reads. */
function listingXml(entries: Entry[], prefixes: string[], token: string | undefined): string {
  const contents = entries
    .map(
      (e) =>
        `<Contents><Key>${escapeXml(e.key)}</Key><LastModified>${new Date(e.lastModified).toISOString()}</LastModified>` +
        `<ETag>&quot;abc&quot;</ETag><ChecksumAlgorithm>CRC32</ChecksumAlgorithm><Size>${e.size}</Size>` +
        "<Owner><ID>o</ID><DisplayName>x</DisplayName></Owner><StorageClass>STANDARD</StorageClass></Contents>",
    )
    .join("");
  const common = prefixes
    .map((p) => `<CommonPrefixes><Prefix>${escapeXml(p)}</Prefix></CommonPrefixes>`)
    .join("");
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
    `<Name>b</Name><Prefix></Prefix>${token ? `<NextContinuationToken>${escapeXml(token)}</NextContinuationToken>` : ""}` +
    `<KeyCount>${entries.length}</KeyCount><MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter>` +
    `<IsTruncated>${token ? "true" : "false"}</IsTruncated>${contents}${common}<StartAfter/></ListBucketResult>`
  );
}

/** The SDK's own reading of the same answer, through a client whose wire returns `xml`. */
async function sdkReading(xml: string) {
  const client = new S3Client({
    region: "us-east-1",
    credentials: { accessKeyId: "a", secretAccessKey: "b" },
    requestHandler: {
      handle: async () => ({
        response: { statusCode: 200, headers: {}, body: new TextEncoder().encode(xml) },
      }),
    } as never,
  });
  return client.send(new ListObjectsV2Command({ Bucket: "b" }));
}

// Characters XML 1.0 can carry (no control characters but tab and line breaks, no lone surrogates).
const keyChar = fc.oneof(
  fc.constantFrom("a", "/", " ", "&", "<", ">", '"', "'", "+", "%", "é", "日", "😀", "\t", "."),
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }),
);
const key = fc
  .array(keyChar, { minLength: 1, maxLength: 30 })
  .map((chars) => chars.join(""))
  .filter((k) => k.trim() === k && !/[\p{Cc}\uFFFE\uFFFF]/u.test(k.replace(/\t/g, "")));
const entry = fc.record({
  key,
  size: fc.integer({ min: 0, max: 5 * 2 ** 40 }),
  lastModified: fc.integer({ min: 0, max: 4_102_444_800_000 }).map((ms) => ms - (ms % 1000)),
});

describe("the ListObjectsV2 reader", () => {
  it("reads every key, size, time, folder and token as the SDK's own deserializer does", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(entry, { maxLength: 20 }),
        fc.array(
          key.map((k) => `${k}/`),
          { maxLength: 5 },
        ),
        fc.option(
          fc.string({ minLength: 1, maxLength: 40 }).filter((t) => t.trim() === t && !/\p{Cc}/u.test(t)),
          {
            nil: undefined,
          },
        ),
        async (entries, prefixes, token) => {
          const xml = listingXml(entries, prefixes, token);
          const sdk = await sdkReading(xml);
          const lean = parseListObjectsV2(xml);
          expect(lean.contents).toEqual(
            (sdk.Contents ?? []).map((c) => ({
              key: c.Key,
              size: c.Size,
              lastModified: c.LastModified?.getTime(),
            })),
          );
          expect(lean.commonPrefixes).toEqual((sdk.CommonPrefixes ?? []).map((p) => p.Prefix));
          expect(lean.isTruncated).toBe(sdk.IsTruncated);
          expect(lean.nextContinuationToken).toBe(sdk.NextContinuationToken);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("reads the encoding S3 echoes, and numeric character references in keys", () => {
    const page = parseListObjectsV2(
      "<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>a&#x2F;b&#38;c&#128512;</Key><Size>7</Size></Contents></ListBucketResult>",
    );
    expect(page.encodingType).toBe("url");
    expect(page.contents).toEqual([{ key: "a/b&c😀", size: 7, lastModified: 0 }]);
  });

  it("refuses an answer that is not a listing, or one cut off in the middle", () => {
    expect(() => parseListObjectsV2("<Error><Code>AccessDenied</Code></Error>")).toThrow(/ListBucketResult/);
    const whole = listingXml([{ key: "a.txt", size: 1, lastModified: 0 }], [], undefined);
    expect(() => parseListObjectsV2(whole.slice(0, whole.indexOf("</Key>")))).toThrow(/not the XML/);
  });

  it("reads each modification time as Date.parse does, days past the 28th and odd forms included", () => {
    const timeOf = (text: string) =>
      parseListObjectsV2(
        `<ListBucketResult><Contents><Key>k</Key><LastModified>${text}</LastModified></Contents></ListBucketResult>`,
      ).contents[0]?.lastModified;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4_102_444_800_000 }), (ms) => {
        const text = new Date(ms).toISOString();
        expect(timeOf(text)).toBe(Date.parse(text));
      }),
      { numRuns: 500 },
    );
    for (const text of [
      "2024-02-30T00:00:00.000Z",
      "2024-02-29T23:59:59.999Z",
      "2024-01-01T24:00:00.000Z",
      "2024-13-01T00:00:00.000Z",
      "1969-12-31T23:59:59.000Z",
      "2024-01-01T00:00:00Z",
      "2024-01-01T00:00:00.000+01:00",
      "2024-0a-01T00:00:00.000Z",
      "not a time",
    ]) {
      expect(timeOf(text), text).toBe(Date.parse(text) || 0);
    }
  });

  it("finds an element's end past the elements nested in it", () => {
    const page = parseListObjectsV2(
      "<ListBucketResult><Contents><Owner><ID>o</ID><Size>9</Size></Owner><Key>a</Key><Size>3</Size></Contents>" +
        "<Contents><Key/><Size>4</Size></Contents></ListBucketResult>",
    );
    expect(page.contents.map((entry) => entry.size)).toEqual([3, 4]);
  });

  it("leaves text without escapes as it is", () => {
    expect(decodeXmlText("plain/key name.pdf")).toBe("plain/key name.pdf");
    expect(decodeXmlText("&unknown; &amp;")).toBe("&unknown; &");
  });

  it("decodes form-encoded keys and folders exactly as decodeURIComponent does, bad escapes included", () => {
    const answer = (keys: string[]) =>
      `<ListBucketResult><EncodingType>url</EncodingType>${keys.map((k) => `<Contents><Key>${k}</Key></Contents>`).join("")}` +
      "<CommonPrefixes><Prefix>%C3%89quipe+A/</Prefix></CommonPrefixes></ListBucketResult>";
    const page = parseListObjectsV2(
      answer(["a+b%2Bc/%E6%97%A5%F0%9F%98%80.pdf", "100%25+sure", "&#37;41&amp;+"]),
    );
    expect(page.contents.map((e) => e.key)).toEqual(["a b+c/日😀.pdf", "100% sure", "A& "]);
    expect(page.commonPrefixes).toEqual(["Équipe A/"]);
    for (const bad of ["%E6%97", "%ED%A0%80", "%C0%80", "%zz", "%4"]) {
      expect(() => parseListObjectsV2(answer([bad])), bad).toThrow(URIError);
    }
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("%C3", "%A9", "%E6%97%A5", "%F4%90", "%2B", "+", "a", "é", "%25", "%"), {
          minLength: 1,
          maxLength: 8,
        }),
        (parts) => {
          const text = parts.join("");
          let expected: string;
          try {
            expected = decodeFormEncoded(text);
          } catch {
            expect(() => parseListObjectsV2(answer([text]))).toThrow(URIError);
            return;
          }
          expect(parseListObjectsV2(answer([text])).contents[0]?.key).toBe(expected);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("reads an answer from its bytes, wherever the chunks it came in were cut", () => {
    const xml = listingXml(
      [{ key: "議事録/Отчёт 😀 & <x>.docx", size: 12, lastModified: 1_700_000_000_000 }],
      ["日本/"],
      "tok&en",
    );
    const bytes = new TextEncoder().encode(xml);
    expect(parseListObjectsV2(bytes)).toEqual(parseListObjectsV2(xml));
    expect(parseListObjectsV2(bytes.subarray(0)).nextContinuationToken).toBe("tok&en");
    expect(parseListObjectsV2(bytes).contents[0]?.key).toBe("議事録/Отчёт 😀 & <x>.docx");
  });

  it("reads an empty page, and refuses one cut short anywhere", () => {
    const empty = parseListObjectsV2(
      "<ListBucketResult><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>",
    );
    expect(empty).toEqual({
      contents: [],
      commonPrefixes: [],
      isTruncated: false,
      nextContinuationToken: undefined,
      encodingType: undefined,
    });
    const whole = listingXml([{ key: "a/b.txt", size: 1, lastModified: 0 }], ["a/"], "t");
    for (let cut = 1; cut < whole.length; cut++) {
      expect(() => parseListObjectsV2(whole.slice(0, cut)), String(cut)).toThrow(
        /not the XML|ListBucketResult/,
      );
    }
  });
});
