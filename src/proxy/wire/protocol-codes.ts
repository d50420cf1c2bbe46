/** Request codes that take the place of a protocol version in the first packet (PostgreSQL's pqcomm.h). */
export const SSL_REQUEST_CODE = 80877103;
export const GSSENC_REQUEST_CODE = 80877104;
export const CANCEL_REQUEST_CODE = 80877102;

/** Bounds PostgreSQL itself applies to a startup packet (MAX_STARTUP_PACKET_LENGTH). */
export const MIN_STARTUP_PACKET_LENGTH = 8;
export const MAX_STARTUP_PACKET_LENGTH = 10000;

/** A TLS record of type handshake: the first byte of a direct-TLS ClientHello (PG 17 sslnegotiation=direct). */
export const TLS_HANDSHAKE_RECORD = 0x16;

/** PG 18 cancel keys may be longer than 4 bytes; PostgreSQL caps them at 256. */
export const MIN_CANCEL_SECRET_LENGTH = 4;
export const MAX_CANCEL_SECRET_LENGTH = 256;
