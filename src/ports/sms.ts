/** Sends one verification code. Rejects when the provider failed (the caller reports -8000). */
export interface SmsSender {
  readonly name: string;
  send(mobile: string, code: string): Promise<void>;
}
