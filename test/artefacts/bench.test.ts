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

  it("refuses a suite it does not have, with the list, and runs nothing", async () => {
    const { code, stdout, stderr } = await bench("serach");
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain(
      'No suite named "serach": the suites are sign, search, slack-open, lambda-cold-start.',
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
