/**
 * One statement's own text out of a multi-statement string, for replaying it on another link.
 *
 * libpg_query reports each statement's position (`stmt_location`, `stmt_len`) in bytes of the
 * UTF-8 text it parsed, not in JavaScript string indexes; a length of 0 means "to the end".
 */
const ASCII_ONLY = /^[\x00-\x7f]*$/;

export class StatementText {
  private readonly ascii: boolean;
  private bytes: Buffer | undefined;

  constructor(private readonly text: string) {
    this.ascii = ASCII_ONLY.test(text);
  }

  /** The statement at `location` for `length` bytes, without surrounding blanks. */
  slice(location: number | undefined, length: number | undefined): string {
    const start = location ?? 0;
    if (this.ascii) return this.text.slice(start, length ? start + length : undefined).trim();
    this.bytes ??= Buffer.from(this.text, 'utf8');
    return this.bytes.toString('utf8', start, length ? start + length : this.bytes.length).trim();
  }
}
