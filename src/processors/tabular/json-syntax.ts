/**
 * A strict (RFC 8259) streaming JSON syntax checker over bytes: no recursion,
 * so a 100,000-deep document costs a 100 KB stack, not a crash, and NaN,
 * Infinity, trailing commas or bad UTF-8 are errors. DuckDB's reader accepts
 * NaN/Infinity and crashes on very deep nesting, so every JSON input passes
 * through this first.
 */

enum S {
  Value,
  AfterValue,
  ObjFirstKey,
  ObjKey,
  Colon,
  ArrFirst,
  Str,
  StrEsc,
  StrHex,
  NumMinus,
  NumZero,
  NumInt,
  NumDot,
  NumFrac,
  NumE,
  NumESign,
  NumExp,
  Literal,
  Done,
}

const OBJECT = 1;
const ARRAY = 2;
const LITERALS: Record<number, string> = { 116: "true", 102: "false", 110: "null" };
/** Nesting beyond this is not followed (nor validated): such a file is never a table. */
export const MAX_TRACKED_DEPTH = 1 << 20;
/** Longest key handed to `onKey`: a longer key is cut (its record is over DuckDB's record limit long before). */
export const MAX_KEY_BYTES = 1 << 20;

export interface ValueStart {
  /** Depth of the container the value is in (0: top level). */
  depth: number;
  /** Set when that container is an array. */
  inArray: boolean;
  /** First byte of the value: '{', '[', '"', a digit, '-', 't', 'f', 'n'. */
  byte: number;
}

export class JsonSyntax {
  private state = S.Value;
  private stack = new Uint8Array(64);
  private depthNow = 0;
  private hexLeft = 0;
  private utf8Left = 0;
  /** Allowed range of the next continuation byte. */
  private utf8Lo = 0x80;
  private utf8Hi = 0xbf;
  private literal = "";
  private literalAt = 0;
  private inKey = false;
  /** The bytes of the key being read (between its quotes, escapes as written), while `onKey` is set. */
  private key = new Uint8Array(64);
  private keyLength = 0;
  /** The number being read, while it is an integer: sign and digits (cut at 24 characters), for onBigInteger. */
  private intText = "";
  private integer = true;
  maxDepth = 0;
  /** 1-based line of the byte being read (the line an error is on). */
  line = 1;
  /** Set by the first error; the checker then ignores input until reset(). */
  error: string | null = null;
  /** Called when a value begins. */
  onValue: ((v: ValueStart) => void) | null = null;
  /**
   * Called with each object key as written (the bytes between the quotes, escapes undecoded; cut at
   * MAX_KEY_BYTES) and the depth of its object (1: a top-level object). Setting it makes keys take the slow path.
   */
  onKey: ((key: Uint8Array, depth: number) => void) | null = null;
  /** Called when an object or array closes, with the depth it had (1: top level). */
  onClose: ((depth: number) => void) | null = null;
  /**
   * Called at the end of an integer outside the 64-bit range DuckDB reads exactly ([-2^63, 2^64-1]; beyond, it
   * reads a DOUBLE and the digits are lost), with the depth of its container.
   */
  onBigInteger: ((depth: number) => void) | null = null;

  /** Ready for the next value (the next JSONL line); `line` keeps counting. */
  reset(): void {
    this.state = S.Value;
    this.depthNow = 0;
    this.maxDepth = 0;
    this.utf8Left = 0;
    this.inKey = false;
    this.error = null;
  }

  /** Nothing but whitespace so far. */
  get empty(): boolean {
    return this.state === S.Value && this.depthNow === 0;
  }

  /** Feeds bytes [from, to); returns false once an error is set. */
  feed(buf: Uint8Array, from = 0, to = buf.length): boolean {
    for (let i = from; i < to && this.error === null; i++) {
      const b = buf[i] as number;
      // Most bytes are plain ASCII inside strings: skip the state machine for them.
      if (
        this.state === S.Str &&
        this.utf8Left === 0 &&
        b >= 0x20 &&
        b < 0x80 &&
        b !== 0x22 &&
        b !== 0x5c &&
        !(this.inKey && this.onKey)
      )
        continue;
      this.step(b);
      if (b === 0x0a) this.line++;
    }
    return this.error === null;
  }

