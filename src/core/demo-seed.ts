import type { Company, Repos } from "../ports/storage.ts";
import type { AccountService } from "./accounts/account-service.ts";
import { conflict } from "./errors.ts";
import type { OrgService } from "./org/org-service.ts";

/** The demo company's name; its presence means "already seeded". */
export const DEMO_COMPANY = "Parley Demo";

/**
 * The password of every demo user. Public on purpose (printed, documented): demo data is for
 * trying Parley out, never for a deployment other people can reach.
 */
export const DEMO_PASSWORD = "parley-demo";

export interface DemoUser {
  id: number;
  uid: string;
  username: string;
  mobile: string;
  nickname: string;
  password: string;
  admin: boolean;
  department: string;
  role: string;
}

export type DemoSeedResult =
  | { created: false; company: Company }
  | { created: true; company: Company; users: DemoUser[] };

const DEPARTMENTS = [
  { key: "hq", text: "总部", parent: null, code: "HQ" },
  { key: "rd", text: "研发部", parent: "hq", code: "RD" },
  { key: "mkt", text: "市场部", parent: "hq", code: "MKT" },
] as const;

const USERS = [
  {
    username: "admin",
    mobile: "13800000000",
    nickname: "管理员",
    position: "系统管理员",
    dept: "hq",
    role: "admin",
    sex: 0,
  },
  {
    username: "alice",
    mobile: "13800000001",
    nickname: "张丽",
    position: "研发经理",
    dept: "rd",
    role: "staff",
    sex: 2,
  },
  { username: "bob", mobile: "13800000002", nickname: "王博", position: "工程师", dept: "rd", role: "staff", sex: 1 },
  {
    username: "carol",
    mobile: "13800000003",
    nickname: "李卡",
    position: "市场经理",
    dept: "mkt",
    role: "staff",
    sex: 2,
  },
  {
    username: "dave",
    mobile: "13800000004",
    nickname: "赵大伟",
    position: "市场专员",
    dept: "mkt",
    role: "staff",
    sex: 1,
  },
] as const;

/**
 * Creates the demo organisation: a license, the company "Parley Demo", a department tree
 * (总部 → 研发部, 市场部), two roles (管理员 admin, 员工) and five users who can log in with
 * DEMO_PASSWORD by username (enterprise `/auth/login`) or mobile (chat33 `/user/pwdLogin`).
 *
 * Idempotent-ish: when the demo company exists nothing is written (`created: false`). When it
 * does not but a demo username/mobile is taken, it refuses (`conflict`) before writing anything.
 */
export async function seedDemo(deps: {
  storage: Pick<Repos, "org" | "users">;
  accounts: AccountService;
  org: OrgService;
}): Promise<DemoSeedResult> {
  const { storage, accounts, org } = deps;
  const existing = (await storage.org.companies()).find((c) => c.text === DEMO_COMPANY);
  if (existing) return { created: false, company: existing };
  for (const u of USERS) {
    if ((await storage.users.findByUsername(u.username)) || (await storage.users.findByMobile(u.mobile)))
      throw conflict(
        "user_exists",
        `demo user ${u.username} / ${u.mobile} already exists; seed a fresh data directory`,
      );
  }

  const license = await org.createLicense({ text: "演示版", maxlevel: 5, single: 20, userCount: 50 });
  const company = await org.createCompany({
    text: DEMO_COMPANY,
    note: "演示数据 (parley seed --demo)",
    licenseId: license.id,
    code: "demo",
    attrs: { rangeText: "1-49人", industryText: "软件和信息技术服务业" },
  });
  const depts = new Map<string, { id: number; text: string }>();
  for (const d of DEPARTMENTS) {
    const parentId = d.parent ? (depts.get(d.parent)?.id ?? null) : null;
    const dept = await org.createDepartment({ companyId: company.id, parentId, text: d.text, code: d.code });
    depts.set(d.key, dept);
  }
  const roles = {
    admin: await org.createRole({ companyId: company.id, text: "管理员", admin: true, note: "演示管理员" }),
    staff: await org.createRole({ companyId: company.id, text: "员工", note: "普通员工" }),
  };

  const users: DemoUser[] = [];
  for (const u of USERS) {
    const dept = depts.get(u.dept);
    const role = roles[u.role];
    const user = await accounts.createUser({
      username: u.username,
      mobile: u.mobile,
      password: DEMO_PASSWORD,
      nickname: u.nickname,
      position: u.position,
      sex: u.sex,
      email: `${u.username}@demo.parley.invalid`,
      isAdmin: u.role === "admin",
      verified: true,
      companyId: company.id,
      deptId: dept?.id ?? null,
      roleId: role.id,
    });
    users.push({
      id: user.id,
      uid: user.uid,
      username: u.username,
      mobile: u.mobile,
      nickname: u.nickname,
      password: DEMO_PASSWORD,
      admin: user.isAdmin,
      department: dept?.text ?? "",
      role: role.text,
    });
  }
  return { created: true, company, users };
}
