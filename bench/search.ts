import { normalizeForSearch, searchByScan } from "../src/domain/search.js";
import { FileIndex } from "../src/search/file-index.js";
import { type ListedObject, memoryPageSource, type PageSource } from "../src/search/lister.js";

/** Deterministic pseudo-random numbers (mulberry32), so every run measures the same corpus. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOP = [
  "clients",
  "projects",
  "finance",
  "HR",
  "marketing",
  "legal",
  "engineering",
  "sales",
  "design",
  "photos",
  "archive",
  "Operations",
  "research",
  "support",
  "training",
  "Équipe",
  "研究開発",
  "Продажи",
  "board",
  "public",
];
const SUBJECTS = [
  "Acme Corp",
  "Müller GmbH",
  "Société Générale",
  "Café Olé",
  "Smith & Sons",
  "O'Brien Ltd",
  "Nordic Øresund",
  "Zürich Versicherung",
  "São Paulo Office",
  "Kraków Team",
  "東京支社",
  "Москва",
  "Globex",
  "Initech",
  "Umbrella",
  "Stark Industries",
  "Wayne Enterprises",
  "Łódź Partners",
  "Ελληνική Εταιρεία",
  "Ålesund AS",
];
const TOPICS = [
  "Budget",
  "Roadmap",
  "Kick-off",
  "Präsentation",
  "Réunion",
  "Strategy",
  "Onboarding",
  "Audit",
  "Forecast",
  "Pricing",
  "Launch",
  "Retro",
];
const MONTHS_FR = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre"];
const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** `count` distinct, realistic keys: deep folders, dates, mixed case, several scripts. */
export function corpus(count: number, seed = 42): ListedObject[] {
  const next = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const seen = new Set<string>();
  const out: ListedObject[] = [];
  const start = Date.UTC(2016, 0, 1);
  const span = Date.UTC(2026, 0, 1) - start;
  while (out.length < count) {
    const time = start + Math.floor(next() ** 0.7 * span);
    const d = new Date(time);
    const y = d.getUTCFullYear();
    const m = pad(d.getUTCMonth() + 1);
    const day = pad(d.getUTCDate());
    const ymd = `${y}-${m}-${day}`;
    // Each top folder holds a few subjects and each subject a few topics, as real buckets do.
    const t = Math.floor(next() * TOP.length);
    const top = TOP[t] as string;
    const subject = SUBJECTS[(t * 7 + Math.floor(next() * 6)) % SUBJECTS.length] as string;
    const topic = TOPICS[(t * 5 + Math.floor(next() * 4)) % TOPICS.length] as string;
    const n = Math.floor(next() * 10_000);
    const names = [
      () => `Invoice INV-${y}${m}${day}-${pad(n, 4)}.pdf`,
      () => `Quarterly Report Q${Math.floor(d.getUTCMonth() / 3) + 1} ${y} v${n % 7}.pdf`,
      () => `Meeting notes ${ymd} ${pick(TOPICS)} ${n}.docx`,
      () => `IMG_${y}${m}${day}_${pad(n % 24)}${pad(n % 60)}${pad((n * 7) % 60)}.JPG`,
      () => `${pick(TOPICS)} ${subject} v${n % 12}.pptx`,
      () => `Contrat de prestation – ${subject} ${n}.pdf`,
      () => `議事録 ${ymd} 第${n}回.docx`,
      () => `Отчёт ${pick(MONTHS_FR)} ${y} №${n}.xlsx`,
      () => `budget_${y}_final_FINAL (${n % 5}).xlsx`,
      () => `Screenshot ${ymd} at ${pad(n % 24)}.${pad(n % 60)}.${pad((n * 3) % 60)}.png`,
      () => `rapport-annuel-${y}-${pick(MONTHS_FR)}-${n}.pdf`,
      () => `data_export_${y}${m}${day}_${n}.csv`,
    ];
    const name = (names[Math.floor(next() * names.length)] as () => string)();
    const depth = next();
    // Joined, not concatenated: a concatenation is a rope in V8, slower to read than the flat strings
    // an XML parser hands over.
    const key = (
      depth < 0.2
        ? [top, y, name]
        : depth < 0.7
          ? [top, subject, y, `${y}-${m}`, name]
          : [top, subject, topic, y, `${y}-${m}`, name]
    ).join("/");
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ key, size: Math.floor(2 ** (10 + next() * 20)), lastModified: time + n });
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/**
 * The in-memory store, `delayMs` slower per request: a stand-in for S3's round trip. Even without a
 * delay each page waits for the event loop's next turn, as network answers do, so that the index
 * seals its segments between pages as it does in service.
 */
function slowStore(sorted: readonly ListedObject[], delayMs: number): PageSource {
  const store = memoryPageSource(sorted);
  return {
    async listPage(request) {
      await new Promise((resolve) => (delayMs > 0 ? setTimeout(resolve, delayMs) : setImmediate(resolve)));
      return store.listPage(request);
    },
  };
}

