import { join } from "node:path";
import { type SensorFacts, sensorPresetSuite } from "../../suites/sensor-suite.js";
import { CORPUS, corpusFacts } from "../shared-corpus.js";

/** The sensor-readings preset on the shared corpus' dirty feed: the main suite's checks, on data written by others. */
sensorPresetSuite(
  join(CORPUS, "sensors", "sensors_dirty_100k.csv"),
  corpusFacts("sensors/sensors_dirty_100k.expected.json") as unknown as SensorFacts,
);
