import type { ArchiveSet, HostileFacts, NormalFacts } from "../suites/archive-set.js";
import { fixture, fixtureFacts } from "./fixture-files.js";

const normal = fixtureFacts<NormalFacts>("archives/normal.expected.json");
const hostile = fixtureFacts<HostileFacts>("archives/hostile.expected.json");

function memberOf(archive: string, pick: (name: string) => boolean): string {
  const m = normal[`archives/normal/${archive}`]?.members.find((x) => x.type === "file" && pick(x.name));
  if (!m) throw new Error(`the archive facts name no such member of ${archive}`);
  return m.name;
}

const gzFile = normal["archives/normal/single.csv.gz"]?.members[0];

/**
 * The generated archives (test/fixtures/gen/archives.ts) as a set for the archive suites: every detail the suites
 * need is read from the generator's facts, none from sluice.
 */
export const FIXTURE_ARCHIVES: ArchiveSet = {
  dir: fixture("archives"),
  gz: { file: "single.csv.gz", member: gzFile?.name ?? "?", rows: gzFile?.rows ?? -1 },
  innerGz: memberOf("outer_with_inner_archives.tar.gz", (n) => n.endsWith(".gz")),
  deepMember: memberOf("nested.zip", (n) => n.includes("/level4/")),
  bundleMember: memberOf("bundle.tar.gz", (n) => n.startsWith("bundle/csv/")),
  okBytes: (hostile["zip_slip.zip"] as { member_sizes: Record<string, number> }).member_sizes["ok.csv"] ?? -1,
  outsideTargets: Object.values(hostile).flatMap((f) => (f.outside_targets as string[] | undefined) ?? []),
};

export { hostile as fixtureHostileFacts, normal as fixtureNormalFacts };
