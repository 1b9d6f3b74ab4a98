import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { formatTable } from "../../bench/report.js";
import { runProcess } from "../support/process.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bench = (...args: string[]) =>
  runProcess("npm", ["run", "--silent", "bench", "--", ...args], { cwd: root });

/** The table's row for `figure`, split into its columns. */
const row = (table: string, figure: string) =>
  table
    .split("\n")
    .find((line) => line.startsWith(`${figure} `))
    ?.split(/ {2,}/);

describe("npm run bench", () => {
  it("prints each figure beside its baseline from the same run, with its unit and which way is better", async () => {
    const { code, stdout, stderr } = await bench("sign");
    expect(code, stderr).toBe(0);
    expect(stdout.split("\n")[0]).toMatch(
      /^figure +value +baseline \(same run\) +baseline value +good when$/,
    );
    expect(row(stdout, "sign.keyobject_per_s")).toEqual([
      "sign.keyobject_per_s",
      expect.stringMatching(/^[\d,]+\/s$/),
      "sign.pem_per_s",
      expect.stringMatching(/^[\d,]+\/s$/),
      "higher than the baseline",
    ]);
    // The baseline is shown beside its figure, not again on its own.
    expect(row(stdout, "sign.pem_per_s")).toBeUndefined();
    expect(row(stdout, "sign.keyobject_vs_pem")).toEqual([
      "sign.keyobject_vs_pem",
      expect.stringMatching(/×$/),
      "higher",
    ]);
  }, 60_000);

  it("pairs every suite's figures with their baselines and says what good means", () => {
    const table = formatTable({
      "search.1m.p99_ms": 0.4,
      "search.1m.naive_p99_ms": 180.5,
      "index.1m.files": 1_000_000,
      "index.1m.heap_mb": 210.3,
      "build.1m.parallel_s": 2.1,
      "build.1m.serial_s": 9.8,
      "open.handout_p99_ms": 41,
      "open.bare_bolt_same_view_p99_ms": 38,
      "open.p99_vs_bare_bolt_same_view": 1.08,
      "lambda.import_ms_median": 310,
      "lambda.baseline_import_ms_median": 45,
    });
    expect(row(table, "search.1m.p99_ms")).toEqual([
      "search.1m.p99_ms",
      "0.4 ms",
      "search.1m.naive_p99_ms",
      "180.5 ms",
      "lower than the baseline",
    ]);
    expect(row(table, "build.1m.parallel_s")?.slice(2)).toEqual([
      "build.1m.serial_s",
      "9.8 s",
      "lower than the baseline",
    ]);
    expect(row(table, "open.handout_p99_ms")?.[2]).toBe("open.bare_bolt_same_view_p99_ms");
    expect(row(table, "lambda.import_ms_median")?.[2]).toBe("lambda.baseline_import_ms_median");
    expect(row(table, "open.p99_vs_bare_bolt_same_view")).toEqual([
      "open.p99_vs_bare_bolt_same_view",
      "1.08×",
      "closer to 1",
    ]);
    expect(row(table, "index.1m.heap_mb")).toEqual(["index.1m.heap_mb", "210.3 MB", "lower"]);
    expect(row(table, "index.1m.files")).toEqual(["index.1m.files", "1,000,000", "(for reading)"]);
  });

  it("starts the built app against a bucket over HTTP and reports each black-box figure beside its baseline", async () => {
    const { code, stdout, stderr } = await runProcess(
      "npm",
      ["run", "--silent", "bench", "--", "blackbox", "--json"],
      {
        cwd: root,
        env: {
          ...process.env,
          BENCH_BLACKBOX_KEYS: "1500",
          BENCH_S3_LATENCY_MS: "5",
          BENCH_BLACKBOX_REQUESTS: "5",
        },
      },
    );
    expect(code, stderr).toBe(0);
    const figures = JSON.parse(stdout) as Record<string, number>;
    expect(figures["blackbox.keys"]).toBe(1500);
    // Each start waited for every key: the app's own count, not a timer.
    expect(figures["blackbox.listing.list_requests"]).toBeGreaterThanOrEqual(2);
    for (const name of [
      "blackbox.listing.parallel_s",
      "blackbox.listing.serial_s",
      "blackbox.start.snapshot_s",
      "blackbox.start.listing_s",
      "blackbox.rss.growth_mb",
      "blackbox.rss_small_bucket.growth_mb",
    ]) {
      expect(figures[name], name).toEqual(expect.any(Number));
    }
    for (const kind of ["letter", "extension", "common_word", "specific_name", "nothing"]) {
      expect(figures[`blackbox.typeahead.${kind}.p50_ms`], kind).toBeGreaterThan(0);
      expect(figures[`blackbox.typeahead_small_bucket.${kind}.p99_ms`], kind).toBeGreaterThan(0);
    }
    expect(figures["blackbox.typeahead.specific_name.options"]).toBeGreaterThanOrEqual(1);
    expect(figures["blackbox.typeahead.nothing.options"]).toBe(0);
    expect(figures["blackbox.typeahead.letter.options"]).toBe(100);

    const table = formatTable(figures);
    expect(row(table, "blackbox.listing.parallel_s")?.[2]).toBe("blackbox.listing.serial_s");
    expect(row(table, "blackbox.start.snapshot_s")?.[2]).toBe("blackbox.start.listing_s");
    expect(row(table, "blackbox.typeahead.letter.p99_ms")?.[2]).toBe(
      "blackbox.typeahead_small_bucket.letter.p99_ms",
    );
    expect(row(table, "blackbox.rss.growth_mb")?.[2]).toBe("blackbox.rss_small_bucket.growth_mb");
  }, 180_000);

  it("refuses a suite it does not have, with the list, and runs nothing", async () => {
    const { code, stdout, stderr } = await bench("serach");
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain(
      'No suite named "serach": the suites are sign, search, slack-open, lambda-cold-start, snapshot, blackbox.',
    );
    expect(stderr).not.toContain("running");
  });

  it("prints its usage for --help and runs nothing", async () => {
    const { code, stdout, stderr } = await bench("--help");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: npm run bench \[-- \[SUITE…\] \[--json\]\]\n/);
    expect(stderr).not.toContain("running");
  });
});
