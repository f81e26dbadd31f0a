import type { AccountService, LoginResult } from "../../core/accounts/account-service.ts";
import type { OrgService } from "../../core/org/org-service.ts";
import type { User } from "../../ports/storage/accounts.ts";
import type { Attrs, Company, Department, DictEntry, License, Role } from "../../ports/storage/org.ts";

/**
 * Core entities → the enterprise wire shapes (field names exactly as in seed 001). Parley stores
 * "not set" text as an empty string; the seed shows `null` for absent values, so optional text is
 * sent as null when empty.
 */

const orNull = (s: string | null | undefined): string | null => (s === undefined || s === null || s === "" ? null : s);
const flag = (b: boolean): 0 | 1 => (b ? 1 : 0);

export interface UserVo {
  id: number;
  birthday: string | null;
  avatar: string | null;
  email: string | null;
  phone: string | null;
  sign: string | null;
  trueName: string;
  username: string | null;
  sex: number | null;
  workState: null;
  enable: 0 | 1;
}

export interface DeptVo {
  id: number;
  note: string | null;
  code: string | null;
  pid: string;
  text: string;
  leaf: 0 | 1;
  level: number;
  ownerId: number | null;
  companyId: number;
  ownerName: string | null;
  userCount: number;
  userContainChild: number;
  childDeptCount: number;
}

export interface RoleVo {
  id: number;
  text: string;
  companyId: number;
  admin: 0 | 1;
  note: string | null;
}

export interface LicenseVo {
  id: number;
  text: string;
  maxlevel: number;
  single: number;
  userCount: number;
}

export interface SexVo {
  id: number;
  text: string;
  url: string | null;
  type: null;
  code: string;
}

/** The company fields of the seed that Parley keeps in `company.attrs` (absent → null). */
const COMPANY_ATTRS = [
  "createUser",
  "rangeId",
  "industryId",
  "typeId",
  "regionId",
  "rangeText",
  "industryText",
  "regionText",
  "typeText",
  "customerId",
] as const;

export type CompanyVo = {
  id: number;
  text: string;
  avatar: string | null;
  note: string | null;
  enable: 0 | 1;
  licenseId: number | null;
  url: string | null;
  code: string | null;
  pid: string | null;
  leaf: 0 | 1;
  primaryId: Attrs[string];
  level: number;
  authCompanyIds: Attrs[string];
  children: null;
} & { [K in (typeof COMPANY_ATTRS)[number]]: Attrs[string] };

/** What `/api/left_user_info` and `/auth/login` share. */
export interface Profile {
  user: UserVo;
  sex: SexVo | null;
  dept: DeptVo | null;
  company: CompanyVo | null;
  role: RoleVo | null;
  license: LicenseVo | null;
}

/** `/auth/login` data (also the QR-login socket frame's data). */
export interface LoginVo {
  user: UserVo;
  dept: DeptVo | null;
  role: RoleVo | null;
  company: CompanyVo | null;
  license: LicenseVo | null;
  deviceVo: { brand: string; device: string; platform: string };
  authorization: string;
}

export function userVo(u: User, sex: DictEntry | null): UserVo {
  return {
    id: u.id,
    birthday: u.birthday,
    avatar: orNull(u.avatar),
    email: orNull(u.email),
    phone: u.mobile,
    sign: u.sign,
    trueName: u.nickname,
    username: u.username,
    sex: sex ? sex.id : null,
    workState: null,
    enable: flag(!u.disabled),
  };
}

export const sexVo = (e: DictEntry): SexVo => ({ id: e.id, text: e.text, url: e.url, type: null, code: e.code });

export const roleVo = (r: Role): RoleVo => ({
  id: r.id,
  text: r.text,
  companyId: r.companyId,
  admin: flag(r.admin),
  note: orNull(r.note),
});

export const licenseVo = (l: License): LicenseVo => ({
  id: l.id,
  text: l.text,
  maxlevel: l.maxlevel,
  single: l.single,
  userCount: l.userCount,
});

