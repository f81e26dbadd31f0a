/** Parley's client SDK for the chat33 API: docs/sdk.md. */
export { type ClientOptions, ParleyClient } from "./client.ts";
export { type ApiOptions, Chat33Api } from "./http.ts";
export {
  type Backoff,
  backoffDelay,
  Chat33Socket,
  DEFAULT_BACKOFF,
  type SocketOptions,
  type SocketState,
  type WebSocketFactory,
  type WebSocketLike,
} from "./socket.ts";
export { type Conversation, ConversationStore, type ConvKey, convKey, frameToLog, type StoreOptions } from "./store.ts";
export * from "./types.ts";
