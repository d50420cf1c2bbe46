/** The fields of an ErrorResponse / NoticeResponse the router writes (PostgreSQL's field codes). */
export interface ErrorFields {
  severity: 'FATAL' | 'ERROR' | 'WARNING' | 'NOTICE' | 'LOG';
  /** SQLSTATE, five characters. */
  code: string;
  message: string;
  detail?: string;
  hint?: string;
}

function encode(type: 'E' | 'N', fields: ErrorFields): Buffer {
  const entries: Array<[string, string]> = [
    ['S', fields.severity],
    ['V', fields.severity],
    ['C', fields.code],
    ['M', fields.message],
  ];
  if (fields.detail !== undefined) entries.push(['D', fields.detail]);
  if (fields.hint !== undefined) entries.push(['H', fields.hint]);
  const parts: Buffer[] = [];
  for (const [key, value] of entries) parts.push(Buffer.from(key + value.replace(/\0/g, ''), 'utf8'), Buffer.from([0]));
  parts.push(Buffer.from([0]));
  const body = Buffer.concat(parts);
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([header, body]);
}

export function errorResponse(fields: ErrorFields): Buffer {
  return encode('E', fields);
}

export function noticeResponse(fields: ErrorFields): Buffer {
  return encode('N', fields);
}

/** Reads the fields of an ErrorResponse/NoticeResponse body (after the 5-byte header). */
export function parseErrorFields(body: Buffer): Map<string, string> {
  const fields = new Map<string, string>();
  let offset = 0;
  while (offset < body.length && body[offset] !== 0) {
    const end = body.indexOf(0, offset + 1);
    if (end < 0) break;
    fields.set(String.fromCharCode(body[offset] as number), body.toString('utf8', offset + 1, end));
    offset = end + 1;
  }
  return fields;
}
