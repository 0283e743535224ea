/**
 * The store rules are written once as generators over a dialect's statements (store-dialect.ts). A statement
 * of the embedded dialect returns its value at once and one of PostgreSQL returns a promise: `ask` hands
 * either to the driver, which resumes the rule with the value. SQLite runs a batch synchronously inside
 * better-sqlite3's transaction (no await, no other code between its statements); PostgreSQL awaits each.
 */
export type Maybe<T> = T | Promise<T>;

/** A rule: yields statement results to its driver, returns the rule's answer. */
export type Rule<T> = Generator<unknown, T, unknown>;

/** `const x = yield* ask(d.statement(...))`: x is the statement's value whichever way the dialect gave it. */
export function* ask<T>(value: Maybe<T>): Generator<Maybe<T>, T, unknown> {
  return (yield value) as T;
}

/** Drives a rule whose statements all return plain values (SQLite). */
export function runSync<T>(rule: Rule<T>): T {
  let step = rule.next();
  while (!step.done) {
    if (step.value instanceof Promise) throw new Error("internal: an asynchronous statement in a synchronous store");
    step = rule.next(step.value);
  }
  return step.value;
}

/** Drives a rule whose statements return promises (PostgreSQL); a failed statement is thrown into the rule. */
export async function runAsync<T>(rule: Rule<T>): Promise<T> {
  let step = rule.next();
  while (!step.done) {
    let value: unknown;
    try {
      value = await step.value;
    } catch (err) {
      step = rule.throw(err);
      continue;
    }
    step = rule.next(value);
  }
  return step.value;
}
