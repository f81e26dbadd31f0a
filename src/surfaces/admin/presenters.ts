import type { User } from "../../ports/storage/accounts.ts";
import type { Company, Department, DictEntry, License, Role } from "../../ports/storage/org.ts";
import { COMPANY_ATTR_KEYS } from "./schemas.ts";

/** A user as the admin API shows it: string `id`, never the password hash. */
export function presentUser(u: User) {
  return {
    id: String(u.id),
    uid: u.uid,
    mobile: u.mobile,
    username: u.username,
    nickname: u.nickname,
    avatar: u.avatar,
    sex: u.sex,
    position: u.position,
    email: u.email,
    level: u.level,
    admin: u.isAdmin,
    verified: u.verified,
    mutedUntil: u.mutedUntil,
    companyId: u.companyId,
    deptId: u.deptId,
    roleId: u.roleId,
    disabled: u.disabled,
    createdAt: u.createdAt,
    updatedAt: u.updatedAt,
  };
}

/** A company with the documented 001 extra fields flattened (null when unset). */
export function presentCompany(c: Company) {
  const extra: Record<string, unknown> = {};
  for (const k of COMPANY_ATTR_KEYS) extra[k] = c.attrs[k] ?? null;
  return {
    id: c.id,
    text: c.text,
    avatar: c.avatar,
    note: c.note,
    enable: c.enable,
    licenseId: c.licenseId,
    code: c.code,
    pid: c.pid,
    level: c.level,
    url: c.url,
    ...extra,
    createdAt: c.createdAt,
  };
}

export function presentDepartment(d: Department) {
  return {
    id: d.id,
    companyId: d.companyId,
    parentId: d.parentId,
    text: d.text,
    note: d.note,
    code: d.code,
    ownerId: d.ownerId,
    level: d.level,
    createdAt: d.createdAt,
  };
}

export const presentRole = (r: Role) => ({
  id: r.id,
  companyId: r.companyId,
  text: r.text,
  admin: r.admin,
  note: r.note,
});

export const presentLicense = (l: License) => ({
  id: l.id,
  text: l.text,
  maxlevel: l.maxlevel,
  single: l.single,
  userCount: l.userCount,
});

export const presentDict = (d: DictEntry) => ({ id: d.id, type: d.type, text: d.text, code: d.code, url: d.url });