export function companyVo(c: Company, hasChildren: boolean): CompanyVo {
  const attr = (k: string): Attrs[string] => (Object.hasOwn(c.attrs, k) ? c.attrs[k] : null);
  const extra = Object.fromEntries(COMPANY_ATTRS.map((k) => [k, attr(k)])) as {
    [K in (typeof COMPANY_ATTRS)[number]]: Attrs[string];
  };
  return {
    id: c.id,
    text: c.text,
    avatar: orNull(c.avatar),
    note: orNull(c.note),
    enable: flag(c.enable),
    licenseId: c.licenseId,
    ...extra,
    url: orNull(c.url),
    code: orNull(c.code),
    pid: orNull(c.pid),
    leaf: flag(!hasChildren),
    primaryId: attr("primaryId"),
    level: c.level,
    authCompanyIds: attr("authCompanyIds"),
    children: null,
  };
}

/**
 * A department with its tree figures, computed from the company's departments: `pid` is the
 * parent id as text ("0" for a root department), `childDeptCount` counts direct children,
 * `userCount` the department's own members, `userContainChild` members of it and every descendant.
 */
export function deptVo(
  d: Department,
  all: readonly Department[],
  counts: ReadonlyMap<number, number>,
  ownerName: string | null,
): DeptVo {
  const children = new Map<number, number[]>();
  for (const x of all) {
    if (x.parentId === null) continue;
    const list = children.get(x.parentId) ?? [];
    list.push(x.id);
    children.set(x.parentId, list);
  }
  let total = 0;
  const seen = new Set<number>();
  const stack = [d.id];
  while (stack.length) {
    const id = stack.pop() as number;
    if (seen.has(id)) continue;
    seen.add(id);
    total += counts.get(id) ?? 0;
    stack.push(...(children.get(id) ?? []));
  }
  const direct = children.get(d.id)?.length ?? 0;
  return {
    id: d.id,
    note: orNull(d.note),
    code: orNull(d.code),
    pid: d.parentId === null ? "0" : String(d.parentId),
    text: d.text,
    leaf: flag(direct === 0),
    level: d.level,
    ownerId: d.ownerId,
    companyId: d.companyId,
    ownerName,
    userCount: counts.get(d.id) ?? 0,
    userContainChild: total,
    childDeptCount: direct,
  };
}

/** Loads and presents everything the enterprise client shows about a user. */
export class Presenter {
  constructor(
    private readonly org: OrgService,
    private readonly accounts: Pick<AccountService, "findUser">,
  ) {}

  async profile(user: User): Promise<Profile> {
    const repo = this.org;
    const [sex, company, role, dept] = await Promise.all([
      this.org.sexEntry(user.sex),
      user.companyId !== null ? repo.company(user.companyId) : null,
      user.roleId !== null ? repo.role(user.roleId) : null,
      user.deptId !== null ? repo.department(user.deptId) : null,
    ]);
    const [license, companyOut, deptOut] = await Promise.all([
      company?.licenseId != null ? repo.license(company.licenseId) : null,
      company ? this.company(company) : null,
      dept ? this.dept(dept) : null,
    ]);
    return {
      user: userVo(user, sex),
      sex: sex ? sexVo(sex) : null,
      dept: deptOut,
      company: companyOut,
      role: role ? roleVo(role) : null,
      license: license ? licenseVo(license) : null,
    };
  }

  /** The `/auth/login` object for a fresh session. */
  async login(login: LoginResult): Promise<LoginVo> {
    const p = await this.profile(login.user);
    return {
      user: p.user,
      dept: p.dept,
      role: p.role,
      company: p.company,
      license: p.license,
      deviceVo: {
        brand: login.user.username || login.user.nickname,
        device: login.session.deviceId,
        platform: login.session.platform,
      },
      authorization: login.token,
    };
  }

  private async company(c: Company): Promise<CompanyVo> {
    const id = String(c.id);
    const hasChildren = (await this.org.companies()).some((x) => x.pid === id && x.id !== c.id);
    return companyVo(c, hasChildren);
  }

  private async dept(d: Department): Promise<DeptVo> {
    const [all, counts, owner] = await Promise.all([
      this.org.departments(d.companyId),
      this.org.departmentUserCounts(d.companyId),
      d.ownerId !== null ? this.accounts.findUser(d.ownerId) : null,
    ]);
    return deptVo(d, all, counts, owner ? owner.nickname : null);
  }
}
