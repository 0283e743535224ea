import { join } from "node:path";
import { type BadFileFacts, badTabularSuite } from "../../suites/bad-tabular-suite.js";
import { CORPUS, corpusFacts } from "../shared-corpus.js";

/**
 * The main suite's bad/ checks on the shared corpus' bad/ files. The corpus' facts stop at counts; the values a
 * check compares (read off bad/gen_bad.py, which wrote the files) are given here.
 */
const EXTRAS: Record<string, BadFileFacts> = {
  "ragged_rows.csv": { trailing_empty_rows: [6] },
  "unterminated_quote.csv": { rows_before_error_values: [{ id: "1", comment: "fine", value: "10" }] },
  "nul_bytes.csv": { row_1_values: { name: "ab\u0000cd" } },
  "invalid_utf8.csv": { valid_row_values: [{ id: 6, name: "valid \u00fc" }] },
  "bom_utf16le.csv": { name_values: ["a", "\u00e9"] },
  "formula_injection.csv": {
    cells: ["=1+1", "+SUM(A1:A2)", "-2+3", "@cmd", '=HYPERLINK("http://127.0.0.1/x","click")'],
  },
  "nan_infinity.json": { first_invalid_at: { line: 1, row: 1 } },
};

badTabularSuite(join(CORPUS, "bad"), corpusFacts<BadFileFacts>("bad/bad.expected.json"), EXTRAS);
