/**
 * Message type bytes of PostgreSQL's frontend/backend protocol that pgferry reads itself, where it
 * takes over a session's socket during a COPY (the copy relay and the replication stream).
 * https://www.postgresql.org/docs/current/protocol-message-formats.html
 */
export const MessageType = {
  CopyData: 0x64, // d (both directions)
  CopyDone: 0x63, // c (both directions)
  CopyOutResponse: 0x48, // H
  CopyBothResponse: 0x57, // W
  ErrorResponse: 0x45, // E
  NoticeResponse: 0x4e, // N
  ParameterStatus: 0x53, // S
  NotificationResponse: 0x41, // A
} as const;
