import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { connect, type NatsConnection, nanos } from "nats";

/** One POST a test receiver got. */
export interface Received {
  id: string;
  type: string;
  event: Record<string, unknown> & { data: Record<string, unknown>; time: string };
  at: number;
  status: number;
  /** The Standard Webhooks signature checked out (null: no secret configured on the receiver). */
  signed: boolean | null;
}

/**
 * A real HTTP receiver (node:http) for webhook notifications. It verifies the Standard Webhooks signature itself
 * (node:crypto, written here from the documented scheme, not sluice's code), records every request, and answers
 * what `answer` says (a status, after an optional delay). It can be stopped and started again on the same port
 * (a receiver that is down refuses connections). It also records whether two deliveries of one event id were
 * ever in flight at the same time.
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  /** Event ids seen in flight twice at once (should stay empty with one node delivering each event). */
  readonly overlapping = new Set<string>();
  private readonly inFlight = new Map<string, number>();
  private server: Server | null = null;
  port = 0;
  answer: (id: string, nth: number) => { status: number; delayMs?: number } = () => ({ status: 204 });

  constructor(private readonly secret: string | null = null) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Distinct event ids answered 2xx. */
  deliveredIds(): Set<string> {
    return new Set(this.received.filter((r) => r.status < 300).map((r) => r.id));
  }

  async waitFor(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  private verify(req: IncomingMessage, body: string): boolean | null {
    if (this.secret === null) return null;
    const id = String(req.headers["webhook-id"] ?? "");
    const ts = String(req.headers["webhook-timestamp"] ?? "");
    const sig = String(req.headers["webhook-signature"] ?? "");
    if (!id || !/^\d+$/.test(ts) || Math.abs(Date.now() / 1000 - Number(ts)) > 300) return false;
    const expected = createHmac("sha256", Buffer.from(this.secret, "utf8")).update(`${id}.${ts}.${body}`).digest();
    return sig.split(" ").some((s) => {
      const [version, b64] = s.split(",");
      const got = Buffer.from(b64 ?? "", "base64");
      return version === "v1" && got.length === expected.length && timingSafeEqual(got, expected);
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    let event: Received["event"];
    try {
      event = JSON.parse(body);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const id = String(event.id);
    const n = (this.inFlight.get(id) ?? 0) + 1;
    this.inFlight.set(id, n);
    if (n > 1) this.overlapping.add(id);
    const nth = this.received.filter((r) => r.id === id).length + 1;
    const { status, delayMs = 0 } = this.answer(id, nth);
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    this.inFlight.set(id, (this.inFlight.get(id) ?? 1) - 1);
    const okType = req.headers["content-type"] === "application/cloudevents+json; charset=utf-8";
    const signed = this.verify(req, body);
    const final = okType && signed !== false ? status : 400;
    this.received.push({ id, type: String(event.type), event, at: Date.now(), status: final, signed });
    res.writeHead(final).end();
  }
}

/** A JetStream stream made for one test (its own subject), deleted by `cleanup`. */
export interface TestStream {
  name: string;
  subject: string;
  url: string;
  nc: NatsConnection;
  /** Messages stored in the stream. */
  count(): Promise<number>;
  /** Every stored message's Nats-Msg-Id and body, in stream order. */
  messages(): Promise<{ msgId: string; body: Record<string, unknown> }[]>;
  cleanup(): Promise<void>;
}

export const NATS_SERVER = process.env.SLUICE_TEST_NATS ?? "127.0.0.1:4222";

export async function createTestStream(): Promise<TestStream> {
  const tag = `t${Date.now().toString(36)}${randomBytes(3).toString("hex")}`;
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: NATS_SERVER, timeout: 5000 });
  } catch (err) {
    throw new Error(`NATS at ${NATS_SERVER} is not reachable (${(err as Error).message}): start nats-server -js`);
  }
  const jsm = await nc.jetstreamManager();
  const name = `SLUICE_${tag.toUpperCase()}`;
  const subject = `sluice.test.${tag}`;
  await jsm.streams.add({ name, subjects: [subject], duplicate_window: nanos(10 * 60_000) });
  return {
    name,
    subject,
    url: `nats://${NATS_SERVER}/${subject}`,
    nc,
    async count() {
      return (await jsm.streams.info(name)).state.messages;
    },
    async messages() {
      const n = (await jsm.streams.info(name)).state.last_seq;
      const out: { msgId: string; body: Record<string, unknown> }[] = [];
      for (let seq = 1; seq <= n; seq++) {
        const m = await jsm.streams.getMessage(name, { seq });
        out.push({ msgId: m.header.get("Nats-Msg-Id"), body: m.json<Record<string, unknown>>() });
      }
      return out;
    },
    async cleanup() {
      await jsm.streams.delete(name).catch(() => undefined);
      await nc.close();
    },
  };
}
