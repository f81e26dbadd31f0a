/** Response examples copied from the chat33 API document (seed 002), by route. */
export const SEED_RESPONSES: Readonly<Record<string, unknown>> = {
  "/send/sms": {
    result: 0,
    message: "操作成功",
    data: {},
  },
  "/user/pwdLogin": {
    result: 0,
    message: "操作成功",
    data: {
      account: "8612345678",
      avatar: "",
      id: "3306",
      uid: "200884",
      user_level: 1,
      username: "dafdaf",
      verified: 0,
      token: "fdasfdgsadfwerf",
    },
  },
  "/user/tokenLogin": {
    result: 0,
    message: "操作成功",
    data: {
      account: "8612345678",
      avatar: "",
      id: "3306",
      uid: "200884",
      user_level: 1,
      username: "dafdaf",
      verified: 0,
    },
  },
  "/user/editAvatar": {
    result: 0,
    message: "操作成功",
    data: {},
  },
  "/user/editNickname": {
    result: 0,
    message: "操作成功",
    data: {},
  },
  "/user/muted": {
    result: 0,
    message: "操作成功",
    data: {},
  },
  "/friend/add": {
    result: 0,
    message: "操作成功",
    data: {},
  },
  "/friend/delete": {
    result: 0,
    message: "操作成功",
    data: {},
  },
  "/friend/response": {
    result: 0,
    message: "操作成功",
    data: {},
  },
  "/friend/requestList": {
    result: 0,
    message: "操作成功",
    data: [
      {
        avatar: "https://img2.woyaogexing.com/2018/10/03/266b6ca89bba410b83958fd46af04a6b!400x400.jpeg",
        id: "8",
        reason: "快同意",
        sex: "",
        status: 1,
        time: "1539740934915",
        username: "你的素颜如水",
      },
    ],
  },
  "/friend/chatLog": {
    result: 0,
    message: "操作成功",
    data: {
      logs: [
        {
          channelType: 3,
          datetime: "1537955497824",
          fromId: "4",
          logId: "4",
          msg: {
            content: "他",
          },
          msgType: 1,
          remark: "亚索",
          senderInfo: [
            {
              avatar: "头像地址",
              name: "chatvWFYGWSHvD",
            },
          ],
          targetId: "1",
        },
      ],
      nextLog: "3",
    },
  },
};
