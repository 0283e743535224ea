/** A statement that cannot be read; `line` is where the problem is (0 when the caller knows it better). */
export class SqlSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}
