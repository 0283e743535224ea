import { join } from "node:path";
import { badNeverStopsSuite, sensorPresetRunSuite } from "../suites/processing-suite.js";
import type { SensorFacts } from "../suites/sensor-suite.js";
import { FIXTURES, fixture, fixtureFacts } from "../support/fixture-files.js";

/**
 * `sluice run` on this project's dirty sensor feed (with the sensor-readings preset) and on every malformed file
 * of test/fixtures/gen/bad.ts at once. The conformance tier runs the same suites on the shared corpus.
 */
sensorPresetRunSuite(
  fixture("sensors/sensors_dirty.csv"),
  fixtureFacts<SensorFacts>("sensors/sensors_dirty.expected.json"),
);
badNeverStopsSuite(join(FIXTURES, "bad"), fixtureFacts("bad/bad.expected.json"));
