import { type SensorFacts, sensorPresetSuite } from "../suites/sensor-suite.js";
import { fixture, fixtureFacts } from "../support/fixture-files.js";

/**
 * The sensor-readings preset on this project's generated dirty feed (test/fixtures/gen/sensors.ts: 100,000 rows,
 * 1,700 invalid over the preset's six reasons), checked against the generator's own facts. The conformance tier
 * runs the same suite on the shared corpus' file.
 */
sensorPresetSuite(
  fixture("sensors/sensors_dirty.csv"),
  fixtureFacts<SensorFacts>("sensors/sensors_dirty.expected.json"),
);
