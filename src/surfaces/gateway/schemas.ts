import { type TSchema, Type } from "@sinclair/typebox";

/** `data` is passed through unchanged: the seed allows a string, an array or an object. */
const Data = Type.Union([Type.String(), Type.Array(Type.Unknown()), Type.Object({}, { additionalProperties: true })], {
  description: "message content, passed through unchanged (string, array or object)",
});

const ClientId = Type.String({ minLength: 1, maxLength: 128, description: "client id from the /ws first frame" });
const GroupName = Type.String({ minLength: 1, maxLength: 256, description: "group name" });
const SendUserId = Type.String({ maxLength: 256, description: "sender id (free text, passed through)" });
const Code = Type.Integer({
  minimum: -2_147_483_648,
  maximum: 2_147_483_647,
  description: "custom status code (32-bit), passed through",
});
const Msg = Type.String({ maxLength: 4096, description: "custom status message, passed through" });

const strict = { additionalProperties: false };

export const RegisterBody = Type.Object(
  {
    systemId: Type.String({ minLength: 1, maxLength: 128, pattern: "^[^\\s]+$", description: "system id" }),
    secret: Type.Optional(
      Type.String({
        minLength: 16,
        maxLength: 256,
        description: "Parley extension: when set, API calls of this system must send it in the SystemSecret header",
      }),
    ),
  },
  strict,
);

export const SendToClientBody = Type.Object(
  { clientId: ClientId, sendUserId: SendUserId, code: Code, msg: Msg, data: Data },
  strict,
);

export const sendToClientsBody = (maxItems: number) =>
  Type.Object(
    {
      clientIds: Type.Array(ClientId, { minItems: 1, maxItems, description: "client ids" }),
      sendUserId: SendUserId,
      code: Code,
      msg: Msg,
      data: Data,
    },
    strict,
  );

export const BindBody = Type.Object(
  {
    clientId: ClientId,
    groupName: GroupName,
    sendUserId: Type.Optional(SendUserId),
    userId: Type.Optional(Type.String({ maxLength: 256, description: "user id shown in online/offline notices" })),
    extend: Type.Optional(Type.String({ maxLength: 4096, description: "extra info shown in online/offline notices" })),
  },
  strict,
);

export const SendToGroupBody = Type.Object(
  { sendUserId: SendUserId, groupName: GroupName, code: Code, msg: Msg, data: Data },
  strict,
);

export const OnlineListBody = Type.Object(
  {
    groupName: Type.Optional(Type.String({ maxLength: 256, description: "group name; empty = all clients" })),
    // The seed lists these for get_online_list (a copy-paste in the original document); accepted and ignored.
    code: Type.Optional(Code),
    msg: Type.Optional(Msg),
    data: Type.Optional(Type.Unknown()),
  },
  strict,
);

export const CloseBody = Type.Object({ clientId: ClientId }, strict);

const envelope = (data: TSchema) =>
  Type.Object({ code: Type.Integer(), msg: Type.String(), data }, { description: "code 0 = success" });

export const Responses = {
  empty: envelope(Type.Unknown({ description: "[] on success" })),
  messageId: envelope(Type.Object({ messageId: Type.String() })),
  onlineList: envelope(Type.Object({ count: Type.Integer(), list: Type.Array(Type.String()) })),
  closed: envelope(Type.Object({})),
};

export const SystemHeaders = Type.Object({
  systemid: Type.Optional(Type.String({ description: "SystemId: the registered system id" })),
  systemsecret: Type.Optional(Type.String({ description: "SystemSecret: required when the system has a secret" })),
});
