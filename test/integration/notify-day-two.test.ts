import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runOnce, runSluice } from "../support/cli.js";
import { argsFor } from "../support/fixtures.js";
import { WebhookReceiver } from "../support/notify-receivers.js";
import { READINGS_CSV, rowsNamed, writeSchema } from "../support/requeue-fixtures.js";
import { storeSandboxes } from "../support/stores.js";

/**
 * The day-two commands and the outbox together, through the real CLI and a real receiver: a failed file's
 * `failed` event; its requeued attempt's `ingested` and `processed` events naming the failed attempt
 * (`requeued_from`); a reprocess's `reprocessed` event, id `<ingest_id>:reprocessed:<generation>`, written in the
 * switch's transaction and delivered by the reprocess command itself.
 */

const sandboxes = storeSandboxes();
const receivers: WebhookReceiver[] = [];
afterEach(async () => {
  for (const r of receivers.splice(0)) await r.stop();
  sandboxes.cleanup();
});

describe("notifications of requeue and reprocess", () => {
  it("failed → requeued attempt ingested (linked) → reprocessed, each event once per id", async () => {
    const r = await new WebhookReceiver(null).start();
    receivers.push(r);
    const s = await sandboxes.make("sqlite");
    const schema = join(s.root, "schema.json");
    const notify = ["--notify", r.url, "--schema", schema];
    writeSchema(schema, false);
    mkdirSync(s.input, { recursive: true });
    writeFileSync(join(s.input, "readings.csv"), READINGS_CSV);

    const first = await runOnce(argsFor(s, ...notify));
    expect(first.code, first.stderr).toBe(0);
    const [failed] = rowsNamed(s, "readings.csv");
    expect(failed?.state).toBe("failed");
    const failedId = failed?.ingest_id as string;
    await r.waitFor(() => r.deliveredIds().has(`${failedId}:failed`), 20_000, "the failed event");

    writeSchema(schema, true);
    const rq = await runSluice(["requeue", ...s.args, failedId]);
    expect(rq.code, rq.stderr).toBe(0);
    const second = await runOnce(argsFor(s, ...notify));
    expect(second.code, second.stderr).toBe(0);
    const fresh = rowsNamed(s, "readings.csv").find((x) => x.ingest_id !== failedId);
    const newId = fresh?.ingest_id as string;
    expect(fresh?.state).toBe("done");
    await r.waitFor(
      () => r.deliveredIds().has(`${newId}:ingested`) && r.deliveredIds().has(`${newId}:processed`),
      20_000,
      "the new attempt's events",
    );
    const ingested = r.received.find((x) => x.id === `${newId}:ingested`);
    expect(ingested?.type).toBe("sluice.file.ingested");
    expect(ingested?.event.data).toMatchObject({ ingest_id: newId, requeued_from: failedId, generation: 0 });

    const rp = await runSluice(["reprocess", ...s.args, "--notify", r.url, "--schema", schema, newId]);
    expect(rp.code, rp.stderr + rp.stdout).toBe(0);
    // Delivered by the reprocess command's own flush, before it exited.
    const reprocessed = r.received.find((x) => x.id === `${newId}:reprocessed:1` && x.status < 300);
    expect(reprocessed?.type).toBe("sluice.file.reprocessed");
    expect(reprocessed?.event.data).toMatchObject({ ingest_id: newId, generation: 1, state: "done" });

    // Every event id exactly as the state implies, none other.
    expect([...r.deliveredIds()].sort()).toEqual(
      [`${failedId}:failed`, `${newId}:ingested`, `${newId}:processed`, `${newId}:reprocessed:1`].sort(),
    );
  });
});
