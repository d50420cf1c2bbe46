/**
 * Messages relayed one after another are usually views into the same received chunk: joined,
 * they are one view of it, with no copy. Only when they are not (a message that straddled
 * chunks, a gap where the router kept a message back) are they copied into one buffer.
 */
export function joinMessages(parts: readonly Buffer[]): Buffer {
  if (parts.length === 1) return parts[0]!;
  const first = parts[0]!;
  let end = first.byteOffset + first.length;
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i]!;
    if (part.buffer !== first.buffer || part.byteOffset !== end) return Buffer.concat(parts as Buffer[]);
    end += part.length;
  }
  return Buffer.from(first.buffer, first.byteOffset, end - first.byteOffset);
}
