import { z } from "zod";
import { bool, duration, num, text } from "./kinds.js";
import { option } from "./option.js";

/**
 * The options of the day-two commands (issue 21): `requeue`, `reprocess`, `prune`. They choose which files one
 * invocation acts on, so they are flags only; where the files and the state are comes from run's options.
 */
const YEAR = 366 * 24 * 3_600_000;

/** An instant (ISO-8601) or an age (`24h`, `7d`: that long before now); checked where it is used. */
const since = text({
  type: "time",
  placeholder: "<time>",
  schema: z.string().refine((s) => s === "" || /^\d+(ms|s|m|h|d)$/.test(s) || !Number.isNaN(Date.parse(s)), {
    message: "an ISO-8601 time (2026-12-01T00:00:00Z) or an age such as 24h or 7d",
  }),
});

export const DAY_TWO_OPTIONS = {
  failed: option({
    kind: bool(),
    default: false,
    help: "requeue every failed file not requeued yet (narrow with --code, --since)",
    commands: ["requeue"],
    group: "requeue, reprocess, prune",
    from: ["flag"],
  }),
  code: option({
    kind: text({
      placeholder: "<code>",
      schema: z.string().regex(/^$|^SLUICE_ERR_[A-Z0-9_]+$/, "a SLUICE_ERR_* code"),
    }),
    default: "",
    help: "with --failed: only files that failed with this error code",
    commands: ["requeue"],
    group: "requeue, reprocess, prune",
    from: ["flag"],
  }),
  since: option({
    kind: since,
    default: "",
    help: "only files that failed (requeue --failed) or were ingested (reprocess) at or after this time",
    commands: ["requeue", "reprocess"],
    group: "requeue, reprocess, prune",
    from: ["flag"],
  }),
  olderThan: option({
    kind: duration({ bare: "s", min: 0, max: 100 * YEAR }),
    default: 0,
    help: "prune: files finished longer ago than this (required), e.g. 90d",
    commands: ["prune"],
    group: "requeue, reprocess, prune",
    from: ["flag"],
  }),
  pruneBatchRows: option({
    kind: num({ whole: true, min: 1, max: 100_000 }),
    default: 2000,
    help: "prune: files rows deleted per transaction (short transactions: a running service waits milliseconds)",
    commands: ["prune"],
    group: "requeue, reprocess, prune",
  }),
};
