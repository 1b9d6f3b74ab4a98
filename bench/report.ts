/**
 * How `npm run bench` prints its figures for a person: each beside the baseline it is measured
 * against in the same run, with its unit and which way is better. Figures are named
 * `suite.what_unit`; the names say how to read them.
 */

type Good = "higher" | "lower" | "closer to 1" | "";

interface Reading {
  readonly unit: string;
  readonly good: Good;
}

/** Ratios of a figure to its baseline: which way is better depends on what is divided by what. */
const RATIOS: [RegExp, Good][] = [
  [/(speedup|keyobject_vs_pem|parallel_vs_serial)/, "higher"],
  [/_vs_(bare_bolt|baseline|fixed_cost)/, "closer to 1"],
];

function read(name: string): Reading {
  for (const [pattern, good] of RATIOS) if (pattern.test(name)) return { unit: "×", good };
  if (/_per_s$/.test(name)) return { unit: "/s", good: "higher" };
  if (/_ms(_|$)/.test(name)) return { unit: "ms", good: "lower" };
  if (/_s$/.test(name)) return { unit: "s", good: "lower" };
  if (/_mb$/.test(name)) return { unit: "MB", good: "lower" };
  if (/_kib$/.test(name)) return { unit: "KiB", good: "lower" };
  if (/_requests$/.test(name)) return { unit: "requests", good: "lower" };
  return { unit: "", good: "" };
}

/** Where each suite keeps a figure's baseline: the same name with one of these changes. */
const BASELINE_NAMES: [RegExp, string][] = [
  [/^([^.]+)\.([^.]+)$/, "$1.baseline_$2"], // lambda.import_ms_median → lambda.baseline_import_ms_median
  [/^(.+)\.([^.]+)$/, "$1.naive_$2"], // search.1m.p99_ms → search.1m.naive_p99_ms
  [/\.handout_/, ".bare_bolt_same_view_"], // open.handout_p99_ms → open.bare_bolt_same_view_p99_ms
  [/\.keyobject_/, ".pem_"],
  [/\.parallel_/, ".serial_"],
  [/\.snapshot_/, ".listing_"], // blackbox.start.snapshot_s → blackbox.start.listing_s
  [/^([^.]+)\.([^.]+)\./, "$1.$2_small_bucket."], // blackbox.typeahead.letter.p50_ms → blackbox.typeahead_small_bucket.letter.p50_ms
];

export function baselineOf(name: string, figures: Record<string, number>): string | undefined {
  for (const [pattern, replacement] of BASELINE_NAMES) {
    if (!pattern.test(name)) continue;
    const candidate = name.replace(pattern, replacement);
    if (candidate !== name && candidate in figures) return candidate;
  }
  return undefined;
}

const show = (value: number, unit: string): string =>
  `${value.toLocaleString("en-US", { maximumFractionDigits: 2 })}${unit === "" ? "" : unit === "×" || unit === "/s" ? unit : ` ${unit}`}`;

/** The table: figure, value, baseline and its value, and what "good" means. */
export function formatTable(figures: Record<string, number>): string {
  const baselines = new Map<string, string>();
  for (const name of Object.keys(figures)) {
    const baseline = baselineOf(name, figures);
    if (baseline) baselines.set(name, baseline);
  }
  const used = new Set(baselines.values());
  const rows: string[][] = [["figure", "value", "baseline (same run)", "baseline value", "good when"]];
  for (const [name, value] of Object.entries(figures)) {
    // A baseline is shown beside the figure it measures.
    if (used.has(name) && !baselines.has(name)) continue;
    const { unit, good } = read(name);
    const baseline = baselines.get(name);
    rows.push([
      name,
      show(value, unit),
      baseline ?? "",
      baseline ? show(figures[baseline] as number, read(baseline).unit) : "",
      good === ""
        ? "(for reading)"
        : `${good}${baseline && good !== "closer to 1" ? " than the baseline" : ""}`,
    ]);
  }
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length))) ?? [];
  const line = (row: string[]) =>
    row
      .map((cell, column) =>
        column === 1 || column === 3 ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0),
      )
      .join("  ")
      .trimEnd();
  const [header, ...body] = rows;
  return `${[line(header as string[]), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n")}\n`;
}
