import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type TableFileFacts, tabularFactsSuite, useTabularConversions } from "../../suites/tabular-suite.js";
import { CORPUS } from "../shared-corpus.js";

function facts(rel: string): [string, TableFileFacts][] {
  return Object.entries(JSON.parse(readFileSync(join(CORPUS, rel), "utf8")) as Record<string, TableFileFacts>);
}

tabularFactsSuite(
  useTabularConversions((rel) => join(CORPUS, rel)),
  {
    // csv-spectrum's csv.expected.json lists its JSON twins too; location_coordinates.json is a bare object.
    csv: facts("csv/csv.expected.json"),
    json: facts("json/json.expected.json"),
    codes: { rel: "csv/vega/zipcodes.csv", column: "zip_code", value: "00501" },
    zstd: "csv/vega/stocks.csv",
    nested: "json/vega/weekly-weather.json",
  },
);
