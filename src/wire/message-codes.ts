/**
 * The PostgreSQL wire protocol's codes, in one table (PostgreSQL's protocol.h and pqcomm.h).
 * Every other module names a message by these words, never by its byte.
 */

/** Type bytes of messages a server sends. */
export const BackendCode = {
  Authentication: 0x52, // R
  BackendKeyData: 0x4b, // K
  BindComplete: 0x32, // 2
  CloseComplete: 0x33, // 3
  CommandComplete: 0x43, // C
  CopyBothResponse: 0x57, // W
  CopyData: 0x64, // d
  CopyDone: 0x63, // c
  CopyInResponse: 0x47, // G
  CopyOutResponse: 0x48, // H
  DataRow: 0x44, // D
  EmptyQueryResponse: 0x49, // I
  ErrorResponse: 0x45, // E
  FunctionCallResponse: 0x56, // V
  NegotiateProtocolVersion: 0x76, // v
  NoData: 0x6e, // n
  NoticeResponse: 0x4e, // N
  NotificationResponse: 0x41, // A
  ParameterDescription: 0x74, // t
  ParameterStatus: 0x53, // S
  ParseComplete: 0x31, // 1
  PortalSuspended: 0x73, // s
  ReadyForQuery: 0x5a, // Z
  RowDescription: 0x54, // T
} as const;
export type BackendCode = (typeof BackendCode)[keyof typeof BackendCode];

/** Type bytes of messages a client sends after its startup packet. */
export const FrontendCode = {
  Bind: 0x42, // B
  Close: 0x43, // C
  CopyData: 0x64, // d
  CopyDone: 0x63, // c
  CopyFail: 0x66, // f
  Describe: 0x44, // D
  Execute: 0x45, // E
  Flush: 0x48, // H
  FunctionCall: 0x46, // F
  Parse: 0x50, // P
  /** PasswordMessage, SASLInitialResponse, SASLResponse and GSSResponse share this byte. */
  Password: 0x70, // p
  Query: 0x51, // Q
  Sync: 0x53, // S
  Terminate: 0x58, // X
} as const;
export type FrontendCode = (typeof FrontendCode)[keyof typeof FrontendCode];

/** The int32 after an Authentication ('R') message's length. */
export const AuthCode = {
  Ok: 0,
  KerberosV5: 2,
  CleartextPassword: 3,
  MD5Password: 5,
  GSS: 7,
  GSSContinue: 8,
  SSPI: 9,
  SASL: 10,
  SASLContinue: 11,
  SASLFinal: 12,
} as const;
export type AuthCode = (typeof AuthCode)[keyof typeof AuthCode];

/** The protocol version of the links the router opens itself (its auth query, its own logins), as libpq's. */
export const PROTOCOL_3_0 = { major: 3, minor: 0 } as const;

/** Format codes of Bind parameters and results. */
export const FormatCode = {
  Text: 0,
  Binary: 1,
} as const;

/** Request codes that take the place of a protocol version in the first packet. */
export const RequestCode = {
  SSL: 80877103,
  GSSENC: 80877104,
  Cancel: 80877102,
} as const;

/** What a Describe or Close message names: a prepared statement or a portal. */
export const DescribeTarget = {
  Statement: 0x53, // S
  Portal: 0x50, // P
} as const;

/** ReadyForQuery's status byte. */
export const TransactionStatus = {
  Idle: 0x49, // I
  InTransaction: 0x54, // T
  Failed: 0x45, // E
} as const;
export type TransactionStatus = (typeof TransactionStatus)[keyof typeof TransactionStatus];

/** The one-byte answers to an SSLRequest or GSSENCRequest. */
export const NegotiationAnswer = {
  Accept: 0x53, // S
  Refuse: 0x4e, // N
} as const;

/** A TLS record of type handshake: the first byte of a direct-TLS ClientHello (PG 17 sslnegotiation=direct). */
export const TLS_HANDSHAKE_RECORD = 0x16;

/** Bounds PostgreSQL itself applies to a startup packet (MAX_STARTUP_PACKET_LENGTH). */
export const MIN_STARTUP_PACKET_LENGTH = 8;
export const MAX_STARTUP_PACKET_LENGTH = 10000;

/** PG 18 cancel keys may be longer than 4 bytes; PostgreSQL caps them at 256. */
export const MIN_CANCEL_SECRET_LENGTH = 4;
export const MAX_CANCEL_SECRET_LENGTH = 256;

/** A message header: the type byte and the int32 length (which counts itself, not the type). */
export const HEADER_LENGTH = 5;

/** ErrorResponse / NoticeResponse field codes the router reads or writes. */
export const ErrorField = {
  Severity: 'S',
  SeverityNonLocalized: 'V',
  Code: 'C',
  Message: 'M',
  Detail: 'D',
  Hint: 'H',
} as const;

/** A type byte as the letter the protocol documentation names it by ('R', 'E'): for messages to people. */
export function codeLetter(code: number): string {
  return String.fromCharCode(code);
}
