/** A customer of the console tests (seed 004's own example values), with `extra` fields over it. */
export const customer = (code: string, extra: Record<string, unknown> = {}) => ({
  code,
  name: "江苏中威科技",
  mac: "56:E8:F6:23:EF",
  tcphost: "61.155.85.77",
  tcpport: "10003",
  webhost: "61.155.85.77",
  webport: 10001,
  filehost: "files.example.com",
  fileport: "10004",
  timeout: "2099-09-21",
  contact: "杨燕龙",
  ctel: "15151390310",
  server: "宋卫南",
  ...extra,
});