  /** Input is over: a number may end here; anything else unfinished is an error. */
  end(): boolean {
    if (this.error !== null) return false;
    if (this.state >= S.NumMinus && this.state <= S.NumExp) this.step(0x20);
    if (this.error === null && this.state !== S.Done)
      this.fail(this.empty ? "no JSON value" : "unexpected end of data");
    return this.error === null;
  }

  private fail(msg: string): void {
    this.error = msg;
  }

  private push(kind: number): void {
    if (this.depthNow >= MAX_TRACKED_DEPTH) {
      this.fail(`nesting deeper than ${MAX_TRACKED_DEPTH} levels`);
      return;
    }
    if (this.depthNow === this.stack.length) {
      const bigger = new Uint8Array(this.stack.length * 2);
      bigger.set(this.stack);
      this.stack = bigger;
    }
    this.stack[this.depthNow++] = kind;
    if (this.depthNow > this.maxDepth) this.maxDepth = this.depthNow;
  }

  private closeValue(): void {
    this.state = this.depthNow === 0 ? S.Done : S.AfterValue;
  }

  private startValue(b: number): void {
    this.onValue?.({
      depth: this.depthNow,
      inArray: this.depthNow > 0 && this.stack[this.depthNow - 1] === ARRAY,
      byte: b,
    });
    const literal = LITERALS[b];
    if (b === 0x7b || b === 0x5b) {
      this.push(b === 0x7b ? OBJECT : ARRAY);
      this.state = b === 0x7b ? S.ObjFirstKey : S.ArrFirst;
    } else if (b === 0x22) this.state = S.Str;
    else if (b >= 0x2d && b <= 0x39 && b !== 0x2e && b !== 0x2f) {
      this.state = b === 0x2d ? S.NumMinus : b === 0x30 ? S.NumZero : S.NumInt;
      this.intText = String.fromCharCode(b);
      this.integer = true;
    } else if (literal) {
      this.literal = literal;
      this.literalAt = 1;
      this.state = S.Literal;
    } else if (b === 0x4e || b === 0x49) this.fail("NaN and Infinity are not valid JSON");
    else this.fail(`unexpected ${describe(b)} where a value should start`);
  }

  private afterValue(b: number): void {
    const top = this.stack[this.depthNow - 1];
    if (b === 0x2c) {
      this.state = top === OBJECT ? S.ObjKey : S.Value;
    } else if ((b === 0x7d && top === OBJECT) || (b === 0x5d && top === ARRAY)) {
      this.close();
    } else {
      this.fail(`unexpected ${describe(b)} after a value`);
    }
  }

  private step(b: number): void {
    const ws = b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
    switch (this.state) {
      case S.Value:
        if (!ws) this.startValue(b);
        return;
      case S.ArrFirst:
        if (ws) return;
        if (b === 0x5d) this.close();
        else this.startValue(b);
        return;
      case S.ObjFirstKey:
      case S.ObjKey:
        if (ws) return;
        if (b === 0x22) {
          this.state = S.Str;
          this.inKey = true;
          this.keyLength = 0;
        } else if (b === 0x7d && this.state === S.ObjFirstKey) this.close();
        else this.fail(`unexpected ${describe(b)} where a key should be`);
        return;
      case S.Colon:
        if (ws) return;
        if (b === 0x3a) this.state = S.Value;
        else this.fail(`unexpected ${describe(b)} where ':' should be`);
        return;
      case S.AfterValue:
        if (!ws) this.afterValue(b);
        return;
      case S.Done:
        if (!ws) this.fail(`unexpected ${describe(b)} after the end of the JSON value`);
        return;
      case S.Str:
        this.stringByte(b);
        return;
      case S.StrEsc:
        this.keyByte(b);
        if (b === 0x75) {
          this.state = S.StrHex;
          this.hexLeft = 4;
        } else if ('"\\/bfnrt'.includes(String.fromCharCode(b))) this.state = S.Str;
        else this.fail(`invalid escape \\${String.fromCharCode(b)}`);
        return;
      case S.StrHex:
        this.keyByte(b);
        if (!/[0-9a-fA-F]/.test(String.fromCharCode(b))) this.fail("invalid \\u escape");
        else if (--this.hexLeft === 0) this.state = S.Str;
        return;
      case S.Literal:
        if (b !== this.literal.charCodeAt(this.literalAt)) this.fail(`invalid literal (expected ${this.literal})`);
        else if (++this.literalAt === this.literal.length) this.closeValue();
        return;
      default:
        this.numberByte(b);
    }
  }

