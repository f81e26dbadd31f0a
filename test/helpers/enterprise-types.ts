/** Wire shapes of the enterprise surface (seed 001), as the tests read them. */
export type Env<T = unknown> = { data: T; code: number; msg: string };
/** A socket frame. */
export type Frame<T = unknown> = { code: number; msg: string; data: T };

/** A `find_single_msg` / `find_group_msg` item (also the `data` of the 1100/1101 frames). */
export interface Item {
  senderId: number;
  receiverId: number;
  content: string;
  sendTime: number;
  state: 0 | 2;
  type: number;
  platform: null;
  name: string;
  avatar: string | null;
  id: string;
  seq: number;
}

/** A `my_session` entry. */
export interface Session {
  senderId: number | null;
  receiverId: number | null;
  content: string | null;
  sendTime: number | null;
  state: 0 | 2;
  type: number | null;
  platform: null;
  name: string;
  avatar: string | null;
  otherAvatar: string | null;
  otherName: string | null;
  miniType: number;
  count: number;
  id: string | null;
}