export const QUERIES = [
  "inv",
  "invoice",
  "Invoice INV-2023",
  "report",
  "quarterly report q3",
  "q3 2024",
  "mül",
  "muller",
  "MÜLLER GMBH",
  "société",
  "societe generale",
  "cafe ole",
  "img_2021",
  "IMG_20190704",
  ".pdf",
  "pdf",
  "notes",
  "meeting notes 2025-03",
  "budget final",
  "final (2)",
  "contrat",
  "prestation",
  "議事録",
  "第12回",
  "отчёт",
  "отчет",
  "clients/acme",
  "acme corp/2022",
  "2024-02/invoice",
  "präsentation",
  "presentation",
  "zzzz",
  "xyz123",
  "screenshot",
  "2024",
  "v3",
  "kraków",
  "krakow",
  "øresund",
  "oresund",
  "data_export_2020",
  "rapport-annuel",
  "août",
  "roadmap",
  "kick-off",
  "ålesund",
  "łódź",
  "lodz",
  "東京",
  "strategy stark",
];
export const PREFIX_SETS: readonly (readonly string[])[] = [
  [""],
  ["finance/", "clients/", "legal/"],
  ["HR/"],
];

const quantile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;

function latencies(run: (query: string, prefixes: readonly string[]) => void, repeats: number): number[] {
  const samples: number[] = [];
  for (let r = 0; r < repeats; r++) {
    for (const prefixes of PREFIX_SETS) {
      for (const query of QUERIES) {
        const t0 = performance.now();
        run(query, prefixes);
        samples.push(performance.now() - t0);
      }
    }
  }
  return samples.sort((a, b) => a - b);
}

const gc = (globalThis as { gc?: () => void }).gc;
function heldBytes(): number {
  gc?.();
  gc?.();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

async function builtIndex(source: PageSource): Promise<FileIndex> {
  const index = new FileIndex({ source, roots: [""] });
  await index.refresh();
  return index;
}

const round = (n: number, digits = 3) => Number(n.toFixed(digits));

/** Search latency, index memory and build speed, on synthetic corpora generated here. */
export async function run(): Promise<Record<string, number>> {
  const figures: Record<string, number> = {};

  const small = corpus(10_000, 7);
  const smallIndex = await builtIndex(slowStore(small, 0));
  latencies((q, p) => smallIndex.search(q, p, 100), 2);
  const smallSamples = latencies((q, p) => smallIndex.search(q, p, 100), 10);
  figures["search.10k.p50_ms"] = round(quantile(smallSamples, 0.5));
  figures["search.10k.p99_ms"] = round(quantile(smallSamples, 0.99));

  const files = corpus(1_000_000);
  // The store (and its sorted copy of the corpus) exists before the first measure: only the index counts.
  const store = slowStore(files, 0);
  const before = heldBytes();
  let index: FileIndex | undefined = await builtIndex(store);
  const after = heldBytes();
  figures["index.1m.files"] = index.status().files;
  figures["index.1m.heap_mb"] = round((after - before) / 2 ** 20, 1);
  figures["index.1m.estimate_mb"] = round(index.status().bytes / 2 ** 20, 1);
  figures["index.1m.segments"] = index.status().segments;
  figures["index.1m.measured_with_gc"] = gc ? 1 : 0;

  const live = index;
  latencies((q, p) => live.search(q, p, 100), 1);
  const samples = latencies((q, p) => live.search(q, p, 100), 5);
  figures["search.1m.p50_ms"] = round(quantile(samples, 0.5));
  figures["search.1m.p99_ms"] = round(quantile(samples, 0.99));
  figures["search.1m.max_ms"] = round(samples[samples.length - 1] as number);
  index = undefined;

  // The plain way, with every key normalised once beforehand (normalising per query would be slower still).
  const normalized = files.map((file) => normalizeForSearch(file.key));
  const naive = latencies((q, p) => searchByScan(files, normalized, q, p, 100), 1);
  figures["search.1m.naive_p50_ms"] = round(quantile(naive, 0.5), 1);
  figures["search.1m.naive_p99_ms"] = round(quantile(naive, 0.99), 1);
  figures["search.1m.speedup_p50"] = round(quantile(naive, 0.5) / quantile(samples, 0.5), 1);
  figures["search.1m.speedup"] = round(quantile(naive, 0.99) / quantile(samples, 0.99), 1);

  for (const [name, options] of [
    ["serial", { concurrency: 1, splitDepth: 0 }],
    ["parallel", {}],
  ] as const) {
    let requests = 0;
    const slow = new FileIndex({
      source: slowStore(files, 50),
      roots: [""],
      ...options,
      onProgress: (progress) => {
        requests = progress.requests;
      },
    });
    const report = await slow.refresh();
    figures[`build.1m.${name}_s`] = round(report.durationMs / 1000, 2);
    figures[`build.1m.${name}_requests`] = requests;
  }
  figures["build.parallel_vs_serial"] = round(
    (figures["build.1m.serial_s"] as number) / (figures["build.1m.parallel_s"] as number),
    1,
  );
  return figures;
}