  private stringByte(b: number): void {
    if (b !== 0x22 || this.utf8Left > 0) this.keyByte(b);
    if (this.utf8Left > 0) {
      if (b < this.utf8Lo || b > this.utf8Hi) this.fail("invalid UTF-8 in a string");
      this.utf8Lo = 0x80;
      this.utf8Hi = 0xbf;
      this.utf8Left--;
      return;
    }
    if (b === 0x22) {
      if (this.inKey) {
        this.inKey = false;
        this.state = S.Colon;
        this.onKey?.(this.key.subarray(0, this.keyLength), this.depthNow);
      } else this.closeValue();
    } else if (b === 0x5c) this.state = S.StrEsc;
    else if (b < 0x20)
      this.fail(b === 0x0a ? "a string runs past the end of the line" : "a control character inside a string");
    else if (b >= 0x80) {
      // The first continuation byte's range is narrower after E0, ED, F0 and F4 (Unicode table 3-7): that is what
      // refuses overlong forms, UTF-16 surrogates and code points past U+10FFFF, which DuckDB refuses later (BUG 9).
      if (b >= 0xc2 && b <= 0xdf) this.utf8Left = 1;
      else if (b >= 0xe0 && b <= 0xef) this.utf8Left = 2;
      else if (b >= 0xf0 && b <= 0xf4) this.utf8Left = 3;
      else this.fail("invalid UTF-8 in a string");
      this.utf8Lo = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80;
      this.utf8Hi = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf;
    }
  }

  /** Keeps a byte of the key being read, when someone listens for keys. */
  private keyByte(b: number): void {
    if (!this.inKey || !this.onKey || this.keyLength >= MAX_KEY_BYTES) return;
    if (this.keyLength === this.key.length) {
      const bigger = new Uint8Array(Math.min(this.key.length * 2, MAX_KEY_BYTES));
      bigger.set(this.key);
      this.key = bigger;
    }
    this.key[this.keyLength++] = b;
  }

  private close(): void {
    this.onClose?.(this.depthNow);
    this.depthNow--;
    this.closeValue();
  }

  private numberByte(b: number): void {
    const digit = b >= 0x30 && b <= 0x39;
    switch (this.state) {
      case S.NumMinus:
        if (b === 0x30) this.state = S.NumZero;
        else if (digit) this.state = S.NumInt;
        else this.fail(b === 0x49 ? "NaN and Infinity are not valid JSON" : "a '-' not followed by a digit");
        if (digit) this.intText += String.fromCharCode(b);
        return;
      case S.NumZero:
      case S.NumInt:
        if (digit && this.state === S.NumInt) {
          if (this.intText.length < 24) this.intText += String.fromCharCode(b);
          return;
        }
        if (digit) {
          this.fail("a number with a leading zero");
          return;
        }
        if (b === 0x2e || b === 0x65 || b === 0x45) {
          this.integer = false;
          this.state = b === 0x2e ? S.NumDot : S.NumE;
        } else this.endNumber(b);
        return;
      case S.NumDot:
        if (digit) this.state = S.NumFrac;
        else this.fail("a '.' not followed by a digit");
        return;
      case S.NumFrac:
        if (digit) return;
        if (b === 0x65 || b === 0x45) this.state = S.NumE;
        else this.endNumber(b);
        return;
      case S.NumE:
        if (b === 0x2b || b === 0x2d) this.state = S.NumESign;
        else if (digit) this.state = S.NumExp;
        else this.fail("an exponent without digits");
        return;
      case S.NumESign:
        if (digit) this.state = S.NumExp;
        else this.fail("an exponent without digits");
        return;
      case S.NumExp:
        if (!digit) this.endNumber(b);
        return;
    }
  }

  private endNumber(b: number): void {
    if (this.integer && this.onBigInteger && this.intText.length >= 20 && outside64(this.intText)) {
      this.onBigInteger(this.depthNow);
    }
    this.closeValue();
    this.step(b);
  }
}

function outside64(int: string): boolean {
  if (int.replace("-", "").length > 20) return true;
  const v = BigInt(int);
  return v > 18446744073709551615n || v < -9223372036854775808n;
}

function describe(b: number): string {
  if (b >= 0x21 && b < 0x7f) return `'${String.fromCharCode(b)}'`;
  return `byte 0x${b.toString(16).padStart(2, "0")}`;
}
